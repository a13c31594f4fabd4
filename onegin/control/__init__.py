"""Claims, heartbeats, results and stop flags shared by the orchestrator and GPU workers.

Laid out like every external service in `onegin`: ``protocol`` (the `ControlStore`
contract and the values it speaks in), one module per backend (``local``, ``redis``),
and ``resolve`` (`open_control_store`, URL -> backend), which imports a backend only
when asked. ``poller`` throttles a worker's stop checks over any backend.
"""

from __future__ import annotations

from onegin.control.poller import StopPoller
from onegin.control.protocol import ClaimOutcome, Clock, ControlStore
from onegin.control.resolve import open_control_store

__all__ = ["ClaimOutcome", "Clock", "ControlStore", "StopPoller", "open_control_store"]
