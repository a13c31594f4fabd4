"""The record store's checks of a status value and of a job status change.

The statuses and their transitions live in `onegin.statuses`; this module turns a breach
into the record store's own errors.
"""

from __future__ import annotations

from collections.abc import Iterable

from onegin.records.errors import InvalidField, InvalidTransition
from onegin.statuses import (
    JOB_STATUSES,
    JOB_TERMINAL,
    JOB_TRANSITIONS,
    TRIAL_STATUSES,
    TRIAL_TERMINAL,
    TRIAL_TRANSITIONS,
    JobStatus,
    is_legal,
)

__all__ = [
    "JOB_STATUSES", "JOB_TERMINAL", "JOB_TRANSITIONS", "TRIAL_STATUSES", "TRIAL_TERMINAL",
    "TRIAL_TRANSITIONS", "cancel_target", "check_job_transition", "check_status",
]


def check_status(value: object, statuses: Iterable[str], *, field: str = "status") -> str:
    """``value`` if it is one of ``statuses``; else `InvalidField` naming ``field``."""
    statuses = tuple(statuses)
    if not isinstance(value, str) or value not in statuses:
        raise InvalidField(field, f"must be one of {', '.join(statuses)}, got {value!r}")
    return value


def check_job_transition(current: str, requested: str) -> None:
    """Raise `InvalidTransition` unless a job may go from ``current`` to ``requested``."""
    check_status(requested, JOB_STATUSES)
    if not is_legal(JOB_TRANSITIONS, current, requested):
        raise InvalidTransition(current, requested)


def cancel_target(current: str) -> JobStatus:
    """Where a cancel takes a job: one nobody started ends ``cancelled`` at once (no
    orchestrator is needed); a started one becomes ``cancelling``, for its orchestrator
    to stop its trials. `InvalidTransition` for a finished job."""
    if current == JobStatus.QUEUED:
        return JobStatus.CANCELLED
    if current in JOB_TERMINAL:
        raise InvalidTransition(current, JobStatus.CANCELLING)
    return JobStatus.CANCELLING
