"""The real `JobRunner` speaks the trial message: what it sends reads as a `TrialSpec`
on the worker's side, and a result it cannot read (a worker of another message version)
loses the trial, which is re-run, rather than breaking the job.

The GPU worker is a FAKE dispatcher that answers at once (no worker of another version
exists here to send such a result); records, study, events and control store are real.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from onegin.artifacts import trial_prefix
from onegin.events import make_event
from onegin.services import Services
from onegin.trial_message import MESSAGE_VERSION, TrialResult, TrialSpec
from orchestrator.runner import JobRunner
from tests.integration.harness import tiny_config
from tests.orchestrator.test_runner_ends import assert_closed, make_services


class FakeWorker:
    """Dispatcher FAKE: reads each message as a worker does, answers with ``answers``
    (each with an uploaded metrics.json, so the best trial's artifacts can be copied)."""

    def __init__(self, services: Services, job_id: str, answers: list[dict[str, Any]]) -> None:
        self.services, self.job_id, self.answers = services, job_id, answers
        self.specs: list[TrialSpec] = []

    def send(self, task_id: str, name: str, kwargs: dict[str, Any]) -> None:
        number = kwargs["number"]
        self.specs.append(TrialSpec.from_dict(kwargs["spec"]))
        answer = self.answers.pop(0) | {"artifact_prefix": trial_prefix(self.job_id, number)}
        self.services.artifacts.put_bytes(answer["artifact_prefix"] + "metrics.json", b"{}")
        self.services.control.finish(self.job_id, number, answer)
        self.services.events.publish(make_event("trial_finished", self.job_id, trial=number,
                                                status=answer["status"], result=answer))

    def revoke(self, task_id: str) -> None:
        pass

    def queue_depth(self) -> int | None:
        return 0


def test_a_result_of_an_unknown_version_loses_the_trial_and_its_rerun_completes(
        tmp_path: Path, records_db_url: str) -> None:
    services = make_services(tmp_path / "home", records_db_url)
    config = tiny_config(trials=1, concurrency=1, seed=7)
    job = services.records.create_job(config.to_dict())
    good = TrialResult(status="completed", total_score=0.6, val_accuracy=0.6, epochs_run=1,
                       worker="fake:1").to_dict()
    worker = FakeWorker(services, job.id, [good | {"version": MESSAGE_VERSION + 1}, good])

    ended = JobRunner(job.id, services, worker, poll=0.05).run()

    assert ended.status == "completed" and ended.best_score == 0.6
    first, rerun = worker.specs
    assert (first.dataset, first.epochs, first.plot_mode) == ("digits", 1, "best")
    assert (first.seed, first.data_seed) == (7, 7)
    assert rerun.params == first.params and rerun.seed == 8  # same parameters, next trial
    trials = {t.number: t for t in assert_closed(services, job.id)}
    assert trials[0].status == "lost" and trials[0].error is not None
    assert "version" in trials[0].error and "unknown message version 2" in trials[0].error
    assert trials[1].status == "completed" and trials[1].retry_of == 0
    assert trials[1].total_score == 0.6 and trials[1].worker == "fake:1"
