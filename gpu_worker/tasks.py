"""The Celery task a GPU worker runs; the work itself is in `trial_runner`.

Importing this module (the worker does, before it forks its pool) also wires
graceful shutdown (`gpu_worker.shutdown`): SIGTERM hands a running trial back.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task

from gpu_worker import pool_upkeep, shutdown, warm_up  # noqa: F401  (applied on import)
from gpu_worker.trial_runner import run_trial
from onegin.celery_app import TRAIN_TRIAL
from onegin.services import get_services


@shared_task(name=TRAIN_TRIAL, acks_late=True, reject_on_worker_lost=True)
def train_trial_task(job_id: str, number: int, spec: dict[str, Any]) -> dict[str, Any]:
    from gpu_worker.runtime import configure_tensorflow

    if shutdown.requested():  # taken just as the worker stops: back to the queue, untouched
        raise shutdown.WorkerShuttingDown()
    services = get_services()
    configure_tensorflow(services.settings.tf_threads)
    return run_trial(job_id, number, spec, services)
