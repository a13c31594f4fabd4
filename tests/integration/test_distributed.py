"""A real cluster on loopback: PostgreSQL, Redis, moto's S3 server and two GPU-worker
processes (Celery prefork workers, exactly as `onegin worker gpu` starts them)."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from onegin.artifacts import best_prefix, trial_prefix
from onegin.celery_app import GPU_QUEUE, ORCHESTRATOR_QUEUE, create_celery
from onegin.errors import ConfigErrors
from onegin.holdout import CORRUPTIONS, HOLDOUT_KEYS
from onegin.services import Services, use_services
from onegin.settings import Settings
from onegin.submission import submit_job
from orchestrator.runner import JobRunner
from orchestrator.tasks import CeleryDispatcher
from tests.integration.harness import (
    TINY,
    TINY_MODEL,
    EventWatcher,
    Process,
    cluster_settings,
    in_thread,
    of_type,
    tiny_config,
    training_started,
)

TRIAL_FILES = ("model.keras", "history.json", "metrics.json", "architecture.json")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, postgres_url: str, redis_url: str,
            s3_endpoint: str) -> Iterator[tuple[Services, list[Process]]]:
    os.environ.update({"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"})
    home = tmp_path_factory.mktemp("cluster")
    settings = cluster_settings(home, postgres_url, redis_url, s3_endpoint,
                                f"onegin-{uuid.uuid4().hex[:8]}")
    services = Services(settings)
    use_services(services)
    services.records  # noqa: B018  (opening it migrates the schema)
    from onegin.records.migrate import upgrade

    upgrade(settings.database_url)
    workers = [Process(settings, GPU_QUEUE, f"gpu{i}-{uuid.uuid4().hex[:4]}",
                       home / f"gpu{i}.log") for i in range(2)]
    yield services, workers
    for worker in workers:
        worker.kill(signal.SIGTERM)


def run_job(services: Services, config: Any) -> tuple[str, Any]:
    job = services.records.create_job(config.to_dict())
    runner = JobRunner(job.id, services, CeleryDispatcher(create_celery(services.settings)))
    return job.id, runner


def assert_consistent(services: Services, job_id: str, budget: int) -> list[Any]:
    trials, total = services.records.list_trials(job_id, limit=1000)
    numbers = [t.number for t in trials]
    assert numbers == list(range(total)), "trial numbers must be contiguous and unique"
    assert not [t for t in trials if t.status in ("queued", "running")], "nothing left running"
    counted = [t for t in trials if t.status in ("completed", "pruned")]
    assert len(counted) == budget
    return trials


def next_orchestrator_finishes(services: Services, settings: Settings, watcher: EventWatcher,
                               log: Path, *, budget: int, timeout: float) -> None:
    """Start another orchestrator; it must finish the watched job exactly on budget."""
    second = Process(settings, ORCHESTRATOR_QUEUE, log.stem, log)
    try:
        watcher.wait_for(of_type("job_finished"), timeout=timeout)
    finally:
        second.kill(signal.SIGTERM)
    assert services.records.get_job(watcher.job_id).status == "completed"
    assert_consistent(services, watcher.job_id, budget)


def test_full_job_puts_every_artifact_in_s3(cluster: tuple[Services, list[Process]]) -> None:
    services, _ = cluster
    job_id, runner = run_job(services, tiny_config(trials=4, concurrency=2, plot_mode="all"))
    job = runner.run()
    assert job.status == "completed"
    trials = assert_consistent(services, job_id, 4)
    store = services.artifacts
    for trial in trials:
        assert trial.status == "completed"
        assert trial.artifact_prefix == trial_prefix(job_id, trial.number)
        assert 0 <= trial.val_accuracy <= 1 and trial.total_score is not None
        assert set(trial.health) >= {"neuron_utilization", "gradient_health"}
        assert trial.worker and trial.started_at and trial.finished_at
        keys = {info.key for info in store.list(trial.artifact_prefix)}
        for name in TRIAL_FILES:
            assert trial.artifact_prefix + name in keys
        assert any(k.startswith(trial.artifact_prefix + "plots/") for k in keys)
        assert any(k.startswith(trial.artifact_prefix + "tensorboard/") for k in keys)
    best = max(trials, key=lambda t: t.total_score)
    assert job.best_trial_number == best.number
    assert job.best_score == pytest.approx(best.total_score)
    assert store.get_bytes(best_prefix(job_id) + "model.keras") == store.get_bytes(
        trial_prefix(job_id, best.number) + "model.keras")
    doc = yaml.safe_load(store.get_bytes(best_prefix(job_id) + "best_hyperparameters.yaml"))
    assert doc["trial"] == best.number and doc["hyperparameters"] == best.params
    # the study agrees with the records
    from orchestrator.study import open_study

    study = open_study(job_id, tiny_config(trials=4), services.settings.database_url)
    assert study.best_trial.number == best.number
    assert len(study.trials) == 4
    events, _ = services.events.read(job_id, None, limit=100_000)
    kinds = [e["type"] for e in events]
    assert kinds[-1] == "job_finished" and kinds.count("trial_finished") == 4
    assert "trial_progress" in kinds and "job_progress" in kinds


def test_a_holdout_job_records_each_trials_holdout_report(
        cluster: tuple[Services, list[Process]]) -> None:
    services, _ = cluster
    job_id, runner = run_job(services, tiny_config(trials=2, concurrency=2, holdout=True))
    assert runner.run().status == "completed"
    for trial in assert_consistent(services, job_id, 2):
        assert trial.status == "completed"
        report = trial.to_dict()["holdout"]  # what the API answers (JSONB: keys reordered)
        assert set(report) == set(HOLDOUT_KEYS)
        assert set(report["robustness"]) == set(CORRUPTIONS["image"])
        assert report["samples"] == trial.metrics["dataset"]["splits"]["holdout"]
        stored = json.loads(services.artifacts.get_bytes(trial.artifact_prefix + "metrics.json"))
        assert stored["holdout"] == report


def test_cancel_stops_running_trials_and_keeps_finished_ones(
        cluster: tuple[Services, list[Process]]) -> None:
    services, _ = cluster
    job_id, runner = run_job(services, tiny_config(trials=6, concurrency=2, epochs=40,
                                                   max_train_samples=600))
    watcher = EventWatcher(services.events, job_id)
    with in_thread(runner.run) as box:
        watcher.wait_for(training_started)
        services.records.update_job(job_id, status="cancelling")
        watcher.wait_for(of_type("job_finished"), timeout=120)
    job = box[0]
    assert job.status == "cancelled"
    trials, _ = services.records.list_trials(job_id)
    assert trials and all(t.status in ("cancelled", "completed") for t in trials)
    stopped = [t for t in trials if t.status == "cancelled" and t.started_at]
    assert stopped, "a running trial must have been stopped"
    for trial in stopped:  # stopped early, far from its 40 epochs
        assert (trial.finished_at - trial.started_at).total_seconds() < 60


def test_worker_killed_mid_trial_is_rerun(cluster: tuple[Services, list[Process]]) -> None:
    services, _ = cluster
    # long enough (40 epochs of 600 digits) that the kill lands mid-training
    job_id, runner = run_job(services, tiny_config(trials=3, concurrency=2, epochs=40,
                                                   max_train_samples=600, pruner="none"))
    watcher = EventWatcher(services.events, job_id)
    with in_thread(runner.run) as box:
        victim = watcher.wait_for(training_started)
        started = watcher.wait_for(
            lambda e: e["type"] == "trial_started" and e["trial"] == victim["trial"])
        pid = int(started["data"]["worker"].rsplit(":", 1)[1])  # the pool child training it
        os.kill(pid, signal.SIGKILL)
        watcher.wait_for(of_type("job_finished"), timeout=240)
    assert box[0].status == "completed"
    trials = assert_consistent(services, job_id, 3)
    lost = services.records.get_trial(job_id, victim["trial"])
    assert lost.status == "lost" and "heartbeat" in (lost.error or "")
    reruns = [t for t in trials if t.retry_of == lost.number]
    assert len(reruns) == 1 and reruns[0].params == lost.params
    assert reruns[0].status == "completed"


def test_orchestrator_restart_resumes_without_gaps(
        cluster: tuple[Services, list[Process]], tmp_path: Path) -> None:
    services, _ = cluster
    settings = services.settings
    job = services.records.create_job(tiny_config(trials=5, concurrency=2).to_dict())
    watcher = EventWatcher(services.events, job.id)
    first = Process(settings, ORCHESTRATOR_QUEUE, "orch-a", tmp_path / "orch-a.log")
    submit_job(create_celery(settings), job.id)
    watcher.wait_for(of_type("trial_finished", status="completed"))
    first.kill(signal.SIGKILL)
    next_orchestrator_finishes(services, settings, watcher, tmp_path / "orch-b.log",
                               budget=5, timeout=240)


def test_sigterm_hands_the_job_to_the_next_orchestrator_at_once(
        cluster: tuple[Services, list[Process]], tmp_path: Path) -> None:
    """A stopping orchestrator releases its job: the next one need not wait out its claim."""
    services, _ = cluster
    # a claim only expires after 120 s here: a takeover sooner proves the hand-over
    settings = dataclasses.replace(services.settings, heartbeat_timeout=120.0)
    job = services.records.create_job(tiny_config(trials=4, concurrency=2).to_dict())
    watcher = EventWatcher(services.events, job.id)
    first = Process(settings, ORCHESTRATOR_QUEUE, "orch-stop", tmp_path / "orch-stop.log")
    submit_job(create_celery(settings), job.id)
    watcher.wait_for(training_started)
    first.proc.send_signal(signal.SIGTERM)  # the main process only, as Kubernetes does
    assert first.proc.wait(timeout=30) == 0
    assert services.records.get_job(job.id).status == "running"  # handed over, not ended
    next_orchestrator_finishes(services, settings, watcher, tmp_path / "orch-next.log",
                               budget=4, timeout=90)


def test_pruning_stops_a_bad_trial_early(cluster: tuple[Services, list[Process]]) -> None:
    """The median pruner, not the hopeless stop, ends the bad trial: it judges once five
    trials have finished (`make_pruner`), from the epoch after the warm-up (3 of 10).
    Without hopeless stops the worker reads the stop flag at epoch ends: 600 digits make
    an epoch long enough that the flag is read well before the last."""
    services, _ = cluster
    good = {"learning_rate": 0.01, "optimizer": "adam"}
    bad = {"learning_rate": 1e-5, "optimizer": "sgd"}
    config = tiny_config(trials=6, concurrency=1, epochs=10, max_train_samples=600,
                         pruner="median", hopeless_stop=False,
                         params=TINY_MODEL | {"learning_rate": {"low": 1e-5, "high": 1e-2}},
                         initial_params=[good] * 5 + [bad])
    job_id, runner = run_job(services, config)
    assert runner.run().status == "completed"
    trials = assert_consistent(services, job_id, 6)
    pruned = trials[5]
    assert (pruned.status, pruned.metrics["prune_reason"]) == ("pruned", "pruner")
    assert 4 <= pruned.metrics["epochs_run"] < 10
    assert pruned.intermediate and len(pruned.intermediate) < 10
    assert [t.status for t in trials[:5]] == ["completed"] * 5


def test_invalid_job_configurations_name_every_field() -> None:
    with pytest.raises(ConfigErrors) as err:
        tiny_config(trials=0, concurrency="two", pruner="sometimes",
                    params={"conv_layers": {"low": 3, "high": 1}}, colour="blue")
    assert set(err.value.as_dict()) == {"trials", "concurrency", "pruner",
                                        "params.conv_layers", "colour"}


def _submit_and_follow(services: Services, log: Path,
                       *flags: str) -> subprocess.CompletedProcess[str]:
    """`onegin optimize --submit --follow` with ``flags``, while an orchestrator runs. The
    CLI uses the records, the broker and the events, as an orchestrator does."""
    from onegin.local_workers import child_environ
    from onegin.settings import ORCHESTRATOR

    orchestrator = Process(services.settings, ORCHESTRATOR_QUEUE, log.stem, log)
    env = child_environ(services.settings, ORCHESTRATOR) | {"COLUMNS": "120"}
    try:
        return subprocess.run(
            [sys.executable, "-m", "onegin.cli", "optimize", "--submit", "--follow", *flags],
            capture_output=True, text=True, env=env, timeout=300, check=False)
    finally:
        orchestrator.kill(signal.SIGTERM)


def test_cli_submit_and_follow_against_the_cluster(
        cluster: tuple[Services, list[Process]], tmp_path: Path) -> None:
    services, _ = cluster
    # the harness's tiny job, whose trials learn in their one epoch: in the default space
    # both could still be at chance after it, be pruned, and fail the job
    job_file = tmp_path / "job.yaml"
    job_file.write_text(yaml.safe_dump(TINY))
    done = _submit_and_follow(services, tmp_path / "orch-cli.log", "--job", str(job_file),
                              "--trials", "2", "--concurrency", "2")
    assert done.returncode == 0, done.stderr[-3000:]
    job_id = done.stdout.split()[0]
    assert services.records.get_job(job_id).status == "completed"
    assert f"job {job_id}: completed" in done.stderr
    assert_consistent(services, job_id, 2)


def test_cli_follow_exits_non_zero_saying_why_the_job_failed(
        cluster: tuple[Services, list[Process]], tmp_path: Path) -> None:
    """As `onegin optimize` run here does: a script can tell a failed job by the status."""
    services, _ = cluster
    folder = tmp_path / "pictures"
    for name in ("cats", "dogs"):
        (folder / name).mkdir(parents=True)
        (folder / name / "x.png").write_text("a text file, not an image")
    done = _submit_and_follow(services, tmp_path / "orch-fail.log", "--dataset",
                              f"images:{folder}", "--trials", "3", "--concurrency", "1",
                              "--epochs", "1")
    assert done.returncode == 1, done.stderr[-3000:]
    job_id = done.stdout.split()[0]
    assert services.records.get_job(job_id).status == "failed"
    assert f"job {job_id}: failed (3 trials in a row failed; the last: bad data: " \
        in " ".join(done.stderr.split())


DIVERGING = {"optimizer": "rmsprop", "learning_rate": 0.1, "batch_norm": False,
             "activation": "elu", "dense_layers": 4, "dense_units": 1024, "filters": 256,
             "conv_layers": 2, "pooling": "flatten", "dropout": 0.0}
SAFE = TINY_MODEL | {"optimizer": "adam", "learning_rate": 0.01}  # learns in one epoch


def test_a_diverging_trial_is_stopped_as_hopeless_and_never_rerun(
        cluster: tuple[Services, list[Process]]) -> None:
    services, _ = cluster
    config = tiny_config(trials=2, concurrency=1, epochs=3, pruner="none", params={},
                         space="wide", initial_params=[DIVERGING, SAFE])
    job_id, runner = run_job(services, config)
    assert runner.run().status == "completed"
    trials, total = services.records.list_trials(job_id)
    assert total == 2, [(t.status, t.error) for t in trials]
    assert trials[0].status == "pruned" and trials[0].origin == "initial"
    assert trials[0].metrics["prune_reason"] == "diverged"
    assert trials[0].metrics["epochs_run"] == 1  # stopped within its first epoch
    assert trials[1].status == "completed", trials[1].error
    assert not any(t.retry_of is not None for t in trials)


def test_without_the_hopeless_stop_a_diverging_trial_fails_for_good(
        cluster: tuple[Services, list[Process]]) -> None:
    services, _ = cluster
    config = tiny_config(trials=2, concurrency=1, epochs=3, pruner="none", params={},
                         space="wide", hopeless_stop=False,
                         initial_params=[DIVERGING, SAFE, SAFE])
    job_id, runner = run_job(services, config)
    assert runner.run().status == "completed"
    trials, total = services.records.list_trials(job_id)
    assert total == 3, [(t.status, t.error) for t in trials]
    assert trials[0].status == "failed" and "diverged" in trials[0].error
    assert [t.status for t in trials[1:]] == ["completed", "completed"]
    assert not any(t.retry_of is not None for t in trials)  # failed for good: no re-run


def test_time_limit_stops_asking_for_trials(cluster: tuple[Services, list[Process]]) -> None:
    services, _ = cluster
    # no hopeless stop: with the time spent after one trial, a trial stopped at chance
    # (a fresh seed's bad draw) would leave none completed and fail the job
    job_id, runner = run_job(services, tiny_config(trials=50, concurrency=1, time_limit=1,
                                                   hopeless_stop=False))
    job = runner.run()
    trials, total = services.records.list_trials(job_id)
    assert job.status == "completed"
    assert 1 <= total < 50
    done = [t for t in trials if t.status == "completed"]
    unsent = [t for t in trials if t.status != "completed"]
    assert done and len(unsent) <= 1  # at most the one asked ahead, never started
    assert all(t.status == "cancelled" and t.started_at is None for t in unsent)


def test_a_corrupt_image_folder_fails_the_job_within_three_trials_naming_the_file(
        cluster: tuple[Services, list[Process]], tmp_path: Path) -> None:
    """Real workers and training: the loader's error names the file; nothing is re-run."""
    from PIL import Image

    from onegin.job_config import OptimizationConfig
    from orchestrator.sweeper import sweep_job

    services, _ = cluster
    folder = tmp_path / "pictures"
    (folder / "cats").mkdir(parents=True)
    (folder / "dogs").mkdir()
    (folder / "cats" / "x.png").write_text("a text file, not an image")
    Image.new("RGB", (8, 8), "white").save(folder / "dogs" / "fine.png")
    config = OptimizationConfig.from_dict({"dataset": f"images:{folder}", "trials": 4,
                                           "concurrency": 1, "epochs": 1, "objective": "simple"})
    job_id, runner = run_job(services, config)
    job = runner.run()
    assert job.status == "failed"
    assert job.error.startswith("3 trials in a row failed; the last: bad data: ")
    assert str(folder / "cats" / "x.png") in job.error
    trials, _ = services.records.list_trials(job_id)
    assert [t.status for t in trials][:3] == ["failed"] * 3
    assert all("x.png" in t.error for t in trials[:3])
    assert all(t.status == "cancelled" and t.started_at is None for t in trials[3:])
    assert not [t for t in trials if t.retry_of is not None]
    assert sweep_job(services, job_id, apply=False) == []  # records and study agree
    assert not services.artifacts.list(trial_prefix(job_id, 0))
