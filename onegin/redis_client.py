"""The redis-py clients of the event bus and the control store, configured once.

A command waits up to ``patience`` seconds for an unreachable server with redis-py's
own ``Retry`` (reconnect, back off, send again): a worker's progress event, result or
heartbeat and the orchestrator's reads ride out a Redis restart inside the client. A
probe client never retries, so ``ping`` tells a readiness check the state now.
"""

from __future__ import annotations

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from onegin.outages import redis_retry

CONNECT_TIMEOUT = 5.0  # seconds for one connection attempt (a host that does not answer)
HEALTH_CHECK_INTERVAL = 30  # a connection idle this long is PINGed before use
PROBE_TIMEOUT = 2.0


def open_redis(url: str, *, patience: float) -> redis.Redis:
    """A client that rides out an outage of up to ``patience`` seconds in every command."""
    return redis.Redis.from_url(
        url, decode_responses=True, retry=redis_retry(patience),
        socket_connect_timeout=CONNECT_TIMEOUT, socket_keepalive=True,
        health_check_interval=HEALTH_CHECK_INTERVAL)


def open_probe(url: str) -> redis.Redis:
    """A client for readiness pings: one attempt, answered within seconds."""
    return redis.Redis.from_url(url, retry=Retry(NoBackoff(), 0),
                                socket_connect_timeout=PROBE_TIMEOUT,
                                socket_timeout=PROBE_TIMEOUT)
