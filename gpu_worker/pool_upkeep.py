"""Have a GPU worker's pool replace a recycled child at once, not at Celery's next upkeep.

A GPU worker recycles its pool child every few trials (``--max-tasks-per-child``)
to give GPU memory back. Celery replaces the child when the child's exit event
fires, and otherwise from its own, slow upkeep timer; the event is sometimes missed
(a known race, celery/celery#9588), and a trial sent meanwhile then waits for
that timer. `PoolUpkeep` is a worker bootstep (Celery's public extension point)
that adds one more upkeep timer, every `UPKEEP_SECONDS`, to the worker's event
loop: a few ``waitpid`` calls that bound the wait. `add_to_worker` adds it to
the workers of the process that imports a GPU task module; no Celery class is
changed. docs/architecture.md says why this leans on Celery's design.
"""

from __future__ import annotations

from typing import Any

from celery import bootsteps
from celery.signals import worker_init

UPKEEP_SECONDS = 0.25


class PoolUpkeep(bootsteps.StartStopStep):
    """Calls the prefork pool's ``maintain_pool`` every `UPKEEP_SECONDS` on the event loop."""

    requires = ("celery.worker.components:Pool",)

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self._hub: Any = None

    def include_if(self, parent: Any) -> bool:
        return bool(parent.use_eventloop)  # no event loop: no hub, and no timers to tune

    def register_with_event_loop(self, parent: Any, hub: Any) -> None:
        """Once per hub: Celery registers again after the consumer restarts."""
        maintain = getattr(parent.pool, "maintain_pool", None)  # prefork pools only
        if maintain is None or hub is self._hub:
            return
        self._hub = hub
        hub.call_repeatedly(UPKEEP_SECONDS, maintain)


@worker_init.connect(weak=False)
def add_to_worker(sender: Any, **_kwargs: Any) -> None:
    """Add `PoolUpkeep` to the starting worker's steps (its blueprint is built next)."""
    sender.app.steps["worker"].add(PoolUpkeep)
