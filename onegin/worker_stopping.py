"""Has this Celery worker been told to stop? One flag its pool children can see.

Celery's warm shutdown (SIGTERM to the worker's main process) fires
``worker_shutting_down`` in the main process only, then waits for running
tasks, which may run for hours (a trial, a whole job). So the main process
sets one byte of memory it shares with the children it forks, and a long task
checks it and hands its work back: a GPU trial (`gpu_worker.shutdown`), a
job's orchestration (`orchestrator.tasks`). Import this module before the pool
forks (the task modules do) so the flag is shared.
"""

from __future__ import annotations

import mmap
from typing import Any

from celery.signals import worker_shutting_down


class SharedFlag:
    """One byte of anonymous shared memory: set in the parent, seen by children forked after."""

    def __init__(self) -> None:
        self._memory = mmap.mmap(-1, 1)  # MAP_SHARED | MAP_ANONYMOUS

    def set(self) -> None:
        self._memory[0] = 1  # a plain store: safe inside a signal handler

    def clear(self) -> None:
        self._memory[0] = 0

    def is_set(self) -> bool:
        return self._memory[0] == 1


_stopping = SharedFlag()


def stopping() -> bool:
    """True once this worker (main process) was told to stop."""
    return _stopping.is_set()


def request_stop() -> None:
    """What the main process does on SIGTERM (also for tests and embedding)."""
    _stopping.set()


def clear() -> None:
    """Forget a stop request (tests that run several in one process)."""
    _stopping.clear()


@worker_shutting_down.connect(weak=False)
def _on_worker_shutting_down(**_kwargs: Any) -> None:
    # Runs inside the main process's signal handler: no logging, no I/O, one store.
    request_stop()
