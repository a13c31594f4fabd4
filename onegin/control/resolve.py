"""Turn a control URL into a control store; backends are imported only when asked.

The control store takes the event bus's URL kinds (`onegin.services.control_url`
puts it beside the events), so the URL is parsed by the same function.
"""

from __future__ import annotations

from onegin.control.protocol import Clock, ControlStore
from onegin.events.resolve import parse_backend_url


def open_control_store(url: str, *, clock: Clock | None = None,
                       patience: float | None = None) -> ControlStore:
    """``local:///abs/dir`` -> LocalControlStore; ``redis://`` / ``rediss://`` -> RedisControlStore.

    ``clock`` (unix seconds) stamps heartbeats; tests inject one to age a claim
    without sleeping. Without it the local store uses ``time.time`` and Redis
    its own server clock, so workers on hosts with skewed clocks still agree.
    ``patience``: seconds a Redis command waits for an unreachable server (None: the
    default outage limit).
    """
    kind, target = parse_backend_url(url, "control_url")
    if kind == "local":
        from onegin.control.local import LocalControlStore

        return LocalControlStore(target, clock=clock)
    from onegin.control.redis import RedisControlStore

    if patience is None:
        return RedisControlStore(target, clock=clock)
    return RedisControlStore(target, clock=clock, patience=patience)
