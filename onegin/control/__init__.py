"""Claims, heartbeats, results and stop flags shared by the orchestrator and GPU workers.

Backends (``local``, ``redis_store``) are imported lazily by ``open_control_store``.
"""

from __future__ import annotations

from onegin.control.poller import StopPoller
from onegin.control.store import ClaimOutcome, Clock, ControlStore, open_control_store

__all__ = ["ClaimOutcome", "Clock", "ControlStore", "StopPoller", "open_control_store"]
