"""Cluster event bus: a Redis Stream per job, relayed to Flask-SocketIO's message queue.

The stream (``onegin:events:<job_id>``) is the durable, ordered log the
orchestrator reads with XREAD; the cursor is the last stream id. Every event is
also emitted through python-socketio's write-only ``RedisManager`` on the
channel a ``SocketIO(message_queue=redis_url)`` web app listens to, so the web
app relays it to the browsers in room ``job:<id>`` of namespace ``/jobs``
unchanged. The relay is best effort (python-socketio logs and drops on
failure): browsers re-read state over REST, the stream is what must not lose.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

import redis
import socketio

from onegin.events.protocol import EventBus
from onegin.events.schema import (
    SOCKETIO_NAMESPACE,
    check_job_id,
    encode_event,
    job_room,
    parse_event,
)
from onegin.outages import DEFAULT_OUTAGE_LIMIT
from onegin.redis_client import open_probe, open_redis

log = logging.getLogger(__name__)

SOCKETIO_CHANNEL = "flask-socketio"  # Flask-SocketIO's default message-queue channel
_CURSOR = re.compile(r"\d+-\d+")


def stream_key(job_id: str) -> str:
    return f"onegin:events:{check_job_id(job_id)}"


class RedisEventBus:
    """EventBus over Redis Streams, plus the Socket.IO relay.

    ``maxlen`` trims each stream approximately (a reader that falls further
    behind loses the oldest events); ``key_ttl`` expires a stream that has had
    no event for that long, so an abandoned job's log does not stay forever.
    Each command waits up to ``patience`` seconds for an unreachable Redis
    (`onegin.redis_client`); a publish retried after a lost reply may add its
    event twice, which readers tolerate (they also replay events after a restart).
    """

    def __init__(self, url: str, *, channel: str = SOCKETIO_CHANNEL, maxlen: int = 100_000,
                 key_ttl: int = 7 * 24 * 3600, patience: float = DEFAULT_OUTAGE_LIMIT) -> None:
        self._client: redis.Redis = open_redis(url, patience=patience)
        self._probe: redis.Redis = open_probe(url)
        self._relay = socketio.RedisManager(url, channel=channel, write_only=True)
        self._maxlen = maxlen
        self._key_ttl = key_ttl

    def publish(self, event: Mapping[str, Any]) -> None:
        event = parse_event(event)
        key = stream_key(event["job_id"])
        with self._client.pipeline(transaction=False) as pipe:
            pipe.xadd(key, {"e": encode_event(event)}, maxlen=self._maxlen, approximate=True)
            pipe.expire(key, self._key_ttl)
            pipe.execute()
        self._relay.emit(event["type"], event, namespace=SOCKETIO_NAMESPACE,
                         room=job_room(event["job_id"]))

    def read(self, job_id: str, cursor: str | None = None, *, timeout: float = 0.0,
             limit: int = 1000) -> tuple[list[dict[str, Any]], str]:
        key = stream_key(job_id)
        cursor = "0-0" if cursor is None else cursor
        if not _CURSOR.fullmatch(cursor):
            raise ValueError(f"cursor {cursor!r} is not a Redis stream id")
        block = max(1, round(timeout * 1000)) if timeout > 0 else None
        reply: Any = self._client.xread({key: cursor}, count=max(1, limit), block=block)
        events: list[dict[str, Any]] = []
        # RESP2 replies [[key, entries]]; RESP3 (``?protocol=3``) {key: [entries]}.
        streams = [(k, v[0]) for k, v in reply.items()] if isinstance(reply, dict) \
            else reply or []
        for _stream, entries in streams:
            for entry_id, fields in entries:
                cursor = entry_id
                try:
                    events.append(parse_event(fields["e"]))
                except (KeyError, ValueError) as exc:
                    log.warning("skipping invalid event %s in %s: %s", entry_id, key, exc)
        return events, cursor

    def delete(self, job_id: str) -> None:
        self._client.delete(stream_key(job_id))

    def ping(self) -> None:
        try:
            self._probe.ping()
        except redis.RedisError as exc:
            raise ConnectionError(f"event bus Redis is unreachable: {exc}") from exc

    def close(self) -> None:
        self._client.close()
        self._probe.close()
        relay_client = getattr(self._relay, "redis", None)
        if relay_client is not None:
            relay_client.close()



_conforms: type[EventBus] = RedisEventBus  # checked by mypy
