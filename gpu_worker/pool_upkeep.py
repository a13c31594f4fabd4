"""Replace a recycled pool child within a quarter second, not up to five.

A GPU worker recycles its pool child every few trials (``--max-tasks-per-child``)
to give GPU memory back. Celery replaces the child when the exit event fires,
and otherwise from a 5-second upkeep timer; the event is sometimes missed (a
known race, celery/celery#9588), and then a trial sent meanwhile waited for
the timer: measured 0.9-4.1 s on about one recycle in three. Looking every
0.25 s costs a few ``waitpid`` calls and bounds that wait.
Importing this module applies it; both GPU task modules import it.
"""

from __future__ import annotations

from typing import Any

from celery.concurrency import asynpool

UPKEEP_SECONDS = 0.25


def _timers(pool: asynpool.AsynPool) -> dict[Any, float]:
    return {pool.maintain_pool: UPKEEP_SECONDS}


asynpool.AsynPool.timers = property(_timers)
