"""How often Python hands the GIL between threads, in processes whose threads mostly wait.

By default a thread that wants the GIL waits up to 5 ms for a busy one to let go. In
the orchestrator (one loop waiting on Redis and the database) that doubled the
dispatch overhead at trial 500 (benchmarks/orchestration.py); in the web app a
Socket.IO event reaches each of 100 watchers through its own writer thread, so every
busy request thread delayed the last watchers by that much (benchmarks/load.py).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

SWITCH_INTERVAL = 0.0005  # seconds; Python's default is 0.005


def hand_over_often() -> float:
    """Set `SWITCH_INTERVAL`; returns the interval it replaced (to restore it)."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL)
    return before


@contextmanager
def handing_over_often() -> Iterator[None]:
    """`SWITCH_INTERVAL` for the block, then the interval it replaced.

    For a service's work (an orchestrator's job), never for a library caller's process.
    """
    before = hand_over_often()
    try:
        yield
    finally:
        sys.setswitchinterval(before)
