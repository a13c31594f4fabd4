"""Jobs and trials.

Revision ID: 0001
Revises:
Create Date: 2025-11-23
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True), "postgresql")


def _when() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "onegin_jobs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("owner", sa.String(255), nullable=True),
        sa.Column("config", _json(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("started_at", _when(), nullable=True),
        sa.Column("finished_at", _when(), nullable=True),
        sa.Column("best_trial_number", sa.Integer(), nullable=True),
        sa.Column("best_score", sa.Double(), nullable=True),
        sa.Column("best_accuracy", sa.Double(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("orchestrator_heartbeat_at", _when(), nullable=True),
    )
    op.create_index("ix_onegin_jobs_created_at", "onegin_jobs", ["created_at"])
    op.create_index("ix_onegin_jobs_owner", "onegin_jobs", ["owner"])
    op.create_table(
        "onegin_trials",
        sa.Column("job_id", sa.String(32),
                  sa.ForeignKey("onegin_jobs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("number", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("params", _json(), nullable=False),
        sa.Column("architecture_summary", sa.Text(), nullable=True),
        sa.Column("metrics", _json(), nullable=True),
        sa.Column("health", _json(), nullable=True),
        sa.Column("health_score", sa.Double(), nullable=True),
        sa.Column("total_score", sa.Double(), nullable=True),
        sa.Column("val_accuracy", sa.Double(), nullable=True),
        sa.Column("worker", sa.String(255), nullable=True),
        sa.Column("task_id", sa.String(255), nullable=True),
        sa.Column("queued_at", _when(), nullable=False),
        sa.Column("started_at", _when(), nullable=True),
        sa.Column("finished_at", _when(), nullable=True),
        sa.Column("heartbeat_at", _when(), nullable=True),
        sa.Column("artifact_prefix", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("retry_of", sa.Integer(), nullable=True),
        sa.Column("intermediate", _json(), nullable=False),
    )
    op.create_index("ix_onegin_trials_job_id_status", "onegin_trials", ["job_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_onegin_trials_job_id_status", table_name="onegin_trials")
    op.drop_table("onegin_trials")
    op.drop_index("ix_onegin_jobs_owner", table_name="onegin_jobs")
    op.drop_index("ix_onegin_jobs_created_at", table_name="onegin_jobs")
    op.drop_table("onegin_jobs")
