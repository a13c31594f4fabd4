"""Pure decisions of the orchestrator: how many trials to send, what is lost, when to stop.

Kept apart from Celery, Optuna and the database so each rule is tested alone.
"""

from __future__ import annotations

from collections.abc import Mapping

COUNTED = frozenset({"completed", "pruned"})  # these spend the budget
TERMINAL_TRIAL = frozenset({"completed", "pruned", "failed", "lost", "cancelled"})
TERMINAL_JOB = frozenset({"completed", "cancelled", "failed"})
FAILURE_ALLOWANCE = 2  # failed-for-good trials allowed per budgeted trial before giving up


def slots_to_fill(counted: int, in_flight: int, budget: int, concurrency: int,
                  accepting: bool = True) -> int:
    """New trials to send now: never more than the budget still open, nor the concurrency."""
    if not accepting:
        return 0
    return max(0, min(concurrency - in_flight, budget - counted - in_flight))


def asks_ahead(counted: int, in_flight: int, ready: int, budget: int, concurrency: int) -> int:
    """Trials to ask for in advance: one per running trial, within the open budget.

    counted + in_flight + ready never exceeds the budget, so a restart that runs
    every asked trial still stops at exactly the budget.
    """
    return max(0, min(concurrency, budget - counted - in_flight) - ready)


def is_lost(last_beat: float | None, now: float, timeout: float) -> bool:
    """A started trial whose heartbeat is older than the timeout has lost its worker."""
    return last_beat is not None and now - last_beat > timeout


REDISPATCH_FACTOR = 10  # unstarted this many heartbeat timeouts: send the task again


def needs_redispatch(dispatched_at: float, now: float, heartbeat_timeout: float) -> bool:
    """A trial nobody started for long may have lost its message; re-sending is idempotent."""
    return now - dispatched_at > REDISPATCH_FACTOR * heartbeat_timeout


def too_many_failures(failed: int, budget: int) -> bool:
    """Stop a job whose configurations keep failing instead of asking forever."""
    return failed >= max(3, FAILURE_ALLOWANCE * budget)


def trial_status(worker_status: str) -> str:
    """Map what a worker reported to the trial record's status."""
    return {"completed": "completed", "pruned": "pruned", "failed": "failed",
            "cancelled": "cancelled"}.get(worker_status, "lost")


def final_job_status(cancel_requested: bool, counted: Mapping[str, int]) -> str:
    if cancel_requested:
        return "cancelled"
    return "completed" if counted.get("completed", 0) else "failed"
