"""SIGTERM, SIGHUP and SIGINT to a process that runs a job's orchestrator and its workers.

`onegin optimize` (and `onegin.optimize()`) runs the orchestrator in its own
process and the GPU workers as children. What each signal means:

- SIGINT (Ctrl-C): the user stops the job. It is cancelled, as by `onegin cancel`:
  running trials stop at their next batch and the job ends `cancelled`.
- SIGTERM, SIGHUP (`timeout`, systemd, a CI job cancelled, a closed terminal): the
  process is stopped, not the job. The workers hand their trials back (within
  ``shutdown_grace``), the orchestrator records that and releases the job, which
  stays `running`: `onegin optimize --resume JOB` (or any orchestrator) goes on.

A handler only records the signal and wakes a thread that does the stopping, so
no database write runs inside a signal handler and a second signal cannot cut a
stop short. Once the job is stopped, the signal goes to the handler that was
there before (by default the process ends, or KeyboardInterrupt is raised). A
signal the process was started ignoring stays ignored: under `nohup` a closed
terminal's SIGHUP neither hands the job back nor leaves a process that will not end.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any, Literal

STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
Action = Literal["cancel", "hand_back"]


def action_for(signum: int) -> Action:
    """Ctrl-C cancels the job; any other stop signal stops only this process."""
    return "cancel" if signum == signal.SIGINT else "hand_back"


class SignalCatcher:
    """While entered (on the main thread only), STOP_SIGNALS are recorded, not acted on.

    ``received`` is the first signal; ``woken`` is set by it (and by `wake`).
    """

    def __init__(self) -> None:
        self.received: int | None = None
        self.woken = threading.Event()
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> SignalCatcher:
        if threading.current_thread() is threading.main_thread():
            for signum in STOP_SIGNALS:
                if signal.getsignal(signum) != signal.SIG_IGN:  # nohup's SIGHUP stays ignored
                    self._previous[signum] = signal.signal(signum, self._on_signal)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, signal.SIG_DFL if previous is None else previous)

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if self.received is None:
            self.received = signum
        self.woken.set()

    def wake(self) -> None:
        """Let a thread waiting on ``woken`` go (the run ended without a signal)."""
        self.woken.set()

    def redeliver(self) -> None:
        """Give the received signal to the handler that was there before (after `__exit__`)."""
        signum = self.received
        if signum is None:
            return
        previous = self._previous.get(signum)
        if previous is None:  # not ours to give (another thread), or not set from Python
            previous = signal.SIG_DFL
        if callable(previous):
            previous(signum, None)  # Python's SIGINT handler: KeyboardInterrupt
        elif previous == signal.SIG_DFL:
            sys.stdout.flush()
            sys.stderr.flush()
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)  # the process ends as the signal meant


class JobStopper:
    """The thread that stops a job once a stop signal came; the runner polls `hand_over`.

    Cancel: the job is marked `cancelling` and its trials stop within a batch,
    so the run ends by itself; if it has not within ``grace``, the workers are
    stopped as for a hand-back. Hand-back: the workers are stopped (each hands
    its trial back, or is killed), then `hand_over` tells the runner to record
    that and release the job (or, if cancelled and nothing is left, to end it).
    """

    def __init__(self, catcher: SignalCatcher, *, cancel: Callable[[], None],
                 stop_workers: Callable[[], None], grace: float) -> None:
        self.catcher = catcher
        self._cancel = cancel
        self._stop_workers = stop_workers
        self._grace = grace
        self.run_over = threading.Event()
        self.workers_stopped = threading.Event()
        self.hand_over = threading.Event()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="job-stopper", daemon=True)

    def __enter__(self) -> JobStopper:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.run_over.set()
        self.catcher.wake()
        self._thread.join()

    def _run(self) -> None:
        self.catcher.woken.wait()
        signum = self.catcher.received
        if signum is None or self.run_over.is_set():
            return
        try:
            if action_for(signum) == "cancel":
                self._cancel()
                if self.run_over.wait(self._grace):
                    return
            self._stop_workers()
            self.workers_stopped.set()
        except BaseException as exc:  # handed to the main thread; the runner still stops
            self.error = exc
        self.hand_over.set()
