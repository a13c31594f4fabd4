"""A comparison on a real cluster on loopback: PostgreSQL, Redis, moto's S3 server, two
GPU-worker processes and ONE orchestrator worker with a single slot (its `run_job`
task takes a look at the comparison and sends itself again while the runs train, so
its runs, on the same queue, are never starved)."""

from __future__ import annotations

import json
import signal
import uuid

from onegin.artifacts import report_prefix
from onegin.celery_app import ORCHESTRATOR_QUEUE, create_celery
from onegin.compare_config import CompareConfig
from onegin.services import Services
from onegin.submission import create_comparison, submit_job
from orchestrator.compare_summary import arm_of, is_retrain
from tests.integration.harness import TINY, EventWatcher, Process, of_type
from tests.integration.test_distributed import cluster

__all__ = ["cluster"]  # the module's cluster fixture, shared


def test_a_comparison_runs_its_searches_and_retrains_on_the_cluster(
        cluster: tuple[Services, list[Process]]) -> None:
    services, _ = cluster
    settings = services.settings
    config = CompareConfig.from_dict(TINY | {"trials": 2, "seeds": 1, "seed": 33,
                                             "retrain_seeds": 1, "concurrency": 2})
    job = create_comparison(services.records, config)
    watcher = EventWatcher(services.events, job.id)
    log = settings.home / f"orch-{uuid.uuid4().hex[:6]}.log"
    orchestrator = Process(settings, ORCHESTRATOR_QUEUE, log.stem, log)
    try:
        submit_job(create_celery(settings), job.id)
        watcher.wait_for(of_type("job_finished"), timeout=600)
    finally:
        orchestrator.kill(signal.SIGTERM)
    job = services.records.get_job(job.id)
    assert job.status == "completed", job.error
    runs = services.records.list_children(job.id)
    assert sorted((arm_of(r), is_retrain(r)) for r in runs) == [
        ("accuracy", False), ("accuracy", True), ("health", False), ("health", True)]
    assert {r.status for r in runs} == {"completed"}
    prefix = report_prefix(job.id)
    summary = json.loads(services.artifacts.get_bytes(prefix + "summary.json"))
    for arm in ("accuracy", "health"):
        [run] = summary["arms"][arm]["runs"]
        assert run["seed"] == 33 and len(run["trials"]) == 2
        assert summary["arms"][arm]["retrain"]["seed"] == 33
        assert all(t["holdout"]["samples"] > 0 for t in run["trials"]
                   if t["status"] == "completed")
    assert all(services.artifacts.exists(prefix + name)
               for name in ("report.html", "report.pdf", "analysis.json"))
