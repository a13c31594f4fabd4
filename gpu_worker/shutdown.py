"""Graceful shutdown of a GPU worker: SIGTERM hands the running trial back instead of losing it.

Celery's warm shutdown (SIGTERM or Ctrl-C to the worker's main process) stops
taking tasks and waits for the running ones, and a trial may run for hours,
far past any kill deadline (Kubernetes waits 30 s). So the main process raises
a flag in one byte of memory it shares with the pool children it forks
(``worker_shutting_down`` runs there); the trial checks it after every batch
and at each phase, and `HandBack` decides: go on when its progress says it ends
within ``shutdown_grace`` seconds, else stop. A stopped trial uploads nothing,
abandons its claim and tells the orchestrator to re-run its parameters at once;
its Celery task returns normally, so the message is acknowledged, and a
re-delivery would find the claim abandoned and do nothing.

A pool child that gets SIGTERM itself (a process-group kill) during a trial
hands the trial back the same way, then exits as billiard would have (unless
the whole worker is stopping: then the pool ends it after the task's result).
Imported (via `gpu_worker.tasks`) by the main process before it forks;
never imports TensorFlow.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from celery.exceptions import Reject

from onegin import worker_stopping
from onegin.progress import Progress

log = logging.getLogger(__name__)

HANDED_BACK = "handed back: worker shutting down"
_BEFORE_TRAINING = frozenset({"loading_data", "building"})


class _LocalFlag:
    """A flag of this process only; a plain attribute store is safe in a signal handler."""

    def __init__(self) -> None:
        self.value = False

    def set(self) -> None:
        self.value = True

    def clear(self) -> None:
        self.value = False

    def is_set(self) -> bool:
        return self.value


_sigterm_here = _LocalFlag()  # this pool child got SIGTERM during a trial


def requested() -> bool:
    """True once this worker (or this pool child) has been told to stop."""
    return worker_stopping.stopping() or _sigterm_here.is_set()


def request() -> None:
    """What the worker's main process does on SIGTERM (also for tests and embedding)."""
    worker_stopping.request_stop()


def reset() -> None:
    """Forget a shutdown request (tests that run several in one process)."""
    worker_stopping.clear()
    _sigterm_here.clear()


class WorkerShuttingDown(Reject):
    """Raised instead of starting a trial on a stopping worker: the message goes back."""

    def __init__(self) -> None:
        super().__init__("worker shutting down: trial left for another worker", requeue=True)


class TrialHandedBack(Exception):
    """Unwinds the trainer at a phase boundary once `HandBack` says stop."""


class HandBack:
    """When does a trial on a stopping worker stop? `due()` after each batch and phase.

    On the first look after the request, the grace period starts. The trial is
    due (and stays due) when the grace has passed, when it has not started
    training yet, or when its training pace says it will not end in time.
    Past training (evaluating, holdout, plotting, saving, uploading) it goes on until the
    grace has passed. ``requested`` and ``clock`` are injectable for tests.
    """

    def __init__(self, grace: float, requested: Callable[[], bool] = requested,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.grace = grace
        self.handed_back = False
        self._requested = requested
        self._clock = clock
        self._phase: str | None = None
        self._training_since: float | None = None
        self._fraction = 0.0
        self._deadline: float | None = None

    def observe(self, progress: Progress) -> None:
        if progress.phase == "training":
            if self._training_since is None:
                self._training_since = self._clock()
            self._fraction = progress.fraction
        self._phase = progress.phase

    def due(self) -> bool:
        if self.handed_back:
            return True
        if not self._requested():
            return False
        now = self._clock()
        if self._deadline is None:
            self._deadline = now + self.grace
            log.warning("worker shutting down: the trial goes on only if it ends within "
                        "%gs, else it is handed back", self.grace)
        self.handed_back = now >= self._deadline or not self._ends_in_time(now)
        return self.handed_back

    def _ends_in_time(self, now: float) -> bool:
        assert self._deadline is not None
        if self._phase is None or self._phase in _BEFORE_TRAINING:
            return False
        if self._phase != "training":
            return True
        if self._training_since is None or self._fraction <= 0:
            return False
        elapsed = now - self._training_since
        return now + elapsed * (1 - self._fraction) / self._fraction <= self._deadline


@contextmanager
def sigterm_hands_back() -> Iterator[None]:
    """Inside a trial, a SIGTERM to this process asks for a hand-back instead of exiting.

    Afterwards the previous handler (billiard's: exit) is back, and a SIGTERM that
    came during the trial is re-delivered to it unless the whole worker is
    stopping (then the pool ends this child itself, after the task's result is in).
    Does nothing off the main thread, where signal handlers cannot be set.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_sigterm(_signum: int, _frame: Any) -> None:
        _sigterm_here.set()

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)
        if _sigterm_here.is_set() and not worker_stopping.stopping():
            _sigterm_here.clear()
            os.kill(os.getpid(), signal.SIGTERM)
