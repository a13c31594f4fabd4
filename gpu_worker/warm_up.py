"""Open a pool child's connections when it starts, not when its first trial arrives.

Each pool child opens its own clients (handles are per process), and a child is
recycled every few trials to give memory back; connecting to the control store,
the event bus and the artifact store (a boto3 client takes a few hundred
milliseconds) at child start keeps that off the trial's clock. TensorFlow is
not imported here: Celery kills a child whose start-up handlers block for 4 s.
Importing this module connects the handler; both GPU task modules import it.
"""

from __future__ import annotations

import logging
from typing import Any

from celery.signals import worker_process_init

from onegin.services import get_services

log = logging.getLogger(__name__)


def open_connections() -> None:
    """Connect this process's services; a failure is left for the first trial to report."""
    try:
        services = get_services()
        services.control.ping()
        services.events.ping()
        _ = services.artifacts
    except Exception as exc:  # the trial retries and reports properly
        log.warning("warm-up could not connect (the first trial will retry): %s", exc)


@worker_process_init.connect(weak=False)
def _on_child_start(**_kwargs: Any) -> None:
    open_connections()
