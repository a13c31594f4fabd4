"""A GPU worker's pool looks for exited children every 0.25 s (celery/celery#9588).

Each check runs in a fresh interpreter that imports a task module the way a
worker's main process does (``-I``), and builds a real Celery worker on a Redis
broker URL (nothing is sent: the worker is only built, never started). The
worker's own hub then runs the timers Celery's blueprint registered, so this
fails if Celery stops asking bootsteps to register with the event loop.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys

import pytest

from gpu_worker import pool_upkeep

SCRIPT = """
import json, sys, time
import {module}
from kombu.asynchronous import Hub
from onegin.celery_app import app

worker = app.WorkController(pool_cls="prefork", concurrency=1, hostname="upkeep@test")
calls = []
worker.pool.maintain_pool = lambda: calls.append(time.monotonic())  # the pool is not started
hub = Hub()
worker.register_with_event_loop(hub)
deadline = time.monotonic() + 3.0
while len(calls) < 4 and time.monotonic() < deadline:
    hub.fire_timers(propagate=(Exception,))
    time.sleep(0.01)
print(json.dumps({{"steps": [type(s).__name__ for s in worker.steps], "calls": calls}}))
"""


def run_worker_hub(module: str) -> dict[str, list]:
    """What the worker's steps are, and when its hub called ``maintain_pool`` in 3 s."""
    env = os.environ | {"ONEGIN_BROKER_URL": "redis://127.0.0.1:6379/15"}  # never connected
    done = subprocess.run([sys.executable, "-c", SCRIPT.format(module=module)],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("module", ["gpu_worker.tasks", "benchmarks.sleep_worker"])
def test_gpu_workers_maintain_their_pool_every_quarter_second(module: str) -> None:
    found = run_worker_hub(module)
    assert "PoolUpkeep" in found["steps"]
    calls = found["calls"]
    assert len(calls) >= 4, calls  # Celery's own upkeep would have run once in 5 s
    gaps = [b - a for a, b in itertools.pairwise(calls)]
    assert max(gaps) < 2 * pool_upkeep.UPKEEP_SECONDS, gaps


def test_other_workers_keep_celerys_own_upkeep() -> None:
    found = run_worker_hub("orchestrator.tasks")
    assert "PoolUpkeep" not in found["steps"]
    assert found["calls"] == []  # (the unstarted pool registered no timers of its own)
