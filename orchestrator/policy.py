"""Pure decisions of the orchestrator: how many trials to send, what is lost, when to stop.

Kept apart from Celery, Optuna and the database so each rule is tested alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from onegin.statuses import JobStatus, TrialStatus

COUNTED = frozenset({TrialStatus.COMPLETED, TrialStatus.PRUNED})  # these spend the budget
RERUNNABLE = frozenset({TrialStatus.FAILED, TrialStatus.LOST})  # its own fault, or the infra's
WAIT_FACTOR = 5  # heartbeat intervals with trials sent and none started: waiting for workers


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


def watching_since(since: float, last_look: float, now: float, interval: float,
                   timeout: float) -> float:
    """When the runner's watch of the heartbeats began: now, if it looked away for longer
    than a heartbeat interval plus half the timeout (it was held up by an outage of Redis,
    when the workers could not beat either), else when it began before.

    A beat is judged against ``max(beat, watch start)``, so after such a gap a worker
    gets a whole timeout to beat again before its trial counts as lost.
    """
    return now if now - last_look > interval + timeout / 2 else since


REDISPATCH_FACTOR = 10  # unstarted this many heartbeat timeouts: send the task again


def needs_redispatch(dispatched_at: float, now: float, heartbeat_timeout: float) -> bool:
    """A trial nobody started for long may have lost its message; re-sending is idempotent."""
    return now - dispatched_at > REDISPATCH_FACTOR * heartbeat_timeout


def rerun(status: str, earlier: Sequence[str], *, trial_retries: int, lost_retries: int) -> bool:
    """Whether a trial that ended ``status`` (failed: its own fault; lost: the
    infrastructure's) runs again with the same parameters.

    ``earlier`` holds the statuses of the earlier runs of those parameters (its
    ``retry_of`` chain); each was re-run once, so counting them by status counts
    the re-runs each cause has had. The two caps are apart: a loss says nothing
    about the parameters, a failure of their own says they fail.
    """
    if status not in RERUNNABLE:
        return False
    cap = trial_retries if status == TrialStatus.FAILED else lost_retries
    return sum(1 for s in earlier if s == status) < cap


def streak_after(streak: int, status: str) -> int:
    """Trials failed for good in a row, once one more ended ``status``.

    A counted trial ends the streak; a lost one that is re-run, or a cancelled
    one, says nothing about the job's trials and leaves it as it was.
    """
    if status == TrialStatus.FAILED:
        return streak + 1
    return 0 if status in COUNTED else streak


def streak_of(statuses: Iterable[str]) -> int:
    """The streak at the end of ``statuses`` (finished trials, oldest first)."""
    streak = 0
    for status in statuses:
        streak = streak_after(streak, status)
    return streak


def streak_failure(streak: int, limit: int, last_error: str | None) -> str | None:
    """The job's error once ``limit`` trials in a row failed; None while it goes on.

    Every way a job's trials keep failing (bad data, a model too large for the
    GPU, a dataset gone) ends here within ``limit`` trials, naming the cause.
    """
    if streak < limit:
        return None
    return f"{streak} trials in a row failed; the last: {last_error or 'no error given'}"


def waiting_since(unstarted_sent: Iterable[float], any_started: bool,
                  worker_seen_at: float) -> float | None:
    """Since when the job has waited for a worker, or None when it is not waiting.

    It waits when trials are sent and none of them has started: since the oldest
    was sent, or since a worker was last heard from, whichever is later.
    """
    sent = list(unstarted_sent)
    if any_started or not sent:
        return None
    return max(min(sent), worker_seen_at)


def is_waiting(since: float | None, now: float, heartbeat_interval: float) -> bool:
    """Waiting longer than a worker needs to take a task (a few heartbeats)."""
    return since is not None and now - since > WAIT_FACTOR * heartbeat_interval


def wait_timed_out(since: float | None, now: float, timeout: float | None) -> bool:
    return since is not None and timeout is not None and now - since > timeout


def final_job_status(cancel_requested: bool, counted: Mapping[str, int],
                     failure: str | None = None) -> JobStatus:
    """A cancel wins; a job stopped for a reason (``failure``) or with nothing completed
    failed."""
    if cancel_requested:
        return JobStatus.CANCELLED
    if failure is not None:
        return JobStatus.FAILED
    return JobStatus.COMPLETED if counted.get(TrialStatus.COMPLETED, 0) else JobStatus.FAILED
