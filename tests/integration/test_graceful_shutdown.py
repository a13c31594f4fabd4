"""SIGTERM to a GPU worker mid-trial hands the trial back: a real cluster on loopback.

PostgreSQL, Redis, moto's S3 server, the real orchestrator (`JobRunner` in a
thread) and GPU workers started exactly as their container starts them:
``bash deploy/entrypoint.sh gpu-worker`` with the settings as ``ONEGIN_*``
variables and stdout/stderr not a terminal (so logs are JSON). The worker's
main process gets SIGTERM, as from ``docker stop`` or Kubernetes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gpu_worker.shutdown import HANDED_BACK
from onegin.celery_app import GPU_QUEUE, create_celery
from onegin.local_workers import child_environ
from onegin.queue_depth import queue_depth
from onegin.services import Services, use_services
from onegin.settings import GPU_WORKER, Settings, load_settings
from orchestrator.runner import JobRunner
from orchestrator.tasks import CeleryDispatcher
from tests.integration.harness import EventWatcher, in_thread, of_type, tiny_config

REPO = Path(__file__).resolve().parents[2]
ENTRYPOINT = REPO / "deploy" / "entrypoint.sh"
EXIT_WITHIN = 20.0  # seconds; Kubernetes kills after 30


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory, postgres_url: str, redis_url: str,
             s3_endpoint: str) -> Settings:
    os.environ.update({"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"})
    from onegin.records.migrate import upgrade

    upgrade(postgres_url)
    return load_settings(env={}, overrides={
        "home": str(tmp_path_factory.mktemp("graceful")), "database_url": postgres_url,
        "broker_url": redis_url, "events_url": redis_url,
        "artifacts_url": f"s3://onegin-{uuid.uuid4().hex[:8]}/onegin",
        "s3_endpoint_url": s3_endpoint, "offline": True, "tf_threads": 1,
        # a long timeout: the re-run must come from the hand-back, not from a lost heartbeat
        "heartbeat_interval": 0.5, "heartbeat_timeout": 120.0, "shutdown_grace": 1.0,
    })


class Container:
    """A GPU worker as its container runs it; `stop` is ``docker stop`` (SIGTERM, main pid)."""

    def __init__(self, settings: Settings, log: Path) -> None:
        assert ENTRYPOINT.is_file(), "deploy/entrypoint.sh is the container's command"
        env = child_environ(settings, GPU_WORKER) | {
            "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
            "TF_CPP_MIN_LOG_LEVEL": "2"}
        self.log = log
        with log.open("ab") as out:
            self.proc = subprocess.Popen(["bash", str(ENTRYPOINT), "gpu-worker"], cwd=REPO,
                                         env=env, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)

    def stop(self) -> tuple[int, float]:
        """SIGTERM to the main process; its exit code and how long it took."""
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=60)
        return code, time.monotonic() - started

    def lines(self) -> list[dict[str, Any]]:
        """The JSON log lines (Celery's banner and TensorFlow's C++ output are not JSON)."""
        found = []
        for text in self.log.read_text(errors="replace").splitlines():
            if text.startswith("{"):
                found.append(json.loads(text))
        return found

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=60)


@pytest.fixture
def containers(tmp_path: Path) -> Iterator[list[Container]]:
    started: list[Container] = []
    yield started
    for container in started:
        container.kill()


def test_sigterm_mid_trial_hands_it_back_and_the_job_still_spends_its_budget(
        settings: Settings, containers: list[Container], tmp_path: Path) -> None:
    services = Services(settings)
    use_services(services)
    first = Container(settings, tmp_path / "gpu-a.log")
    containers.append(first)
    job = services.records.create_job(tiny_config(
        trials=1, concurrency=1, epochs=15, max_train_samples=600, pruner="none").to_dict())
    runner = JobRunner(job.id, services, CeleryDispatcher(create_celery(settings)))
    watcher = EventWatcher(services.events, job.id)

    with in_thread(runner.run) as box:
        victim = watcher.wait_for(lambda e: e["type"] == "trial_progress"
                                  and e["data"]["phase"] == "training"
                                  and e["data"]["epoch"] >= 2, timeout=180)
        number = victim["trial"]
        signalled = time.monotonic()
        code, seconds = first.stop()
        assert code == 0, first.log.read_text()[-3000:]
        assert seconds < EXIT_WITHIN, f"the worker took {seconds:.1f}s to exit"
        print(f"worker exited 0 {seconds:.1f}s after SIGTERM")  # shown with pytest -rP
        handed = watcher.wait_for(of_type("trial_finished"), timeout=30)
        assert handed["trial"] == number and handed["data"]["status"] == "error"
        assert handed["data"]["error"].startswith(HANDED_BACK)

        second = Container(settings, tmp_path / "gpu-b.log")
        containers.append(second)
        rerun_started = watcher.wait_for(
            lambda e: e["type"] == "trial_started" and e["trial"] != number, timeout=90)
        assert time.monotonic() - signalled < settings.heartbeat_timeout / 2, \
            "re-run at once, not after the heartbeat timeout"
        watcher.wait_for(of_type("job_finished"), timeout=240)
    assert box[0].status == "completed"

    lost = services.records.get_trial(job.id, number)
    assert lost.status == "lost" and (lost.error or "").startswith(HANDED_BACK)
    trials, _ = services.records.list_trials(job.id)
    assert sorted(t.status for t in trials) == ["completed", "lost"], "exactly the budget of 1"
    rerun = services.records.get_trial(job.id, rerun_started["trial"])
    assert rerun.status == "completed"
    assert rerun.retry_of == number and rerun.params == lost.params
    starts = [e["trial"] for e in watcher.seen if e["type"] == "trial_started"]
    assert starts == [number, rerun.number], "the handed-back trial ran once"
    assert queue_depth(create_celery(settings), GPU_QUEUE) == 0, "nothing left in the queue"

    code, seconds = second.stop()  # idle: exits at once
    assert code == 0 and seconds < EXIT_WITHIN
    handed_task = f"[{job.id}-{number}]"
    assert not [line for line in second.lines() if handed_task in line["message"]], \
        "the handed-back task's message was acknowledged, never re-delivered"
    ours = [line for line in first.lines() if line.get("job_id") == job.id]
    assert ours and {line["trial"] for line in ours} == {number}
    assert any(line["message"] == "trial handed back: the worker is shutting down"
               and line["level"] == "WARNING" for line in ours)
