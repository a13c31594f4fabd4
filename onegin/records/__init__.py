"""Job and trial records in SQLite or PostgreSQL (SQLAlchemy 2 + Alembic).

Laid out like every external service in `onegin`, with one difference: there is
no Protocol module, because `RecordStore` (``store``) is the interface and its
only implementation. SQLite and PostgreSQL are not two backends but two
SQLAlchemy dialects of one store; what differs between them (engine tuning, the
migration lock) is in ``engine``. A Protocol would repeat every signature of the
one class for no second implementer. Around it: ``values`` (the frozen
`JobRecord`/`TrialRecord`/`TokenRecord` callers get), ``errors``, ``resolve``
(`open_record_store`, URL -> store), ``models`` (the rows, seen only by the store
and the migrations), ``coerce``, ``states``, ``tokens`` and ``migrate``. Needs
the orchestrator extra (SQLAlchemy, Alembic).
"""

from __future__ import annotations

from onegin.records.errors import (
    InvalidField,
    InvalidTransition,
    RecordError,
    RecordNotFound,
    RecordStoreUnavailable,
)
from onegin.records.resolve import open_record_store
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
    "open_record_store",
    "resolve_token",
]
