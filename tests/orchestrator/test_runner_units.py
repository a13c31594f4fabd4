"""The runner's dispatch loop, write-behind bookkeeping and recovery, one behaviour at a time.

The GPU queue and its workers are a FAKE dispatcher (no GPU here): it records every
trial sent and lets the test deliver what a worker would (a start, a result, a loss)
through the real control store and event bus. Time is a FAKE clock that only the
test advances, so heartbeats go stale and cancels are seen when the test says. The
record store and the study are real, on SQLite in tmp_path. The runner runs on a
thread of its own; the test waits on what it sends, never on a sleep.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
import pytest
import yaml

from onegin.artifacts import best_prefix, trial_prefix
from onegin.control.local import LocalControlStore
from onegin.events import make_event
from onegin.events.resolve import parse_backend_url
from onegin.records import JobRecord
from onegin.scoring import HEALTH_COMPONENTS
from onegin.services import Services, control_url
from onegin.statuses import JobStatus, TrialStatus
from onegin.study_storage import open_study_storage, study_name
from onegin.trial_message import TrialResult, TrialSpec
from orchestrator.runner import JOB_CLAIM, JobRunner
from tests.integration.harness import tiny_config
from tests.orchestrator.test_runner_ends import assert_closed, make_services

WAIT = 60.0  # seconds a test waits for the runner before it fails
POLL = 0.01  # the runner's poll: how long one turn waits for events (real time)
INTERVAL, TIMEOUT = 0.2, 2.0  # heartbeat interval and timeout (fake time)
LOOK = INTERVAL + 0.05  # fake seconds from one periodic look of the runner to the next


class FakeClock:
    """Clock FAKE: the time stands still until the test advances it (or, with ``step``
    set, moves on by that much at each reading: a slow machine)."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0
        self.step = 0.0

    def __call__(self) -> float:
        self.now += self.step
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class LookCountingControl(LocalControlStore):
    """The real local control store, counting the runner's beats of its job claim: it
    beats once per periodic look, so the test can wait for a look instead of sleeping."""

    def __init__(self, root: str, clock: FakeClock) -> None:
        super().__init__(root, clock=clock)
        self.looks = 0
        self.looked = threading.Condition()
        self.stops: list[tuple[int | None, str]] = []  # (trial, reason) the runner asked for

    def request_stop(self, job_id: str, number: int | None, reason: str) -> None:
        super().request_stop(job_id, number, reason)
        with self.looked:
            self.stops.append((number, reason))
            self.looked.notify_all()

    def heartbeat(self, job_id: str, number: int, owner: str) -> bool:
        alive = super().heartbeat(job_id, number, owner)
        if number == JOB_CLAIM:
            with self.looked:
                self.looks += 1
                self.looked.notify_all()
        return alive


@dataclass(frozen=True)
class Sent:
    number: int
    params: dict[str, Any]
    in_flight: int  # trials sent and not yet answered by the fake, this one included
    switch_interval: float  # the interpreter's, while the runner runs


