"""Real Celery worker processes named like the pods' workers, for the scaler to ask.

Each runs `worker_command` (what `onegin worker gpu --name <pod name>` runs on a
pod) but on a private queue, never ``gpu``, so waiting trials stay waiting. A
test makes one busy by sending it `BLOCK`, which holds until the test pushes to
the task's Redis list: a real signal, not a sleep. Workers must be processes:
Celery keeps a worker's active tasks in module globals, so two workers in one
process would report each other's tasks.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis
from celery import Celery, shared_task

from onegin.local_workers import child_environ, worker_command
from onegin.settings import GPU_WORKER, Settings

BLOCK = "tests.gpu_worker.scaling.block"
REPO = Path(__file__).resolve().parents[3]


@shared_task(name=BLOCK)
def block(gate: str) -> None:
    """Runs (keeps its worker busy) until the test pushes to the list ``gate``."""
    redis.Redis.from_url(os.environ["ONEGIN_BROKER_URL"]).blpop([gate], timeout=120)


def open_gate(broker_url: str, gate: str, count: int = 1) -> None:
    redis.Redis.from_url(broker_url).rpush(gate, *(["go"] * count))


@contextmanager
def celery_workers(settings: Settings, names: list[str], queue: str,
                   log_dir: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Worker processes ``<name>@<host>`` on ``queue``, each answering inspect once yielded."""
    env = child_environ(settings, GPU_WORKER) | {"PYTHONPATH": str(REPO)}  # pods' workers
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for name in names:
            command = worker_command(name, queue, module=__name__)
            log = (log_dir / f"{name}.log").open("ab")
            procs.append(subprocess.Popen(command, env=env, cwd=REPO, stdout=log,
                                          stderr=subprocess.STDOUT, start_new_session=True))
        _wait_until_they_answer(settings, names, procs, log_dir)
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _wait_until_they_answer(settings: Settings, names: list[str],
                            procs: list[subprocess.Popen[bytes]], log_dir: Path) -> None:
    """Readiness poll for processes we started (not test synchronisation)."""
    app = Celery(broker=settings.broker_url)
    deadline = time.monotonic() + 60
    waiting = set(names)
    while waiting and time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            break
        replies = app.control.ping(timeout=0.5) or []
        waiting -= {name.split("@", 1)[0] for reply in replies for name in reply}
    if waiting:
        logs = "\n".join(p.read_text(errors="replace")[-2000:] for p in log_dir.glob("*.log"))
        raise RuntimeError(f"workers {sorted(waiting)} did not answer:\n{logs}")
