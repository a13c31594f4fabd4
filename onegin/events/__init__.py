"""Versioned events from workers and the orchestrator, and the bus that carries them.

Laid out like every external service in `onegin`: ``protocol`` (the `EventBus`
contract), one module per backend (``local``, ``redis``), and ``resolve``
(`open_event_bus`, URL -> backend), which imports a backend only when asked, so
a process that only builds events (``schema``) never needs Redis or socketio.
"""

from __future__ import annotations

from onegin.events.protocol import EventBus
from onegin.events.resolve import open_event_bus
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
