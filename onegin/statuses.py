"""The statuses of jobs and trials and the moves between them: the one place that spells them.

Everything else derives its sets from these tables (the record store's checks, the
orchestrator, the API and CLI, and the dashboard through ``GET /api/v1/statuses``), so a
new status is one enum member here and its row in the transitions table.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Any


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    CANCELLING = "cancelling"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    FAILED = "failed"


class TrialStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    PRUNED = "pruned"
    FAILED = "failed"
    LOST = "lost"
    CANCELLED = "cancelled"


_J, _T = JobStatus, TrialStatus

# Allowed moves besides staying put; a status with none is terminal. A cancelling job may
# still complete: the orchestrator may have told the last result to the study before it
# saw the cancel.
JOB_TRANSITIONS: Mapping[JobStatus, frozenset[JobStatus]] = MappingProxyType({
    _J.QUEUED: frozenset({_J.RUNNING, _J.CANCELLING, _J.CANCELLED, _J.FAILED}),
    _J.RUNNING: frozenset({_J.CANCELLING, _J.COMPLETED, _J.FAILED}),
    _J.CANCELLING: frozenset({_J.CANCELLED, _J.FAILED, _J.COMPLETED}),
    _J.CANCELLED: frozenset(),
    _J.COMPLETED: frozenset(),
    _J.FAILED: frozenset(),
})

# A trial's result may come back before its "started" event was recorded, so a queued
# trial may end in any way; a lost or failed trial re-runs as a new trial number.
_TRIAL_ENDS = frozenset({_T.COMPLETED, _T.PRUNED, _T.FAILED, _T.LOST, _T.CANCELLED})
TRIAL_TRANSITIONS: Mapping[TrialStatus, frozenset[TrialStatus]] = MappingProxyType({
    _T.QUEUED: frozenset({_T.RUNNING}) | _TRIAL_ENDS,
    _T.RUNNING: _TRIAL_ENDS,
    **{end: frozenset() for end in TrialStatus if end in _TRIAL_ENDS},
})

JOB_STATUSES: tuple[JobStatus, ...] = tuple(JobStatus)
TRIAL_STATUSES: tuple[TrialStatus, ...] = tuple(TrialStatus)
JOB_TERMINAL: frozenset[JobStatus] = frozenset(s for s, to in JOB_TRANSITIONS.items() if not to)
JOB_ACTIVE: frozenset[JobStatus] = frozenset(JobStatus) - JOB_TERMINAL
TRIAL_TERMINAL: frozenset[TrialStatus] = frozenset(
    s for s, to in TRIAL_TRANSITIONS.items() if not to)
TRIAL_ACTIVE: frozenset[TrialStatus] = frozenset(TrialStatus) - TRIAL_TERMINAL


def is_legal(transitions: Mapping[Any, frozenset[Any]], current: str, requested: str) -> bool:
    """Whether ``current`` may become ``requested`` (staying put is always legal)."""
    return requested == current or requested in transitions.get(current, frozenset())


def describe() -> dict[str, Any]:
    """Both lifecycles as plain JSON, in declaration order: what the API serves."""
    def one(statuses: tuple[StrEnum, ...], terminal: frozenset[Any],
            transitions: Mapping[Any, frozenset[Any]]) -> dict[str, Any]:
        return {
            "statuses": [str(s) for s in statuses],
            "terminal": [str(s) for s in statuses if s in terminal],
            "active": [str(s) for s in statuses if s not in terminal],
            "transitions": {str(s): [str(t) for t in statuses if t in transitions[s]]
                            for s in statuses},
        }
    return {"job": one(JOB_STATUSES, JOB_TERMINAL, JOB_TRANSITIONS),
            "trial": one(TRIAL_STATUSES, TRIAL_TERMINAL, TRIAL_TRANSITIONS)}
