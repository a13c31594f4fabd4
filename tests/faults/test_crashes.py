"""kill -9 of a GPU worker or of the orchestrator mid-job: the job still spends exactly
its budget, and records, study and artifacts agree."""

from __future__ import annotations

import signal
from pathlib import Path

from tests.faults.conftest import FaultCluster
from tests.faults.invariant import assert_job_invariant
from tests.integration.harness import Process, of_type, tiny_config, training_started

FINISH = 240.0


def test_gpu_worker_killed_mid_trial(cluster: FaultCluster, orchestrator: Process) -> None:
    # eight epochs: the kill lands while the trial trains
    job_id, watcher = cluster.submit(tiny_config(trials=3, concurrency=2, epochs=8,
                                                 pruner="none"))
    victim = watcher.wait_for(training_started, timeout=FINISH)["trial"]
    started = watcher.wait_for(lambda e: e["type"] == "trial_started" and e["trial"] == victim)
    child = int(started["data"]["worker"].rsplit(":", 1)[1])
    worker = cluster.worker_running(child)
    worker.kill(signal.SIGKILL)  # the whole worker: its main process and its pool child
    watcher.wait_for(of_type("job_finished"), timeout=FINISH)
    checked = assert_job_invariant(cluster.services, job_id, budget=3)
    lost = next(t for t in checked.trials if t.number == victim)
    assert lost.status == "lost" and "heartbeat" in (lost.error or ""), lost
    reruns = [t for t in checked.trials if t.retry_of == victim]
    assert [(t.status, t.params) for t in reruns] == [("completed", lost.params)]


def test_orchestrator_killed_mid_job(cluster: FaultCluster, orchestrator: Process,
                                     tmp_path: Path) -> None:
    job_id, watcher = cluster.submit(tiny_config(trials=4, concurrency=2, epochs=3,
                                                 pruner="none"))
    watcher.wait_for(training_started, timeout=FINISH)
    orchestrator.kill(signal.SIGKILL)
    # the next orchestrator resumes the job once the dead one's claim expires
    successor = cluster.start_orchestrator(tmp_path / "successor.log")
    try:
        watcher.wait_for(of_type("job_finished"), timeout=FINISH)
    finally:
        successor.kill(signal.SIGTERM)
    assert_job_invariant(cluster.services, job_id, budget=4)
