"""Versioned events from workers and the orchestrator, and the bus that carries them.

Backends (``local``, ``redis_bus``) are imported lazily by ``open_event_bus``,
so a process that only builds events never needs Redis or socketio.
"""

from __future__ import annotations

from onegin.events.bus import EventBus, open_event_bus
from onegin.events.schema import (
    EVENT_TYPES,
    EVENT_VERSION,
    SOCKETIO_NAMESPACE,
    check_job_id,
    encode_event,
    job_progress_data,
    job_room,
    make_event,
    parse_event,
    progress_event,
)

__all__ = [
    "EVENT_TYPES",
    "EVENT_VERSION",
    "SOCKETIO_NAMESPACE",
    "EventBus",
    "check_job_id",
    "encode_event",
    "job_progress_data",
    "job_room",
    "make_event",
    "open_event_bus",
    "parse_event",
    "progress_event",
]
