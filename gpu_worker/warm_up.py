"""Open a pool child's connections when it starts, not when its first trial arrives.

Each pool child opens its own clients (handles are per process), and a child is
recycled every few trials to give memory back; connecting to the control store,
the event bus and the artifact store (a boto3 client takes a few hundred
milliseconds) at child start keeps that off the trial's clock. TensorFlow is
not imported here: Celery kills a child whose start-up handlers block for 4 s.
Before any child exists, the worker's main process imports the clients' modules
(`backend_modules`): forked children inherit them instead of importing them.
Importing this module connects the handlers; both GPU task modules import it.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from celery.signals import worker_init, worker_process_init

from onegin.services import backend_modules, get_services
from onegin.settings import load_settings

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


def import_backends() -> None:
    """Import (without connecting) the modules this worker's services will use."""
    try:
        for module in backend_modules(load_settings()):
            importlib.import_module(module)
    except Exception as exc:  # each child imports what it needs itself
        log.warning("could not import the service clients before forking: %s", exc)


@worker_init.connect(weak=False)
def _before_fork(**_kwargs: Any) -> None:
    import_backends()
