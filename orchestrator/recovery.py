"""Recovery of one job's trials: which are lost, which run again, when failures stop the job.

A trial fails in one of two ways. Its own failure (bad data, out of memory, an
invalid model) says the parameters fail: it is re-run at most ``trial_retries``
times. An infrastructure loss (its worker died or stopped heart-beating) says
nothing about them: it is re-run at most ``lost_retries`` times. A job whose last
``failure_streak`` trials failed for good stops, naming the last error, so a
doomed job never re-runs trials forever. The rules are `orchestrator.policy`'s;
this keeps the state they need (each trial's re-run lineage and how it ended) and
watches the trials in flight for results missed and heartbeats gone stale.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from onegin.control import ControlStore
from onegin.records import TrialRecord
from onegin.settings import Settings
from onegin.statuses import TrialStatus
from orchestrator import policy
from orchestrator.in_flight import InFlight


@dataclass(frozen=True)
class ResultMissed:
    """The trial finished while the runner missed its event (e.g. across a restart)."""

    number: int
    message: dict[str, Any]


@dataclass(frozen=True)
class HeartbeatStale:
    """The trial's worker stopped heart-beating: the infrastructure lost it."""

    number: int
    reason: str


@dataclass(frozen=True)
class NeverStarted:
    """Sent long ago and no worker began it: its message may be lost; send it again."""

    number: int


Finding = ResultMissed | HeartbeatStale | NeverStarted


class Recovery:
    """One job's re-run lineage, failure streak and heartbeat watch."""

    def __init__(self, job_id: str, control: ControlStore, settings: Settings,
                 clock: Callable[[], float]) -> None:
        self._job_id = job_id
        self._control = control
        self._settings = settings
        self._clock = clock
        self.retry_of: dict[int, int | None] = {}  # trial -> the trial whose params it re-runs
        self.ended: dict[int, str] = {}  # trial -> how it ended, for the re-run caps
        self.failure_streak = 0  # trials failed for good in a row (policy.streak_after)
        self.last_error: str | None = None  # of the last trial failed for good
        self._watching_since = self._last_look = clock()  # see `find_trouble`

    def restore(self, trials: Iterable[TrialRecord]) -> None:
        """Take lineage and streak from the records, as a restarted orchestrator must."""
        trials = list(trials)
        finished = sorted((t for t in trials if t.finished_at is not None),
                          key=lambda t: (t.finished_at, t.number))
        self.failure_streak = policy.streak_of(t.status for t in finished)
        self.last_error = next(
            (t.error for t in reversed(finished) if t.status == TrialStatus.FAILED), None)
        self.retry_of = {t.number: t.retry_of for t in trials}
        self.ended = {t.number: t.status for t in trials if t.terminal}

    def restart_watch(self) -> None:
        """Watch heartbeats from now: the job was (re)opened."""
        self._watching_since = self._last_look = self._clock()

    def note_sent(self, number: int, retry_of: int | None) -> None:
        self.retry_of[number] = retry_of

    def runs_again(self, status: str, number: int) -> bool:
        """Whether a trial that ended ``status`` runs again (the caps of `policy.rerun`)."""
        earlier, parent = [], self.retry_of.get(number)
        while parent is not None:
            earlier.append(self.ended.get(parent, TrialStatus.LOST))
            parent = self.retry_of.get(parent)
        return policy.rerun(status, earlier, trial_retries=self._settings.trial_retries,
                            lost_retries=self._settings.lost_retries)

    def lost_for_good(self, reason: str) -> str:
        """The error of a trial lost once more than it may be re-run."""
        return f"lost {self._settings.lost_retries + 1} times, the last: {reason}"

    def note_end(self, number: int, status: str, error: str | None) -> str | None:
        """Keep how a trial ended; the job's failure once too many in a row failed."""
        self.ended[number] = status
        self.failure_streak = policy.streak_after(self.failure_streak, status)
        if status == TrialStatus.FAILED:
            self.last_error = error
        return self.streak_failure()

    def streak_failure(self) -> str | None:
        """Why the job stops as failed, when its last trials all failed; else None."""
        return policy.streak_failure(self.failure_streak, self._settings.failure_streak,
                                     self.last_error)

    def find_trouble(self, in_flight: Mapping[int, InFlight]) -> list[Finding]:
        """Look at every trial in flight in the control store: a result whose event was
        missed, a heartbeat older than the timeout, a trial no worker ever began."""
        now, timeout = self._clock(), self._settings.heartbeat_timeout
        # a beat older than this watch counts from the watch's start: while the runner
        # was held up (an outage of Redis), the workers could not beat either
        self._watching_since = policy.watching_since(
            self._watching_since, self._last_look, now, self._settings.heartbeat_interval,
            timeout)
        self._last_look = now
        found: list[Finding] = []
        for number, flight in in_flight.items():
            result = self._control.result(self._job_id, number)
            if result is not None:
                found.append(ResultMissed(number, result))
                continue
            beat = self._control.last_heartbeat(self._job_id, number)
            if beat is not None and policy.is_lost(max(beat[1], self._watching_since), now,
                                                   timeout):
                found.append(HeartbeatStale(
                    number, f"no heartbeat from {beat[0]} for over {timeout:.0f}s"))
            elif beat is None and policy.needs_redispatch(flight.dispatched_at, now, timeout):
                found.append(NeverStarted(number))
        return found
