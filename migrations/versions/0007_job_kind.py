"""A job's kind (search or compare) and the comparison a child job belongs to.

``parent_id`` has no foreign key: adding one on SQLite copies the jobs table, and
with foreign keys on, dropping the old copy would cascade to every trial. A
deleted comparison leaves its runs as jobs of their own.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("onegin_jobs", sa.Column("kind", sa.String(16), nullable=False,
                                           server_default="search"))
    op.add_column("onegin_jobs", sa.Column("parent_id", sa.String(32), nullable=True))
    op.create_index("ix_onegin_jobs_parent_id", "onegin_jobs", ["parent_id"])


def downgrade() -> None:
    op.drop_index("ix_onegin_jobs_parent_id", table_name="onegin_jobs")
    op.drop_column("onegin_jobs", "parent_id")
    op.drop_column("onegin_jobs", "kind")
