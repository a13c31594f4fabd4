"""A trial's heartbeat thread.

The heartbeat tells the orchestrator the trial is alive; if the claim was taken
away (the orchestrator gave up on us), `lost` is set and training stops. The
thread runs in a copy of the starter's context, so its log lines carry the
trial's job and trial ids like the rest of the trial's.
"""

from __future__ import annotations

import contextvars
import logging
import threading

from onegin.control import ControlStore

log = logging.getLogger(__name__)


class Heartbeat:
    """Refreshes the claim every ``interval`` seconds until stopped."""

    def __init__(self, control: ControlStore, job_id: str, number: int, owner: str,
                 interval: float) -> None:
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._args = (job_id, number, owner)
        self._control = control
        self._interval = interval
        self._thread = threading.Thread(target=contextvars.copy_context().run,
                                        args=(self._run,), name="trial-heartbeat", daemon=True)

    def _run(self) -> None:
        failing = False
        while not self._stop.wait(self._interval):
            try:
                alive = self._control.heartbeat(*self._args)
            except Exception as exc:  # a blip in the store: the next beat may get through
                if not failing:
                    log.warning("heartbeat failed, retrying every %gs: %s", self._interval, exc)
                failing = True
                continue
            if failing:
                log.info("heartbeat restored")
                failing = False
            if not alive:
                log.warning("trial claim lost (taken over or abandoned): stopping the trial")
                self.lost.set()
                return

    def __enter__(self) -> Heartbeat:
        self._control.heartbeat(*self._args)
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=self._interval + 1)
