"""The event bus contract that every backend meets (``local``, ``redis``).

Workers publish, the orchestrator reads durably with a cursor it stores, and
the web app gets the same events through Flask-SocketIO's message queue. The
events themselves are defined in `onegin.events.schema`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class EventBus(Protocol):
    """Durable, per-job ordered event log shared by several processes.

    ``read`` returns the events after ``cursor`` (None: from the start) and the
    cursor to pass next time; with ``timeout`` > 0 it waits up to that long when
    none are there yet. Cursors are opaque strings that survive a restart of
    the reader, so it resumes without losing or repeating events. Events that
    fail validation are skipped (logged), never returned, so one bad line can
    not wedge a reader. ``ping`` raises ConnectionError when the backend is
    unreachable.
    """

    def publish(self, event: Mapping[str, Any]) -> None: ...

    def read(self, job_id: str, cursor: str | None = None, *, timeout: float = 0.0,
             limit: int = 1000) -> tuple[list[dict[str, Any]], str]: ...

    def delete(self, job_id: str) -> None: ...

    def ping(self) -> None: ...

    def close(self) -> None: ...
