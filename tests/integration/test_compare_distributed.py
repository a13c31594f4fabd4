"""A comparison on a real cluster on loopback: PostgreSQL, Redis, moto's S3 server, two
GPU-worker processes and ONE orchestrator worker with a single slot (its `run_job`
task takes a look at the comparison and sends itself again while the runs train, so
its runs, on the same queue, are never starved). Sent and waited for as a user does:
`onegin compare --submit --wait`."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import yaml

from onegin.artifacts import report_prefix
from onegin.celery_app import ORCHESTRATOR_QUEUE
from onegin.compare_config import arm_of, is_retrain
from onegin.local_workers import child_environ
from onegin.services import Services
from onegin.settings import ORCHESTRATOR
from tests.integration.harness import TINY, Process
from tests.integration.test_distributed import cluster

__all__ = ["cluster"]  # the module's cluster fixture, shared


def test_a_comparison_runs_its_searches_and_retrains_on_the_cluster(
        cluster: tuple[Services, list[Process]], tmp_path: Path) -> None:
    services, _ = cluster
    settings = services.settings
    job = tmp_path / "comparison.yaml"
    job.write_text(yaml.safe_dump(TINY | {"trials": 2, "seeds": 1, "seed": 33,
                                          "retrain_seeds": 1, "concurrency": 2}))
    orchestrator = Process(settings, ORCHESTRATOR_QUEUE, "orch-compare", tmp_path / "orch.log")
    # the command sends and waits: the records, the broker and the events, as an orchestrator
    env = child_environ(settings, ORCHESTRATOR) | {"COLUMNS": "120"}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "onegin.cli", "compare", "--job", str(job), "--submit",
             "--wait"], capture_output=True, text=True, env=env, timeout=600, check=False)
    finally:
        orchestrator.kill(signal.SIGTERM)
    assert done.returncode == 0, done.stderr[-3000:]
    comparison_id = done.stdout.splitlines()[0]
    job_record = services.records.get_job(comparison_id)
    assert job_record.status == "completed", job_record.error
    runs = services.records.list_children(comparison_id)
    assert sorted((arm_of(r), is_retrain(r)) for r in runs) == [
        ("accuracy", False), ("accuracy", True), ("health", False), ("health", True)]
    assert {r.status for r in runs} == {"completed"}
    prefix = report_prefix(comparison_id)
    summary = json.loads(services.artifacts.get_bytes(prefix + "summary.json"))
    for arm in ("accuracy", "health"):
        [run] = summary["arms"][arm]["runs"]
        assert run["seed"] == 33 and len(run["trials"]) == 2
        row = next(line for line in done.stdout.splitlines() if line.startswith(f"{arm} "))
        assert row.split()[:3] == [arm, "33", run["job_id"]]  # the table printed
        assert summary["arms"][arm]["retrain"]["seed"] == 33
        assert all(t["holdout"]["samples"] > 0 for t in run["trials"]
                   if t["status"] == "completed")
    assert all(services.artifacts.exists(prefix + name)
               for name in ("report.html", "report.pdf", "analysis.json"))
    assert done.stdout.splitlines()[-1].startswith("report: ")
