"""What callers get back: frozen job and trial records.

Fields cannot be reassigned, and every call returns fresh copies, so changing a
record's JSON data (plain dicts and lists, ready for json/yaml) changes nothing
stored and nothing another caller holds. `to_dict()` gives JSON-friendly data.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from onegin.statuses import JOB_TERMINAL, TRIAL_TERMINAL


def _plain(value: Any) -> Any:
    """A deep copy of JSON data with datetimes as ISO 8601 strings."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


class _Record:
    def to_dict(self) -> dict[str, Any]:
        """Every field as JSON-friendly data (datetimes as ISO strings)."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]


@dataclass(frozen=True)
class JobRecord(_Record):
    """One optimisation job. Datetimes are timezone-aware UTC."""

    id: str
    owner: str | None
    config: dict[str, Any]
    status: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    best_trial_number: int | None
    best_score: float | None
    best_accuracy: float | None
    error: str | None
    orchestrator_heartbeat_at: datetime | None
    # while no worker starts its trials: {"since", "gpu_queue_depth", "checked_at"}
    waiting: dict[str, Any] | None = None
    kind: str = "search"  # onegin.job_kinds.JobKind
    parent_id: str | None = None  # the comparison this job is a run of

    @property
    def terminal(self) -> bool:
        return self.status in JOB_TERMINAL


@dataclass(frozen=True)
class TrialRecord(_Record):
    """One trial of a job, keyed by (job_id, number). JSON keys are strings."""

    job_id: str
    number: int
    status: str
    params: dict[str, Any]
    architecture_summary: str | None
    metrics: dict[str, Any] | None
    health: dict[str, Any] | None
    health_score: float | None
    total_score: float | None
    val_accuracy: float | None
    worker: str | None
    task_id: str | None
    queued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime | None
    artifact_prefix: str | None
    error: str | None
    retry_of: int | None
    origin: str | None
    intermediate: dict[str, Any]
    holdout: dict[str, Any] | None = None  # keys `onegin.holdout.HOLDOUT_KEYS`

    @property
    def terminal(self) -> bool:
        return self.status in TRIAL_TERMINAL


@dataclass(frozen=True)
class TokenRecord(_Record):
    """An API token, without its secret. A limit of None means "the setting's default".

    ``admin``: may list and revoke every token over the web API. ``last_used_at`` is
    recorded to the minute (see `tokens.use_is_stale`), not on every request."""

    id: str
    name: str
    created_at: datetime
    revoked_at: datetime | None
    max_trials: int | None
    max_epochs: int | None
    max_concurrency: int | None
    admin: bool = False
    last_used_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def listing(self) -> dict[str, Any]:
        """What token listings show (CLI and API): no secret exists to show, and no limits."""
        return {name: _plain(getattr(self, name)) for name in TOKEN_LISTED}


TOKEN_LISTED: tuple[str, ...] = ("id", "name", "admin", "created_at", "last_used_at",
                                 "revoked_at")