class FakeDispatcher:
    """Dispatcher FAKE for the GPU queue and its workers.

    Records each send (and the trials then in flight); ``on_send`` answers at once
    when given, otherwise the test answers with `start`, `finish` and `lose`.
    """

    def __init__(self, services: Services, job_id: str, clock: FakeClock,
                 on_send: Callable[[FakeDispatcher, int], None] | None = None) -> None:
        self.services, self.job_id, self.clock, self.on_send = services, job_id, clock, on_send
        self.sent: list[Sent] = []
        self.revoked: list[int] = []
        self.answered: set[int] = set()
        self.changed = threading.Condition()

    # -- the Dispatcher protocol (called on the runner's thread) --
    def send(self, task_id: str, name: str, kwargs: dict[str, Any]) -> None:
        number = kwargs["number"]
        spec = TrialSpec.from_dict(kwargs["spec"])
        with self.changed:
            in_flight = len({s.number for s in self.sent} - self.answered) + 1
            self.sent.append(Sent(number, dict(spec.params), in_flight,
                                  sys.getswitchinterval()))
            self.changed.notify_all()
        if self.on_send is not None:
            self.on_send(self, number)

    def revoke(self, task_id: str) -> None:
        with self.changed:
            self.revoked.append(int(task_id.rsplit("-", 1)[1]))
            self.changed.notify_all()

    def queue_depth(self) -> int | None:
        return 0

    # -- what a worker does --
    def start(self, number: int, worker: str = "fake-gpu:1") -> None:
        self.services.control.claim(self.job_id, number, worker, ttl=TIMEOUT)
        params = next(s.params for s in reversed(self.sent) if s.number == number)
        self.services.events.publish(make_event("trial_started", self.job_id, trial=number,
                                                ts=self.clock(), params=params, worker=worker))

    def finish(self, number: int, status: str = "completed", score: float = 0.5,
               error: str | None = None, repeat: int = 1, **fields: Any) -> None:
        """The worker's result, kept and announced (``repeat`` times: a duplicate);
        ``fields`` are the result's own."""
        prefix = trial_prefix(self.job_id, number)
        trained = status in ("completed", "pruned")
        result = TrialResult(**{
            "status": status, "total_score": score if trained else None,
            "val_accuracy": score if trained else None, "epochs_run": 1 if trained else None,
            "error": error, "worker": "fake-gpu:1",
            "artifact_prefix": prefix if trained else None,
            "pruned_at_epoch": 1 if status == "pruned" else None} | fields).to_dict()
        if trained:
            self.services.artifacts.put_bytes(prefix + "metrics.json", b"{}")
        self.services.control.finish(self.job_id, number, result)
        self._answered(number)
        for _ in range(repeat):
            self.services.events.publish(make_event(
                "trial_finished", self.job_id, trial=number, status=status, result=result,
                **({"error": error} if error else {})))

    def progress(self, number: int, epoch: int, epochs: int, fraction: float = 1.0,
                 **metrics: float) -> None:
        """A training progress event, as a worker's callback publishes it."""
        self.services.events.publish(make_event(
            "trial_progress", self.job_id, trial=number, ts=self.clock(), phase="training",
            epoch=epoch, epochs=epochs, epoch_fraction=fraction,
            fraction=(epoch - 1 + fraction) / epochs, metrics=metrics))

    def lose(self, number: int, reason: str) -> None:
        """The worker reports an error that is not the trial's own (a lost service)."""
        self._answered(number)
        self.services.events.publish(make_event("trial_finished", self.job_id, trial=number,
                                                status="error", result={}, error=reason))

    def _answered(self, number: int) -> None:
        with self.changed:
            self.answered.add(number)

    # -- waiting on the runner (from the test's thread) --
    def wait_for(self, condition: Callable[[], bool], what: str) -> None:
        with self.changed:
            if not self.changed.wait_for(condition, timeout=WAIT):
                raise AssertionError(f"the runner did not get there: {what}; sent {self.sent}")

    def wait_sent(self, count: int) -> None:
        self.wait_for(lambda: len(self.sent) >= count, f"{count} trials sent")


class RunnerThread:
    """``runner.run()`` on a daemon thread (a failing test leaves no thread to join)."""

    def __init__(self, runner: JobRunner) -> None:
        self.outcome: JobRecord | BaseException | None = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(runner,), daemon=True)
        self.thread.start()

    def _run(self, runner: JobRunner) -> None:
        try:
            self.outcome = runner.run()
        except BaseException as exc:
            self.outcome = exc
        self.done.set()

    def result(self) -> JobRecord:
        assert self.done.wait(WAIT), "the runner did not end"
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        assert self.outcome is not None
        return self.outcome


@dataclass
class Rig:
    services: Services
    control: LookCountingControl
    clock: FakeClock
    job_id: str
    fake: FakeDispatcher
    runner: JobRunner

    def start(self) -> RunnerThread:
        return RunnerThread(self.runner)

    def look(self) -> None:
        """Move the clock on far enough for one periodic look of the runner (heartbeats,
        cancels, lost trials) and wait until it has looked."""
        with self.control.looked:
            looks = self.control.looks
            self.clock.advance(LOOK)
            if not self.control.looked.wait_for(lambda: self.control.looks > looks,
                                                timeout=WAIT):
                raise AssertionError("the runner did not look")

    def wait_stop(self, number: int | None, reason: str) -> None:
        """Wait until the runner raised ``reason``'s stop flag for trial ``number``."""
        with self.control.looked:
            if not self.control.looked.wait_for(
                    lambda: (number, reason) in self.control.stops, timeout=WAIT):
                raise AssertionError(f"no {reason} stop for trial {number}")

    def trials(self) -> dict[int, Any]:
        return {t.number: t for t in assert_closed(self.services, self.job_id)}

    def study(self) -> optuna.Study:
        return optuna.load_study(study_name=study_name(self.job_id),
                                 storage=open_study_storage(self.services.settings.database_url))


