"""Work kept off gevent's loop: other greenlets run while it computes; errors still reach
the caller; without gevent it runs in the caller's own thread."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from webapp.offload import off_the_loop

REPO = Path(__file__).resolve().parents[2]

UNDER_GEVENT = """
from gevent import monkey
monkey.patch_all()
import time
import gevent
from onegin.gil import hand_over_often
from webapp.offload import off_the_loop

hand_over_often()  # as webapp.wsgi does
def compute(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:  # pure Python: holds the GIL but for its hand-overs
        pass
    return "done"

def fail():
    raise ValueError("bad upload")

ticks = []
def ticker():
    while True:
        ticks.append(time.perf_counter())
        gevent.sleep(0.01)

loop = gevent.spawn(ticker)
gevent.sleep(0.05)
began = time.perf_counter()
assert off_the_loop(compute, 1.0) == "done"
during = [t for t in ticks if t > began]
try:
    off_the_loop(fail)
except ValueError as exc:
    print("raised", exc)
loop.kill()
print("ticks", len(during))
"""


def test_under_gevent_the_loop_keeps_running_while_the_work_computes() -> None:
    done = subprocess.run([sys.executable, "-c", UNDER_GEVENT], capture_output=True,
                          text=True, timeout=60, cwd=REPO, check=True)
    lines = done.stdout.splitlines()
    assert "raised bad upload" in lines
    ticks = int(lines[-1].split()[1])
    # a tick every 10 ms for 1 s; computed on the loop itself there would be none
    assert ticks >= 20, done.stdout


def test_without_gevent_it_runs_in_the_calling_thread() -> None:
    assert off_the_loop(threading.get_ident) == threading.get_ident()
    with pytest.raises(ZeroDivisionError):
        off_the_loop(divmod, 1, 0)
