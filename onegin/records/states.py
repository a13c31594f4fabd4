"""Job and trial lifecycles as data, and the pure check of a job status change."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from onegin.records.errors import InvalidField, InvalidTransition

JOB_STATUSES: tuple[str, ...] = (
    "queued", "running", "cancelling", "cancelled", "completed", "failed",
)
JOB_TERMINAL: frozenset[str] = frozenset({"cancelled", "completed", "failed"})
# Allowed moves besides staying put. A cancelling job may still complete: the
# orchestrator may have told the last result to the study before it saw the cancel.
JOB_TRANSITIONS: Mapping[str, frozenset[str]] = MappingProxyType({
    "queued": frozenset({"running", "cancelling", "cancelled", "failed"}),
    "running": frozenset({"cancelling", "completed", "failed"}),
    "cancelling": frozenset({"cancelled", "failed", "completed"}),
    "cancelled": frozenset(),
    "completed": frozenset(),
    "failed": frozenset(),
})

TRIAL_STATUSES: tuple[str, ...] = (
    "queued", "running", "completed", "pruned", "failed", "lost", "cancelled",
)
TRIAL_TERMINAL: frozenset[str] = frozenset({"completed", "pruned", "failed", "lost", "cancelled"})


def check_status(value: object, statuses: tuple[str, ...]) -> str:
    """``value`` if it is one of ``statuses``; else `InvalidField` naming status."""
    if not isinstance(value, str) or value not in statuses:
        raise InvalidField("status", f"must be one of {', '.join(statuses)}, got {value!r}")
    return value


def check_job_transition(current: str, requested: str) -> None:
    """Raise `InvalidTransition` unless a job may go from ``current`` to ``requested``."""
    check_status(requested, JOB_STATUSES)
    if requested != current and requested not in JOB_TRANSITIONS[current]:
        raise InvalidTransition(current, requested)


def cancel_target(current: str) -> str:
    """Where a cancel takes a job: one nobody started ends ``cancelled`` at once (no
    orchestrator is needed); a started one becomes ``cancelling``, for its orchestrator
    to stop its trials. `InvalidTransition` for a finished job."""
    target = {"queued": "cancelled", "running": "cancelling",
              "cancelling": "cancelling"}.get(current)
    if target is None:
        raise InvalidTransition(current, "cancelling")
    return target