@pytest.fixture
def rig_for(tmp_path: Path) -> Iterator[Callable[..., Rig]]:
    """A runner for a job of ``config`` with the fakes; ``settings`` override the defaults."""
    made: list[Rig] = []

    def make(on_send: Callable[[FakeDispatcher, int], None] | None = None,
             settings: dict[str, Any] | None = None, **config: Any) -> Rig:
        services = make_services(tmp_path / "home", f"sqlite:///{tmp_path}/records.db",
                                 heartbeat_interval=INTERVAL, heartbeat_timeout=TIMEOUT,
                                 **(settings or {}))
        clock = FakeClock()
        # the control store stamps heartbeats and claims with the same fake time
        control = LookCountingControl(
            parse_backend_url(control_url(services.settings.events_url), "control_url")[1],
            clock)
        services.control = control
        job = services.records.create_job(tiny_config(seed=3, **config).to_dict())
        fake = FakeDispatcher(services, job.id, clock, on_send)
        runner = JobRunner(job.id, services, fake, poll=POLL, clock=clock)
        rig = Rig(services, control, clock, job.id, fake, runner)
        made.append(rig)
        return rig

    yield make
    for rig in made:  # a runner a failed test left behind stops at its next look
        if rig.services.records.get_job(rig.job_id).status == JobStatus.RUNNING:
            rig.services.records.update_job(rig.job_id, status=JobStatus.CANCELLING)


def complete(fake: FakeDispatcher, number: int) -> None:
    fake.finish(number, score=0.5 + number / 100)


def test_it_asks_one_trial_ahead_per_slot_and_stops_at_exactly_the_budget(
        rig_for: Callable[..., Rig]) -> None:
    rig = rig_for(trials=4, concurrency=2)
    ended = rig.start()
    rig.fake.wait_sent(2)
    study = rig.study()

    def asked() -> int:
        return len(study.get_trials(deepcopy=False))

    pause = threading.Event()  # never set: the asks run on the runner's pool threads, and
    for _ in range(int(WAIT / POLL)):  # land in the study with nothing to wait on
        if asked() >= 4:
            break
        pause.wait(POLL)
    assert asked() == 4  # 2 in flight, 2 asked ahead for the slots they will free
    assert len(rig.fake.sent) == 2  # (the asks finish in any order, so do the sends)
    for count in range(4):
        number = rig.fake.sent[count].number
        complete(rig.fake, number)
        if count < 2:
            rig.fake.wait_sent(3 + count)  # each freed slot gets the next trial

    job = ended.result()
    assert job.status == JobStatus.COMPLETED
    assert sorted(s.number for s in rig.fake.sent) == [0, 1, 2, 3]  # none sent twice
    assert max(s.in_flight for s in rig.fake.sent) == 2  # never more than the concurrency
    assert len(rig.study().trials) == 4  # not one asked beyond the budget
    assert [t.status for t in rig.trials().values()] == [TrialStatus.COMPLETED] * 4


def test_a_trial_whose_heartbeat_goes_stale_is_lost_and_rerun_with_its_params(
        rig_for: Callable[..., Rig]) -> None:
    rig = rig_for(trials=1, concurrency=1)
    ended = rig.start()
    rig.fake.wait_sent(1)
    rig.fake.start(0)
    for _ in range(int(TIMEOUT / INTERVAL) + 3):  # no beat from the worker meanwhile
        rig.look()
        if len(rig.fake.sent) > 1:
            break
    rig.fake.wait_sent(2)
    first, rerun = rig.fake.sent
    assert rerun.number == 1 and rerun.params == first.params
    assert rig.services.control.result(rig.job_id, 0) is None
    complete(rig.fake, 1)

    assert ended.result().status == JobStatus.COMPLETED
    trials = rig.trials()
    assert trials[0].status == TrialStatus.LOST
    assert trials[0].error == f"no heartbeat from fake-gpu:1 for over {TIMEOUT:.0f}s"
    assert trials[1].status == TrialStatus.COMPLETED and trials[1].retry_of == 0


