"""A trial's heartbeat thread.

The heartbeat tells the orchestrator the trial is alive; if the claim was taken
away (the orchestrator gave up on us), `lost` is set and training stops.
"""

from __future__ import annotations

import threading

from onegin.control import ControlStore


class Heartbeat:
    """Refreshes the claim every ``interval`` seconds until stopped."""

    def __init__(self, control: ControlStore, job_id: str, number: int, owner: str,
                 interval: float) -> None:
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._args = (job_id, number, owner)
        self._control = control
        self._interval = interval
        self._thread = threading.Thread(target=self._run, name="trial-heartbeat", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                alive = self._control.heartbeat(*self._args)
            except Exception:  # a blip in the store: the next beat may get through
                continue
            if not alive:
                self.lost.set()
                return

    def __enter__(self) -> Heartbeat:
        self._control.heartbeat(*self._args)
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=self._interval + 1)
