"""The orchestrator stops a trial whose pace predicts far more than its peers' median time,
and never asks the pruner after a trial's last epoch.

Embedded backends (no servers) and one real worker process whose trainer is the
paced stand-in of `tests.integration.pace_worker`, so trial lengths are chosen here.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest

from onegin.celery_app import GPU_QUEUE, create_celery
from onegin.hopeless import TOO_SLOW_FACTOR
from onegin.services import Services, use_services
from orchestrator.runner import JobRunner
from orchestrator.tasks import CeleryDispatcher
from tests.integration.harness import Process, embedded_settings, tiny_config

PACED = "tests.integration.pace_worker"
EPOCHS = 10


def paced(ticks_per_epoch: int) -> dict[str, float]:
    return {"dropout": ticks_per_epoch / 100}


def run_paced(tmp_path: Path, **fields: Any) -> list[Any]:
    """A job on one paced stand-in worker; its trial records."""
    settings = embedded_settings(tmp_path)
    services = Services(settings)
    use_services(services)
    worker = Process(settings, GPU_QUEUE, "paced", tmp_path / "paced.log", module=PACED)
    try:
        config = tiny_config(concurrency=1, objective="simple", params={}, **fields)
        job = services.records.create_job(config.to_dict())
        runner = JobRunner(job.id, services, CeleryDispatcher(create_celery(settings)))
        assert runner.run().status == "completed"
    finally:
        worker.kill(signal.SIGTERM)
    return services.records.list_trials(job.id)[0]


def test_the_pruner_is_not_asked_after_the_last_epoch(tmp_path: Path) -> None:
    steady, falls = paced(2), paced(2) | {"activation": "elu"}
    trials = run_paced(tmp_path, trials=3, epochs=2, pruner="median",
                       initial_params=[steady, steady, falls])
    assert [t.status for t in trials] == ["completed"] * 3  # nothing left to save by then
    assert trials[2].val_accuracy < trials[0].val_accuracy
    assert trials[2].intermediate == {"1": pytest.approx(0.5), "2": pytest.approx(0.6)}


def test_a_trial_far_slower_than_its_peers_is_stopped_and_others_are_not(
        tmp_path: Path) -> None:
    settings = embedded_settings(tmp_path)
    services = Services(settings)
    use_services(services)
    worker = Process(settings, GPU_QUEUE, "paced", tmp_path / "paced.log", module=PACED)
    try:
        fast, twice, slow = paced(4), paced(8), paced(32)  # 2 s, 4 s, 16 s of training
        config = tiny_config(trials=4, concurrency=1, epochs=EPOCHS, pruner="none", params={},
                             objective="simple", initial_params=[fast, fast, twice, slow])
        job = services.records.create_job(config.to_dict())
        runner = JobRunner(job.id, services, CeleryDispatcher(create_celery(settings)))
        assert runner.run().status == "completed"
    finally:
        worker.kill(signal.SIGTERM)
    trials, _ = services.records.list_trials(job.id)
    assert [t.status for t in trials] == ["completed", "completed", "completed", "pruned"]
    stopped = trials[3]
    assert stopped.metrics["prune_reason"] == "too_slow"
    evidence = stopped.metrics["prune_evidence"]
    assert evidence["predicted_seconds"] > TOO_SLOW_FACTOR * evidence["median_seconds"]
    assert stopped.metrics["epochs_run"] < EPOCHS  # stopped early, not at the end
    assert all(t.metrics.get("prune_reason") is None for t in trials[:3])
