"""The GPU worker's pool looks for exited children every 0.25 s (celery/celery#9588)."""

from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace


def test_upkeep_timer_is_a_quarter_second() -> None:
    from celery.concurrency.asynpool import AsynPool

    from gpu_worker import pool_upkeep

    pool = SimpleNamespace(maintain_pool=lambda: None)
    assert AsynPool.timers.fget(pool) == {pool.maintain_pool: pool_upkeep.UPKEEP_SECONDS}
    assert pool_upkeep.UPKEEP_SECONDS < 1.0


def test_both_gpu_task_modules_apply_it() -> None:
    """In a fresh interpreter, as a worker's main process imports its task module."""
    for module in ("gpu_worker.tasks", "benchmarks.sleep_worker"):
        script = (f"import {module}\n"
                  "from celery.concurrency.asynpool import AsynPool\n"
                  "from types import SimpleNamespace as N\n"
                  "p = N(maintain_pool=1)\n"
                  "assert AsynPool.timers.fget(p) == {1: 0.25}, AsynPool.timers.fget(p)\n")
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, f"{module}: {done.stderr}"
