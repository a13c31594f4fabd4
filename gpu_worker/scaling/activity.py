"""Which GPU workers are busy, asked of the workers themselves over the broker.

Celery's remote-control `inspect` reaches every worker through the broker the
pods already use, so the scaler needs no database and no access to the pods. A
prefork worker's main process answers while its child trains, so a busy worker
still answers. A trial counts as running from the moment a worker reserves it
(prefetched, acknowledged late) until it finishes: that is what ``active`` plus
``reserved`` report. A worker is named ``<pod name>@<host>`` (the pod template
sets ``--name``), so the part before ``@`` is its pod's name.
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from kombu.exceptions import OperationalError

from onegin.queue_depth import BrokerUnavailable


def worker_activity(app: Celery, *, timeout: float = 1.0) -> dict[str, bool]:
    """``{worker name before '@': busy}`` for every worker that answered within ``timeout``."""
    inspect = app.control.inspect(timeout=timeout)
    try:
        active: dict[str, Any] = inspect.active() or {}
        reserved: dict[str, Any] = inspect.reserved() or {}
    except (OperationalError, OSError) as exc:
        raise BrokerUnavailable(f"cannot ask the workers what they run: {exc}") from exc
    busy: dict[str, bool] = {}
    for worker in set(active) | set(reserved):
        name = worker.split("@", 1)[0]
        working = bool(active.get(worker)) or bool(reserved.get(worker))
        busy[name] = busy.get(name, False) or working
    return busy
