"""Why a trial's configuration ran: a warm start, the user's own, a re-run, or the sampler.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("onegin_trials", sa.Column("origin", sa.String(16), nullable=True))


def downgrade() -> None:
    op.drop_column("onegin_trials", "origin")