def test_a_result_after_cancel_is_recorded_and_a_revoked_trials_late_result_is_not(
        rig_for: Callable[..., Rig]) -> None:
    rig = rig_for(trials=4, concurrency=2)
    ended = rig.start()
    rig.fake.wait_sent(2)
    rig.fake.start(0)  # trial 1 is still in the queue
    rig.services.records.update_job(rig.job_id, status=JobStatus.CANCELLING)
    rig.look()
    rig.fake.wait_for(lambda: rig.fake.revoked == [1], "the unstarted trial revoked")
    assert rig.services.control.stop_reason(rig.job_id, 0) == "cancel"
    complete(rig.fake, 1)  # revoked, yet a worker ran it: too late
    complete(rig.fake, 0)  # the running trial answers after the cancel

    job = ended.result()
    assert job.status == JobStatus.CANCELLED
    trials = rig.trials()
    assert trials[0].status == TrialStatus.COMPLETED and trials[0].total_score == 0.5
    assert trials[1].status == TrialStatus.CANCELLED and trials[1].total_score is None
    assert job.best_trial_number == 0
    assert sorted(s.number for s in rig.fake.sent) == [0, 1]


def test_the_runner_leaves_the_interpreter_as_its_caller_set_it(
        rig_for: Callable[..., Rig]) -> None:
    """A library caller of `onegin.optimize()` keeps its switch interval (only the
    orchestrator's service sets one, around its jobs)."""
    rig = rig_for(complete, trials=1, concurrency=1)
    before = sys.getswitchinterval()
    sys.setswitchinterval(0.007)  # the caller's own, unlike any the orchestrator sets
    callers = sys.getswitchinterval()  # as the interpreter rounds it
    try:
        assert rig.start().result().status == JobStatus.COMPLETED
        assert [s.switch_interval for s in rig.fake.sent] == [callers]
        assert sys.getswitchinterval() == callers
    finally:
        sys.setswitchinterval(before)


def test_a_duplicate_result_is_counted_once(rig_for: Callable[..., Rig]) -> None:
    rig = rig_for(lambda fake, n: fake.finish(n, score=0.6, repeat=2), trials=2, concurrency=1)
    assert rig.start().result().status == JobStatus.COMPLETED
    assert [s.number for s in rig.fake.sent] == [0, 1]  # counted twice, 1 would never run
    trials = rig.trials()
    assert [t.status for t in trials.values()] == [TrialStatus.COMPLETED] * 2
    assert rig.services.records.trial_counts(rig.job_id)[TrialStatus.COMPLETED] == 2


def test_a_time_limit_passed_before_the_first_trial_still_lets_it_run(
        rig_for: Callable[..., Rig]) -> None:
    """As Optuna's ``timeout``: the limit counts once a trial has ended. A busy machine
    whose first asks took longer than the limit failed the job with nothing trained."""
    def answer(fake: FakeDispatcher, number: int) -> None:
        fake.clock.step = 0.0
        complete(fake, number)

    rig = rig_for(answer, trials=5, concurrency=1, time_limit=1)
    rig.clock.step = 5.0  # every reading of the clock is 5 s later: past the limit at once
    job = rig.start().result()
    assert job.status == JobStatus.COMPLETED
    assert [s.number for s in rig.fake.sent] == [0]  # the first ran; none after the limit
    trials = rig.trials()
    assert trials[0].status == TrialStatus.COMPLETED
    assert all(t.status == TrialStatus.CANCELLED and t.started_at is None
               for n, t in trials.items() if n != 0)


def test_a_pruned_trial_spends_the_budget_and_is_pruned_in_the_study(
        rig_for: Callable[..., Rig]) -> None:
    answers = {0: "pruned", 1: "completed"}
    rig = rig_for(lambda fake, n: fake.finish(n, status=answers[n], score=0.4),
                  trials=2, concurrency=1)
    job = rig.start().result()
    assert job.status == JobStatus.COMPLETED and job.best_trial_number == 1
    trials = rig.trials()
    assert [trials[0].status, trials[1].status] == [TrialStatus.PRUNED, TrialStatus.COMPLETED]
    assert trials[0].metrics is not None and trials[0].metrics["pruned_at_epoch"] == 1
    states = [t.state for t in rig.study().trials]
    assert states == [optuna.trial.TrialState.PRUNED, optuna.trial.TrialState.COMPLETE]


