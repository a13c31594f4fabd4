"""Helpers for the distributed tests: settings per backend, waiting on events, processes."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from onegin.celery_app import ORCHESTRATOR_QUEUE
from onegin.events import EventBus
from onegin.job_config import OptimizationConfig
from onegin.local_workers import child_environ, worker_command
from onegin.settings import GPU_WORKER, ORCHESTRATOR, Settings, load_settings
from tests.fixtures.reaping import started

#: a small CNN on 300 digits for one epoch (10 steps)
TINY_MODEL: dict[str, Any] = {"filters": 16, "dense_units": 64, "conv_layers": 1,
                              "batch_size": 32, "pooling": "flatten", "batch_norm": False}
#: a tiny, fast job whose trials learn in their one epoch: Adam at a brisk rate (a
#: trial left at chance would be stopped as hopeless, and tests expect completed ones)
TINY: dict[str, Any] = {
    "dataset": "digits", "epochs": 1, "max_train_samples": 300, "max_eval_samples": 120,
    "plot_mode": "best", "params": TINY_MODEL | {
        "optimizer": "adam", "learning_rate": {"low": 5e-3, "high": 2e-2}},
}


def tiny_config(**changes: Any) -> OptimizationConfig:
    return OptimizationConfig.from_dict(TINY | changes)


def cluster_settings(home: Path, postgres_url: str, redis_url: str, s3_endpoint: str,
                     bucket: str) -> Settings:
    """PostgreSQL records and study, Redis broker and events, S3 artifacts."""
    return load_settings(env={}, overrides={
        "home": str(home), "database_url": postgres_url, "broker_url": redis_url,
        "events_url": redis_url, "artifacts_url": f"s3://{bucket}/onegin",
        "s3_endpoint_url": s3_endpoint, "heartbeat_interval": 0.5, "heartbeat_timeout": 6.0,
        "offline": True, "tf_threads": 1,
    })


def embedded_settings(home: Path) -> Settings:
    return load_settings(env={}, overrides={"home": str(home), "offline": True, "tf_threads": 1,
                                            "heartbeat_interval": 0.5,
                                            "heartbeat_timeout": 6.0})


class EventWatcher:
    """Reads a job's events in order; `wait_for` blocks on the bus, not on sleeps."""

    def __init__(self, bus: EventBus, job_id: str) -> None:
        self.bus = bus
        self.job_id = job_id
        self.cursor: str | None = None
        self.seen: list[dict[str, Any]] = []

    def wait_for(self, predicate: Callable[[Mapping[str, Any]], bool],
                 timeout: float = 120.0) -> dict[str, Any]:
        for event in self.seen:
            if predicate(event):
                return event
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            events, self.cursor = self.bus.read(self.job_id, self.cursor, timeout=min(left, 2))
            self.seen.extend(events)
            for event in events:
                if predicate(event):
                    return event
        raise TimeoutError(f"no matching event for job {self.job_id} within {timeout}s")


def of_type(kind: str, **data: Any) -> Callable[[Mapping[str, Any]], bool]:
    def match(event: Mapping[str, Any]) -> bool:
        return event["type"] == kind and all(event["data"].get(k) == v for k, v in data.items())
    return match


def training_started(event: Mapping[str, Any]) -> bool:
    data = event["data"]
    return (event["type"] == "trial_progress" and data.get("phase") == "training"
            and data.get("epoch", 0) >= 1)


class Process:
    """A Celery worker process of ours, killable as a whole process group."""

    def __init__(self, settings: Settings, queue: str, name: str, log: Path,
                 module: str | None = None, *, reaped: bool = True) -> None:
        """``reaped``: killed when the test that started it ends (`tests.fixtures.reaping`);
        False for a worker a wider fixture keeps for later tests and stops itself."""
        role = ORCHESTRATOR if queue == ORCHESTRATOR_QUEUE else GPU_WORKER
        env = child_environ(settings, role) | {"TF_CPP_MIN_LOG_LEVEL": "2"}
        self.log = log
        self.proc = subprocess.Popen(worker_command(name, queue, module=module), env=env,
                                     stdout=log.open("ab"), stderr=subprocess.STDOUT,
                                     start_new_session=True)
        if reaped:
            started(self)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """SIGKILL: the whole process group. Any other signal: the main process only, as
        `docker stop` and the kubelet send it; the worker stops its pool children itself.
        Sent to the group, it can kill a pool child holding billiard's queue lock, and
        the main process's warm shutdown then waits on that lock for ever (seen in CI)."""
        if self.proc.poll() is None:
            if sig == signal.SIGKILL:
                os.killpg(self.proc.pid, sig)
            else:
                self.proc.send_signal(sig)
        self.proc.wait(timeout=60)
        with suppress(ProcessLookupError):  # a child it left behind would hold the queue
            os.killpg(self.proc.pid, signal.SIGKILL)


@contextmanager
def in_thread(fn: Callable[[], Any]) -> Iterator[list[Any]]:
    """Run ``fn`` in a thread; the list receives its return value (or exception)."""
    box: list[Any] = []

    def target() -> None:
        try:
            box.append(fn())
        except BaseException as exc:  # handed to the test to re-raise
            box.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    yield box
    thread.join(timeout=300)
    assert not thread.is_alive(), "the orchestrator did not finish"
    if box and isinstance(box[0], BaseException):
        raise box[0]
