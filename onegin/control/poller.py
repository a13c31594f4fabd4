"""The worker's per-batch stop check, throttled so a remote store is not asked every batch.

A batch can take a millisecond; a Redis round trip from a pod on the public
internet tens of them. ``StopPoller`` asks at most once per ``interval`` and
remembers a reason once it has one (a stop is never taken back).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from onegin.control.protocol import ControlStore
from onegin.progress import Throttle


class StopPoller:
    """Call it after each batch: the trial's or the job's stop reason, or None."""

    def __init__(self, store: ControlStore, job_id: str, number: int, *,
                 interval: float = 0.25, clock: Callable[[], float] = time.monotonic) -> None:
        self._store = store
        self._job_id = job_id
        self._number = number
        self._throttle = Throttle(interval, clock)
        self.reason: str | None = None

    def __call__(self) -> str | None:
        if self.reason is None and self._throttle.ready():
            self.reason = self._store.stop_reason(self._job_id, self._number)
        return self.reason
