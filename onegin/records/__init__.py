"""Job and trial records in SQLite or PostgreSQL (SQLAlchemy 2 + Alembic).

Callers use `RecordStore` and get frozen `JobRecord`/`TrialRecord` values; the
ORM rows stay private. Needs the orchestrator extra (SQLAlchemy, Alembic).
"""

from __future__ import annotations

from onegin.records.errors import (
    InvalidField,
    InvalidTransition,
    RecordError,
    RecordNotFound,
    RecordStoreUnavailable,
)
from onegin.records.states import (
    JOB_STATUSES,
    JOB_TERMINAL,
    JOB_TRANSITIONS,
    TRIAL_STATUSES,
    TRIAL_TERMINAL,
    check_job_transition,
)
from onegin.records.store import JOB_UPDATABLE, TRIAL_UPDATABLE, RecordStore
from onegin.records.tokens import hash_secret, new_secret, resolve_token
from onegin.records.values import TOKEN_LISTED, JobRecord, TokenRecord, TrialRecord

__all__ = [
    "JOB_STATUSES",
    "JOB_TERMINAL",
    "JOB_TRANSITIONS",
    "JOB_UPDATABLE",
    "TOKEN_LISTED",
    "TRIAL_STATUSES",
    "TRIAL_TERMINAL",
    "TRIAL_UPDATABLE",
    "InvalidField",
    "InvalidTransition",
    "JobRecord",
    "RecordError",
    "RecordNotFound",
    "RecordStore",
    "RecordStoreUnavailable",
    "TokenRecord",
    "TrialRecord",
    "check_job_transition",
    "hash_secret",
    "new_secret",
    "resolve_token",
]
