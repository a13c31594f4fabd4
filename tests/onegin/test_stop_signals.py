"""What a stop signal does to a job run here: the decision and its order, without servers."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator

import pytest

from onegin.stop_signals import STOP_SIGNALS, JobStopper, SignalCatcher, action_for


def test_ctrl_c_cancels_the_job_and_other_stops_hand_it_back() -> None:
    assert action_for(signal.SIGINT) == "cancel"
    assert action_for(signal.SIGTERM) == action_for(signal.SIGHUP) == "hand_back"


@pytest.fixture
def catcher() -> Iterator[SignalCatcher]:
    before = {s: signal.getsignal(s) for s in STOP_SIGNALS}
    with SignalCatcher() as caught:
        yield caught
    assert {s: signal.getsignal(s) for s in STOP_SIGNALS} == before, "handlers restored"


def test_a_stop_signal_is_recorded_not_acted_on(catcher: SignalCatcher) -> None:
    os.kill(os.getpid(), signal.SIGTERM)  # would end this test run without the catcher
    os.kill(os.getpid(), signal.SIGINT)  # a second one does not replace the first
    assert catcher.woken.wait(5)
    assert catcher.received == signal.SIGTERM


def test_a_signal_ignored_from_the_start_stays_ignored() -> None:
    """As under `nohup`, which starts the process with SIGHUP ignored."""
    before = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with SignalCatcher() as caught:
            os.kill(os.getpid(), signal.SIGHUP)
            os.kill(os.getpid(), signal.SIGTERM)
            assert caught.woken.wait(5)
            assert caught.received == signal.SIGTERM
        assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, before)


def test_redelivered_ctrl_c_raises_keyboard_interrupt() -> None:
    with SignalCatcher() as caught:
        os.kill(os.getpid(), signal.SIGINT)
        assert caught.woken.wait(5)
    with pytest.raises(KeyboardInterrupt):
        caught.redeliver()


class Steps:
    """The stopper's callbacks, recording their order; the run ends when told."""

    def __init__(self, run_ends_on_cancel: bool) -> None:
        self.done: list[str] = []
        self.run_ends_on_cancel = run_ends_on_cancel
        self.stopper: JobStopper | None = None

    def cancel(self) -> None:
        self.done.append("cancel")
        if self.run_ends_on_cancel:
            assert self.stopper is not None
            self.stopper.run_over.set()  # the runner ended the job `cancelled`

    def stop_workers(self) -> None:
        assert self.stopper is not None
        self.done.append("stop workers")
        if self.stopper.hand_over.is_set():
            self.done.append("(the runner was told to hand over first)")


def run_stopper(signum: int, steps: Steps) -> JobStopper:
    catcher = SignalCatcher()  # not entered: the signal is simulated
    stopper = JobStopper(catcher, cancel=steps.cancel, stop_workers=steps.stop_workers,
                         grace=0.2)
    steps.stopper = stopper
    with stopper:
        catcher._on_signal(signum, None)  # as the handler would
        stopper._thread.join(5)  # done by itself: leaving the block would end the run
    return stopper


def test_ctrl_c_cancels_and_stops_no_worker_when_the_run_ends_within_the_grace() -> None:
    steps = Steps(run_ends_on_cancel=True)
    stopper = run_stopper(signal.SIGINT, steps)
    assert steps.done == ["cancel"]
    assert not stopper.hand_over.is_set() and not stopper.workers_stopped.is_set()


def test_ctrl_c_stops_the_workers_once_the_grace_has_passed() -> None:
    steps = Steps(run_ends_on_cancel=False)
    stopper = run_stopper(signal.SIGINT, steps)
    assert steps.done == ["cancel", "stop workers"]
    assert stopper.workers_stopped.is_set() and stopper.hand_over.is_set()


def test_sigterm_and_sighup_stop_the_workers_then_the_runner_hands_over() -> None:
    for signum in (signal.SIGTERM, signal.SIGHUP):
        steps = Steps(run_ends_on_cancel=False)
        stopper = run_stopper(signum, steps)
        assert steps.done == ["stop workers"], "no cancel, workers before the hand-over"
        assert stopper.workers_stopped.is_set() and stopper.hand_over.is_set()


def test_a_run_that_ends_by_itself_wakes_the_stopper_and_nothing_is_done() -> None:
    steps = Steps(run_ends_on_cancel=False)
    stopper = JobStopper(SignalCatcher(), cancel=steps.cancel,
                         stop_workers=steps.stop_workers, grace=0.2)
    with stopper:
        pass
    assert steps.done == [] and not stopper.hand_over.is_set()
    assert not any(t.name == "job-stopper" for t in threading.enumerate())
