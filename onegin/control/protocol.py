"""The control-store contract: trial claims, heartbeats, results and stop flags.

Every backend (``local``, ``redis``) meets it. The orchestrator steers GPU
workers through it without giving them database credentials: a claim keyed by
(job, trial number) makes a re-delivered Celery task a no-op, heartbeats tell a
live trial from a dead worker's, and stop flags (cancel a job, prune a trial)
are checked by the worker after every batch.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

Clock = Callable[[], float]  # unix seconds


class ClaimOutcome(enum.Enum):
    ACQUIRED = "acquired"  # run the trial, heartbeating as you go
    HELD = "held"  # a live owner runs it: do nothing
    FINISHED = "finished"  # a result (or an abandon) is recorded: do nothing


@runtime_checkable
class ControlStore(Protocol):
    """Shared state for trials in flight; every method is safe across processes.

    ``claim`` is atomic: ACQUIRED when nobody holds the trial, when ``owner``
    already holds it (re-entrant), or when the holder's last heartbeat is older
    than ``ttl`` seconds (a dead worker); HELD when another live owner has it;
    FINISHED once ``finish`` or ``abandon`` was called. ``heartbeat`` returns
    False when ``owner`` no longer holds the claim (taken over, finished or
    abandoned): the worker should stop. ``finish`` keeps the first result.
    ``request_stop`` with ``number=None`` stops every trial of the job (cancel),
    with a number one trial (prune); the first reason set sticks.
    ``release`` gives up ``owner``'s live claim so another owner may claim it
    at once (an orchestrator handing its job over on shutdown); it returns
    False, changing nothing, when ``owner`` does not hold it.
    ``stop_reason`` returns the trial's reason, else the job's, else None, in one
    cheap look-up. ``ping`` raises ConnectionError when the backend is unreachable.
    """

    def claim(self, job_id: str, number: int, owner: str, *, ttl: float) -> ClaimOutcome: ...

    def heartbeat(self, job_id: str, number: int, owner: str) -> bool: ...

    def last_heartbeat(self, job_id: str, number: int) -> tuple[str, float] | None: ...

    def finish(self, job_id: str, number: int, result: Mapping[str, Any]) -> None: ...

    def result(self, job_id: str, number: int) -> dict[str, Any] | None: ...

    def abandon(self, job_id: str, number: int, reason: str) -> None: ...

    def release(self, job_id: str, number: int, owner: str) -> bool: ...

    def request_stop(self, job_id: str, number: int | None, reason: str) -> None: ...

    def stop_reason(self, job_id: str, number: int) -> str | None: ...

    def clear_job(self, job_id: str) -> None: ...

    def ping(self) -> None: ...

    def close(self) -> None: ...


def check_reason(reason: object) -> str:
    if not isinstance(reason, str) or not reason:
        raise ValueError(f"a stop/abandon reason must be a non-empty string, got {reason!r}")
    return reason