@pytest.mark.parametrize("trial_retries", [0, 1])
def test_a_trials_own_failure_is_rerun_only_within_trial_retries(
        rig_for: Callable[..., Rig], trial_retries: int) -> None:
    def answer(fake: FakeDispatcher, number: int) -> None:
        if number == 0:
            fake.finish(number, status="failed", error="out of memory")
        else:
            complete(fake, number)

    rig = rig_for(answer, settings={"trial_retries": trial_retries}, trials=1, concurrency=1)
    assert rig.start().result().status == JobStatus.COMPLETED
    trials = rig.trials()
    assert trials[0].status == TrialStatus.FAILED and trials[0].error == "out of memory"
    assert trials[1].status == TrialStatus.COMPLETED and len(trials) == 2
    if trial_retries == 0:  # the default: a failure of its own is not run again
        assert trials[1].retry_of is None and trials[1].origin != "retry"
    else:
        assert trials[1].retry_of == 0 and trials[1].params == trials[0].params


def test_an_infrastructure_loss_is_rerun_up_to_lost_retries_then_fails_the_trial(
        rig_for: Callable[..., Rig]) -> None:
    def answer(fake: FakeDispatcher, number: int) -> None:
        if number < 4:
            fake.lose(number, f"redis unreachable ({number})")
        else:
            complete(fake, number)

    rig = rig_for(answer, trials=1, concurrency=1)  # lost_retries: 3 by default
    assert rig.start().result().status == JobStatus.COMPLETED
    trials = rig.trials()
    assert [trials[n].status for n in range(5)] == [TrialStatus.LOST] * 3 + [
        TrialStatus.FAILED, TrialStatus.COMPLETED]
    assert [trials[n].retry_of for n in range(5)] == [None, 0, 1, 2, None]
    assert len({str(trials[n].params) for n in range(4)}) == 1  # the same params each time
    assert trials[3].error == "lost 4 times, the last: redis unreachable (3)"


def test_consecutive_failures_fail_the_job_naming_the_cause(
        rig_for: Callable[..., Rig]) -> None:
    rig = rig_for(lambda fake, n: fake.finish(n, status="failed",
                                              error="cannot read image x.png"),
                  settings={"failure_streak": 3}, trials=10, concurrency=1)
    job = rig.start().result()
    assert job.status == JobStatus.FAILED
    assert job.error == "3 trials in a row failed; the last: cannot read image x.png"
    assert [s.number for s in rig.fake.sent] == [0, 1, 2]
    trials = rig.trials()  # anything asked ahead is closed, never sent
    assert [trials[n].status for n in range(3)] == [TrialStatus.FAILED] * 3
    assert all(t.status == TrialStatus.CANCELLED for n, t in trials.items() if n > 2)


def test_a_pareto_job_tells_both_objectives_and_its_weights_pick_the_best_on_the_front(
        rig_for: Callable[..., Rig]) -> None:
    # number -> (status, validation accuracy, health score); accuracy weight 1: the total
    # is the accuracy, so trials 0 and 1 tie on it and only the healthier is on the front
    answers = {0: ("completed", 0.8, 0.4), 1: ("completed", 0.8, 0.7),
               2: ("pruned", 0.1, None), 3: ("completed", 0.6, 0.9)}

    def answer(fake: FakeDispatcher, number: int) -> None:
        status, accuracy, health = answers[number]
        fake.services.events.publish(make_event(  # an epoch's end, as a worker reports it
            "trial_progress", fake.job_id, trial=number, phase="training", epoch=1, epochs=1,
            epoch_fraction=1.0, fraction=1.0, metrics={"val_accuracy": accuracy}))
        prefix = trial_prefix(fake.job_id, number)
        fake.services.artifacts.put_bytes(prefix + "metrics.json", b"{}")
        result = TrialResult(
            status=status,  # type: ignore[arg-type]
            val_accuracy=accuracy, total_score=accuracy, epochs_run=1,
            health=None if health is None else dict.fromkeys(HEALTH_COMPONENTS, health),
            health_score=health, artifact_prefix=prefix, worker="fake-gpu:1",
            pruned_at_epoch=1 if status == "pruned" else None).to_dict()
        fake.services.control.finish(fake.job_id, number, result)
        fake.services.events.publish(make_event("trial_finished", fake.job_id, trial=number,
                                                status=status, result=result))

    rig = rig_for(answer, trials=4, concurrency=1, objective="pareto",
                  weights={"accuracy": 1.0})
    job = rig.start().result()
    assert job.status == JobStatus.COMPLETED and job.best_trial_number == 1
    study = {t.number: t for t in rig.study().trials}
    for number, (status, accuracy, health) in answers.items():
        if status == "completed":
            assert study[number].values == pytest.approx([accuracy, health])
        assert study[number].intermediate_values == {}  # a multi-objective study takes none
        assert rig.trials()[number].intermediate == {"1": accuracy}  # the record keeps it
    assert study[2].state == optuna.trial.TrialState.PRUNED
    best = yaml.safe_load(rig.services.artifacts.get_bytes(
        best_prefix(rig.job_id) + "best_hyperparameters.yaml"))
    assert (best["trial"], best["pareto_front"]) == (1, [1, 3])


