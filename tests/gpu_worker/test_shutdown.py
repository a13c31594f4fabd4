"""Graceful shutdown of a GPU worker: when a trial finishes, when it is handed back, and
that a handed-back trial is never run twice (the real `run_trial`, embedded backends)."""

from __future__ import annotations

import itertools
import json
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from celery.exceptions import Reject

from gpu_worker.shutdown import HANDED_BACK, HandBack, WorkerShuttingDown
from gpu_worker.trial_runner import run_trial
from onegin.artifacts import trial_prefix
from onegin.control import ClaimOutcome
from onegin.errors import TrialCancelled
from onegin.logs import configure_logging
from onegin.progress import Progress
from onegin.services import Services
from onegin.settings import load_settings
from onegin.trial_message import TrialResult, TrialSpec

SPEC: dict[str, Any] = {"dataset": "digits", "params": {"filters": 16}, "epochs": 4, "seed": 0,
                        "objective": "simple", "plot_mode": "none"}


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def training(epoch: int, epochs: int = 10, within: float = 1.0) -> Progress:
    return Progress("training", epoch, epochs, within)


# -- the decision ------------------------------------------------------------------------

def test_nothing_is_due_until_shutdown_is_requested() -> None:
    clock, stopping = Clock(), threading.Event()
    policy = HandBack(5.0, stopping.is_set, clock)
    policy.observe(training(1))
    clock.now += 1000
    assert not policy.due()
    stopping.set()
    assert policy.due() and policy.handed_back


def test_a_trial_not_yet_training_goes_back_at_once() -> None:
    policy = HandBack(60.0, lambda: True, Clock())
    policy.observe(Progress("loading_data"))
    assert policy.due()


def test_a_trial_that_ends_within_the_grace_goes_on_then_stops_at_the_deadline() -> None:
    clock = Clock()
    policy = HandBack(10.0, lambda: True, clock)
    policy.observe(training(1, within=0.0))
    clock.now += 9.0  # 9 s for 9 of 10 epochs: 1 s left, within 10 s of grace
    policy.observe(training(9))
    assert not policy.due()
    clock.now += 2.0
    policy.observe(Progress("evaluating", 10, 10))  # past training: goes on to the deadline
    assert not policy.due()
    clock.now += 8.0
    assert policy.due()


def test_a_trial_too_slow_for_the_grace_goes_back_at_once() -> None:
    clock = Clock()
    policy = HandBack(10.0, lambda: True, clock)
    policy.observe(training(1, within=0.0))
    clock.now += 5.0  # 5 s per epoch, 9 epochs left: 45 s > 10 s
    policy.observe(training(1))
    assert policy.due()
    assert policy.due()  # and stays due


# -- the trial runner --------------------------------------------------------------------

def make_services(home: Path, grace: float) -> Services:
    settings = load_settings(env={}, overrides={
        "home": str(home), "heartbeat_interval": 0.05, "heartbeat_timeout": 5.0,
        "shutdown_grace": grace})
    return Services(settings)


@pytest.fixture
def services(tmp_path: Path) -> Services:
    """Grace 0: a stopping worker hands its trial back at the next batch."""
    return make_services(tmp_path / "home", 0.0)


def result(spec: TrialSpec, epochs: int) -> TrialResult:
    return TrialResult(
        status="completed", params=dict(spec.params), dataset={}, epochs_run=epochs,
        val_accuracy=0.5, val_loss=1.0, test_accuracy=0.5, test_loss=1.0, health=None,
        health_score=None, total_score=0.5, objective="simple", param_count=1,
        architecture_summary="stand-in", timings={}, plots=[], artifacts=["metrics.json"])


def batches(on_batch: Callable[[int], None] = lambda _n: None) -> Any:
    """A trainer stand-in: batches until cancelled, the hooks checked after each as Keras
    does (progress every 100th); gives up after 60 s so a broken hook cannot hang the test."""

    def trainer(spec: TrialSpec, out: Path, hooks: Any) -> TrialResult:
        hooks.on_progress(Progress("training", epochs=spec.epochs))
        give_up = time.monotonic() + 60
        for n in itertools.count():
            if n % 100 == 0:
                hooks.on_progress(Progress("training", 1, spec.epochs, 0.01))
            on_batch(n)
            if hooks.is_cancelled():
                raise TrialCancelled("stopped")
            assert time.monotonic() < give_up, "the trial was never stopped"
        raise AssertionError("unreachable")

    return trainer


def events_of(services: Services, job_id: str) -> list[dict[str, Any]]:
    return services.events.read(job_id, None, limit=10_000)[0]


