"""The Celery application shared by the orchestrator and the GPU workers.

Two queues: `orchestrator` (one long task per job) and `gpu` (one trial per
task, prefetch of one, acknowledged late and rejected on worker loss). The
embedded default uses kombu's filesystem transport, so several local worker
processes share a queue with no server at all. Tasks are sent by name, so the
orchestrator never imports the trainer and the workers never import Optuna.

Through a broker outage: a worker reconnects for as long as it takes (its running
task goes on: a trial's result travels through the control store, not the broker),
and a task sent meanwhile is published again, a second apart, for ``patience``
seconds (the ``outage_limit`` setting; the web app waits a moment only).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from celery import Celery
from kombu import Queue

from onegin.outages import publish_retry_policy
from onegin.redis_client import CONNECT_TIMEOUT
from onegin.settings import Settings, load_settings

RUN_JOB = "onegin.run_job"
TRAIN_TRIAL = "onegin.train_trial"
ORCHESTRATOR_QUEUE = "orchestrator"
GPU_QUEUE = "gpu"


def broker_options(settings: Settings, patience: float | None = None) -> dict[str, Any]:
    """Transport options: the filesystem's folders, or Redis's timeouts and reconnect waits."""
    if settings.broker_url.startswith("filesystem://"):
        folder = Path(settings.home) / "broker"
        for sub in ("queue", "processed", "control"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        return {
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "processed_folder": str(folder / "processed"),
            "control_folder": str(folder / "control"),  # fanout (revoke) exchanges
            "store_processed": False,
            "polling_interval": 0.1,
        }
    policy = publish_retry_policy(settings.outage_limit if patience is None else patience)
    # a trial may train for hours: never let Redis hand a running task to a second worker
    return {
        "visibility_timeout": 12 * 3600,
        # reconnect as the publish retry policy does (kombu's default waits grow to 30 s)
        **{k: v for k, v in policy.items() if k.startswith("interval_")},
        "socket_connect_timeout": CONNECT_TIMEOUT,
        "socket_keepalive": True,
    }


def create_celery(settings: Settings | None = None, *, patience: float | None = None) -> Celery:
    """The app; a task it sends waits ``patience`` seconds (None: ``outage_limit``) for a
    broker that is down before the send fails."""
    settings = settings or load_settings()
    patience = settings.outage_limit if patience is None else patience
    app = Celery("onegin", set_as_current=True)
    app.conf.update(
        broker_url=settings.broker_url,
        broker_transport_options=broker_options(settings, patience),
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,  # a worker outlives any outage; jobs fail past it
        task_publish_retry=True,
        task_publish_retry_policy=publish_retry_policy(patience),
        # a running trial survives a broker outage (its result goes through the control
        # store); cancelling it would throw away its training
        worker_cancel_long_running_tasks_on_connection_loss=False,
        result_backend=None,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_queues=(Queue(ORCHESTRATOR_QUEUE), Queue(GPU_QUEUE)),
        task_default_queue=GPU_QUEUE,
        task_routes={RUN_JOB: {"queue": ORCHESTRATOR_QUEUE}, TRAIN_TRIAL: {"queue": GPU_QUEUE}},
        worker_hijack_root_logger=False,
        worker_send_task_events=True,  # Flower sees tasks
        task_send_sent_event=True,
    )
    return app


app = create_celery()
