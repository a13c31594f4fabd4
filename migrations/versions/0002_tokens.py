"""API tokens for the web app (only a hash of each secret is stored).

Revision ID: 0002
Revises: 0001
Create Date: 2025-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "onegin_tokens",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("max_trials", sa.Integer(), nullable=True),
        sa.Column("max_epochs", sa.Integer(), nullable=True),
        sa.Column("max_concurrency", sa.Integer(), nullable=True),
    )
    op.create_index("ix_onegin_tokens_secret_hash", "onegin_tokens", ["secret_hash"],
                    unique=True)


def downgrade() -> None:
    op.drop_index("ix_onegin_tokens_secret_hash", table_name="onegin_tokens")
    op.drop_table("onegin_tokens")