def test_shutdown_mid_training_hands_the_trial_back_once(services: Services) -> None:
    stopping = threading.Event()
    stopped_at: list[int] = []

    def on_batch(n: int) -> None:
        if n == 3:
            stopping.set()  # what SIGTERM to the worker's main process does
        stopped_at.append(n)

    outcome = run_trial("job-a", 0, SPEC, services, trainer=batches(on_batch),
                        shutting_down=stopping.is_set)
    assert outcome == {"status": "handed_back"}
    assert stopped_at[-1] == 3, "training stops at the batch after the request"
    assert services.artifacts.list(trial_prefix("job-a", 0)) == [], "nothing uploaded"
    assert services.control.result("job-a", 0) is None
    kinds = [(e["type"], e["data"].get("status")) for e in events_of(services, "job-a")]
    assert kinds[0] == ("trial_started", None) and kinds[-1] == ("trial_finished", "error")
    finished = events_of(services, "job-a")[-1]
    assert finished["data"]["error"].startswith(HANDED_BACK) and finished["data"]["result"] == {}

    # a re-delivered message (worker killed before the ack) finds the claim abandoned
    again = run_trial("job-a", 0, SPEC, services, trainer=batches())  # would never end
    assert again == {"status": "duplicate", "outcome": "finished"}
    assert len(events_of(services, "job-a")) == len(kinds), "the re-delivery did nothing"
    assert services.control.claim("job-a", 0, "someone", ttl=5.0) is ClaimOutcome.FINISHED


def test_a_trial_that_ends_within_the_grace_finishes_and_uploads(tmp_path: Path) -> None:
    services = make_services(tmp_path / "home", 60.0)
    stopping = threading.Event()

    def quick(spec: TrialSpec, out: Path, hooks: Any) -> TrialResult:
        hooks.on_progress(Progress("training", epochs=spec.epochs))
        hooks.on_progress(Progress("training", spec.epochs, spec.epochs, 0.99))
        stopping.set()
        assert not hooks.is_cancelled()  # 99% done: it ends well within the 60 s grace
        hooks.on_progress(Progress("saving", spec.epochs, spec.epochs))
        (out / "metrics.json").write_text("{}")
        return result(spec, spec.epochs)

    outcome = run_trial("job-b", 0, SPEC, services, trainer=quick,
                        shutting_down=stopping.is_set)
    assert outcome == {"status": "completed"}
    assert services.control.result("job-b", 0) is not None
    assert services.artifacts.exists(trial_prefix("job-b", 0) + "metrics.json")
    published = len(events_of(services, "job-b"))
    again = run_trial("job-b", 0, SPEC, services, trainer=batches())  # a re-delivery
    assert again == {"status": "duplicate", "outcome": "finished"}
    assert len(events_of(services, "job-b")) == published


def test_a_trial_is_not_claimed_on_a_stopping_worker(services: Services) -> None:
    with pytest.raises(WorkerShuttingDown) as err:
        run_trial("job-c", 0, SPEC, services, trainer=batches(), shutting_down=lambda: True)
    assert isinstance(err.value, Reject) and err.value.requeue, "the message goes back"
    assert services.control.last_heartbeat("job-c", 0) is None, "never claimed"
    assert events_of(services, "job-c") == []


def test_trial_log_lines_carry_job_and_trial_ids_from_every_thread(
        services: Services, tmp_path: Path) -> None:
    log_file = tmp_path / "worker.log"
    settings = load_settings(env={}, overrides={"log_file": str(log_file), "log_format": "json"})
    handler = configure_logging(settings)
    try:
        def on_batch(n: int) -> None:
            if n == 2:  # the orchestrator gives the trial up: the heartbeat thread notices
                services.control.abandon("job-d", 7, "no heartbeat (test)")

        outcome = run_trial("job-d", 7, SPEC, services, trainer=batches(on_batch))
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
    assert outcome == {"status": "abandoned"}
    lines = [json.loads(line) for line in log_file.read_text().splitlines()]
    trial_lines = [line for line in lines if line.get("job_id") == "job-d"]
    assert {line["trial"] for line in trial_lines} == {7}
    by_thread = {line["thread"]: line["message"] for line in trial_lines}
    assert "trial-heartbeat" in by_thread and "claim lost" in by_thread["trial-heartbeat"]
    assert any("abandoned" in line["message"] for line in trial_lines)
    for line in trial_lines:
        assert {"ts", "level", "logger", "message", "process"} <= set(line)


# -- a pool child's own SIGTERM ----------------------------------------------------------

CHILD = """
import os, signal, sys
from gpu_worker import shutdown
if sys.argv[1] == "worker-stopping":
    shutdown.request()
with shutdown.sigterm_hands_back():
    os.kill(os.getpid(), signal.SIGTERM)
    assert shutdown.requested(), "SIGTERM during a trial asks for a hand-back"
    print("handed back", flush=True)
print("after the trial", flush=True)
"""


@pytest.mark.parametrize(("case", "code", "printed"), [
    ("child-only", -15, ["handed back"]),  # then the deferred SIGTERM ends the child
    ("worker-stopping", 0, ["handed back", "after the trial"]),  # the pool ends it later
])
def test_sigterm_in_a_trial_is_deferred_until_it_is_handed_back(
        case: str, code: int, printed: list[str]) -> None:
    done = subprocess.run([sys.executable, "-c", CHILD, case], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == code, done.stderr
    assert done.stdout.split("\n")[:-1] == printed


def test_the_flag_is_shared_with_children_forked_after_it() -> None:
    code = ("import os; from gpu_worker import shutdown\n"
            "r, w = os.pipe()\n"
            "pid = os.fork()\n"
            "if pid == 0:\n"
            "    os.read(r, 1)\n"  # wait for the parent's go, then look at the flag
            "    os._exit(0 if shutdown.requested() else 1)\n"
            "shutdown.request(); os.write(w, b'x')\n"
            "print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.stdout.strip() == "0", done.stderr
