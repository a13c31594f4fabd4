"""The SQLAlchemy tables: only the store and the migrations see rows (callers get `values`).

Table names carry an ``onegin_`` prefix because Optuna's RDB storage shares the
database and already owns ``trials``. migrations/ must create exactly this schema
(tests/onegin/test_records.py compares them).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(UTC)
        # SQLite has no time zones: store naive UTC.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# JSONB on PostgreSQL (indexable, compact); JSON text elsewhere. None is SQL NULL.
JSONType = sa.JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSONType,
    }


class JobRow(Base):
    __tablename__ = "onegin_jobs"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    owner: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    config: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(sa.String(16))
    created_at: Mapped[datetime] = mapped_column(index=True)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    best_trial_number: Mapped[int | None]
    best_score: Mapped[float | None] = mapped_column(sa.Double)
    best_accuracy: Mapped[float | None] = mapped_column(sa.Double)
    error: Mapped[str | None] = mapped_column(sa.Text)
    orchestrator_heartbeat_at: Mapped[datetime | None]
    # set while trials are sent and no worker starts any: since, gpu_queue_depth, checked_at
    waiting: Mapped[dict[str, Any] | None]
    # a search, or a comparison (onegin.job_kinds); a comparison's runs name it as parent
    kind: Mapped[str] = mapped_column(sa.String(16), server_default="search")
    parent_id: Mapped[str | None] = mapped_column(sa.String(32), index=True)


class TrialRow(Base):
    __tablename__ = "onegin_trials"
    __table_args__ = (sa.Index("ix_onegin_trials_job_id_status", "job_id", "status"),)

    job_id: Mapped[str] = mapped_column(
        sa.String(32), sa.ForeignKey("onegin_jobs.id", ondelete="CASCADE"), primary_key=True)
    number: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(sa.String(16))
    params: Mapped[dict[str, Any]]
    architecture_summary: Mapped[str | None] = mapped_column(sa.Text)
    metrics: Mapped[dict[str, Any] | None]
    health: Mapped[dict[str, Any] | None]
    health_score: Mapped[float | None] = mapped_column(sa.Double)
    total_score: Mapped[float | None] = mapped_column(sa.Double)
    val_accuracy: Mapped[float | None] = mapped_column(sa.Double)
    worker: Mapped[str | None] = mapped_column(sa.String(255))
    task_id: Mapped[str | None] = mapped_column(sa.String(255))
    queued_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    artifact_prefix: Mapped[str | None] = mapped_column(sa.Text)
    error: Mapped[str | None] = mapped_column(sa.Text)
    retry_of: Mapped[int | None]
    # why this configuration ran: warm_start, initial (the user's), retry; None: the sampler
    origin: Mapped[str | None] = mapped_column(sa.String(16))
    intermediate: Mapped[dict[str, Any]]
    # the holdout report of a completed trial of a job with holdout on (onegin.holdout)
    holdout: Mapped[dict[str, Any] | None]


class TokenRow(Base):
    """An API token: only the sha256 of its secret is stored, never the secret."""

    __tablename__ = "onegin_tokens"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    secret_hash: Mapped[str] = mapped_column(sa.String(64), index=True, unique=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    max_trials: Mapped[int | None]
    max_epochs: Mapped[int | None]
    max_concurrency: Mapped[int | None]
    admin: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    last_used_at: Mapped[datetime | None]


class SessionRow(Base):
    """A browser session: the cookie carries its secret, the row only the secret's sha256,
    so that signing out (or revoking the token) ends it for every copy of the cookie."""

    __tablename__ = "onegin_sessions"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)  # sha256 of the secret
    token_id: Mapped[str] = mapped_column(
        sa.String(32), sa.ForeignKey("onegin_tokens.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[datetime | None]
