"""A trial's own failure is never re-run past ``trial_retries``; a lost one is re-run at
most ``lost_retries`` times; a streak of failures stops the job naming the cause.

Embedded backends (no servers), the real orchestrator and one real GPU-worker process
(Celery prefork) whose trainer is the FAULT-INJECTION STAND-IN of
`tests.integration.fault_worker`: an oversized model raises TensorFlow's own
out-of-memory error, another a ``ConnectionError``, any other completes.
The corrupt-dataset job on real training is in test_distributed.py.
"""

from __future__ import annotations

import dataclasses
import signal
from collections.abc import Iterator
from typing import Any

import pytest

from onegin.celery_app import GPU_QUEUE, create_celery
from onegin.services import Services, use_services
from onegin.settings import Settings
from orchestrator.runner import JobRunner
from orchestrator.sweeper import sweep_job
from orchestrator.tasks import CeleryDispatcher
from tests.integration.fault_rates import OOM_RATE, UNREACHABLE_RATE
from tests.integration.harness import Process, embedded_settings, tiny_config

FAULTY = "tests.integration.fault_worker"
OOM = {"learning_rate": OOM_RATE}  # raises ResourceExhaustedError
UNREACHABLE = {"learning_rate": UNREACHABLE_RATE}  # raises ConnectionError
FINE = {"learning_rate": 0.01}


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    home = tmp_path_factory.mktemp("faults")
    settings = embedded_settings(home)
    worker = Process(settings, GPU_QUEUE, "faulty", home / "faulty.log", module=FAULTY)
    yield settings
    worker.kill(signal.SIGTERM)


def run_job(settings: Settings, initial: list[dict[str, Any]], trials: int,
            **changes: Any) -> tuple[Services, Any, list[Any]]:
    """A job of ``initial`` configurations (run first, in order) on the stand-in worker."""
    services = Services(dataclasses.replace(settings, **changes))
    use_services(services)
    config = tiny_config(trials=trials, concurrency=1, objective="simple", pruner="none",
                         warm_start=False, initial_params=initial)
    job = services.records.create_job(config.to_dict())
    ended = JobRunner(job.id, services, CeleryDispatcher(create_celery(services.settings)),
                      poll=0.1).run()
    assert sweep_job(services, job.id, apply=False) == []  # records and study agree
    return services, ended, services.records.list_trials(job.id, limit=1000)[0]


def test_out_of_memory_fails_the_trial_for_good_with_no_rerun(settings: Settings) -> None:
    _, ended, trials = run_job(settings, [OOM, FINE, FINE], trials=2)
    assert ended.status == "completed"
    assert [t.status for t in trials] == ["failed", "completed", "completed"]
    assert trials[0].error.startswith("out of memory: ResourceExhaustedError: OOM when "
                                      "allocating")
    assert not [t for t in trials if t.retry_of is not None]  # the default: no re-run


def test_trial_retries_re_runs_its_own_failure_that_many_times(settings: Settings) -> None:
    _, ended, trials = run_job(settings, [OOM, FINE], trials=2, trial_retries=1)
    assert ended.status == "completed"
    failed = [t for t in trials if t.status == "failed"]
    assert len(failed) == 2, [(t.number, t.status, t.retry_of) for t in trials]
    first, rerun = failed
    assert rerun.retry_of == first.number and rerun.params == first.params
    assert rerun.origin == "retry"


def test_a_lost_trial_is_rerun_up_to_lost_retries_then_failed_for_good(
        settings: Settings) -> None:
    _, ended, trials = run_job(settings, [UNREACHABLE, FINE], trials=2, lost_retries=1)
    assert ended.status == "completed"
    chain = [t for t in trials if t.params["learning_rate"] == UNREACHABLE_RATE]
    assert [t.status for t in chain] == ["lost", "failed"]
    assert chain[1].retry_of == chain[0].number
    assert "infrastructure: ConnectionError" in chain[0].error
    assert chain[1].error.startswith("lost 2 times, the last: infrastructure: ConnectionError")


def test_three_failures_in_a_row_stop_the_job_naming_the_cause(settings: Settings) -> None:
    _, ended, trials = run_job(settings, [OOM, OOM, OOM, FINE], trials=2)
    assert ended.status == "failed"
    assert ended.error.startswith("3 trials in a row failed; the last: out of memory: "
                                  "ResourceExhaustedError")
    assert [t.status for t in trials][:3] == ["failed"] * 3
    assert all(t.status == "cancelled" and t.started_at is None for t in trials[3:])
