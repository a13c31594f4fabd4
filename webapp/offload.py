"""CPU-bound work of a request, kept from stalling the process's other connections.

Under gunicorn's gevent worker every connection is a greenlet of one thread: a request
that computes for seconds (checking every image of an uploaded zip) would hold every
WebSocket and every other request for as long. Such work runs in gevent's thread pool
instead, a real thread that shares the GIL with the loop (`onegin.gil` has it handed
over every 0.5 ms). Under threads (gthread, `onegin web`) each request has a thread of
its own already, so the work runs where it is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from webapp.realtime import async_mode

T = TypeVar("T")


def off_the_loop(call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``call(*args, **kwargs)``, in a thread of its own when the process runs gevent."""
    if async_mode() != "gevent":
        return call(*args, **kwargs)
    import gevent

    result: T = gevent.get_hub().threadpool.apply(call, args, kwargs)
    return result
