"""The event bus contract and the resolver that turns a URL into a backend.

Workers publish, the orchestrator reads durably with a cursor it stores, and
the web app gets the same events through Flask-SocketIO's message queue.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable
from urllib.parse import unquote, urlsplit

from onegin.errors import ConfigError


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


def parse_backend_url(url: str, field: str) -> tuple[Literal["local", "redis"], str]:
    """Split a backend URL: ("local", absolute folder) or ("redis", the URL itself).

    Shared by the event bus and the control store, which take the same URL kinds.
    """
    parts = urlsplit(url)
    if parts.scheme == "local":
        path = unquote(parts.path)
        if parts.netloc or not path.startswith("/"):
            raise ConfigError(field, f"{url!r}: a local URL needs an absolute path, "
                                     "like local:///var/lib/onegin/events")
        return "local", str(Path(path))
    if parts.scheme in ("redis", "rediss"):
        return "redis", url
    raise ConfigError(field, f"{url!r}: expected local:///abs/dir, redis:// or rediss://")


def open_event_bus(url: str, *, patience: float | None = None) -> EventBus:
    """``local:///abs/dir`` -> LocalEventBus; ``redis://`` / ``rediss://`` -> RedisEventBus.

    ``patience``: seconds a Redis command waits for an unreachable server (None: the
    default outage limit).
    """
    kind, target = parse_backend_url(url, "events_url")
    if kind == "local":
        from onegin.events.local import LocalEventBus

        return LocalEventBus(target)
    from onegin.events.redis_bus import RedisEventBus

    return RedisEventBus(target) if patience is None else RedisEventBus(target, patience=patience)