def test_a_pruned_trials_record_names_the_median_it_missed_and_where_it_stopped(
        rig_for: Callable[..., Rig]) -> None:
    epochs = 3  # the median pruner judges epoch 2 (after a third), never the last
    scores = {n: 0.8 + n / 100 for n in range(5)}

    def answer(fake: FakeDispatcher, number: int) -> None:
        if number in scores:  # the five completed trials the median pruner waits for
            for epoch in range(1, epochs + 1):
                fake.progress(number, epoch, epochs, val_accuracy=scores[number] - 0.1 * (
                    epochs - epoch))
            fake.finish(number, score=scores[number], epochs_run=epochs)

    rig = rig_for(answer, trials=6, concurrency=1, epochs=epochs, pruner="median")
    ended = rig.start()
    rig.fake.wait_sent(6)
    rig.fake.start(5)
    rig.fake.progress(5, 1, epochs, val_accuracy=0.3)
    rig.fake.progress(5, 2, epochs, val_accuracy=0.4)
    rig.wait_stop(5, "prune")
    rig.fake.progress(5, 3, epochs, fraction=0.25, val_accuracy=0.45)  # not judged: stopping
    rig.fake.finish(5, "pruned", score=0.4, epochs_run=3, pruned_at_epoch=3,
                    prune_reason="pruner", prune_evidence={"epoch": 3, "batch": 2})

    assert ended.result().status == JobStatus.COMPLETED
    evidence = rig.trials()[5].metrics["prune_evidence"]
    median_at_2 = sorted(scores.values())[2] - 0.1  # the five completed trials' at epoch 2
    assert evidence == {"epoch": 3, "batch": 2, "rule": "median", "judged_epoch": 2,
                        "value": 0.4, "threshold": pytest.approx(median_at_2), "peers": 5}
    assert [stop for stop in rig.control.stops if stop[0] == 5] == [(5, "prune")]


def test_cancelled_failed_and_lost_trials_keep_where_they_stopped_and_whose_failure(
        rig_for: Callable[..., Rig]) -> None:
    rig = rig_for(trials=3, concurrency=3, epochs=4, settings={"lost_retries": 1})
    ended = rig.start()
    rig.fake.wait_sent(3)
    for number in range(3):
        rig.fake.start(number)
        rig.fake.progress(number, 2, 4, fraction=0.5, val_accuracy=0.6)
    rig.fake.finish(0, "failed", error="out of memory: OOM when allocating",
                    cause="out of memory")
    rig.fake.lose(1, "no heartbeat from fake-gpu:1 for over 2s")
    rig.fake.wait_sent(4)  # trial 1's parameters again (the lost cap is 1)
    rig.services.records.update_job(rig.job_id, status=JobStatus.CANCELLING)
    rig.look()
    rig.wait_stop(None, "cancel")
    rig.fake.finish(2, "cancelled")

    assert ended.result().status == JobStatus.CANCELLED
    trials = rig.trials()
    where = {"phase": "training", "epoch": 2, "epochs": 4, "epoch_fraction": 0.5,
             "fraction": 0.375}
    assert trials[0].metrics == {"last_progress": where, "failure": {
        "cause": "out of memory", "infrastructure": False, "rerun": False}}
    assert trials[1].status == TrialStatus.LOST and trials[1].metrics == {
        "last_progress": where, "failure": {"cause": "lost", "infrastructure": True,
                                            "rerun": True}}
    assert trials[2].status == TrialStatus.CANCELLED
    assert trials[2].metrics == {"last_progress": where}
