"""Server-side browser sessions (sign-out ends them), and tokens' admin flag and last use.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("onegin_tokens") as batch:  # batch: SQLite alters by copying
        batch.add_column(sa.Column("admin", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "onegin_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("token_id", sa.String(32),
                  sa.ForeignKey("onegin_tokens.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_onegin_sessions_token_id", "onegin_sessions", ["token_id"])
    op.create_index("ix_onegin_sessions_expires_at", "onegin_sessions", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_onegin_sessions_expires_at", table_name="onegin_sessions")
    op.drop_index("ix_onegin_sessions_token_id", table_name="onegin_sessions")
    op.drop_table("onegin_sessions")
    with op.batch_alter_table("onegin_tokens") as batch:
        batch.drop_column("last_used_at")
        batch.drop_column("admin")
