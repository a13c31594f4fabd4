"""Turn the ``events_url`` setting into an event bus.

Backends are imported here, lazily, so a process that only builds events never
needs Redis or python-socketio. `parse_backend_url` also serves the control
store, which takes the same URL kinds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from onegin.errors import ConfigError
from onegin.events.protocol import EventBus


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
    from onegin.events.redis import RedisEventBus

    return RedisEventBus(target) if patience is None else RedisEventBus(target, patience=patience)
