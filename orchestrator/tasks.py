"""The orchestrator's Celery task (one long task per search job, one short look per
comparison, sent again until it ends) and its restart recovery."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from celery import Celery, current_app, shared_task
from celery.exceptions import Retry
from celery.signals import worker_ready

from onegin import worker_stopping
from onegin.celery_app import GPU_QUEUE, ORCHESTRATOR_QUEUE, RUN_JOB
from onegin.control import ClaimOutcome
from onegin.errors import JobBusy, JobHandedOver
from onegin.gil import handing_over_often
from onegin.job_kinds import JobKind
from onegin.outages import OutagePastLimit, outage_kind
from onegin.queue_depth import BrokerUnavailable, queue_depth
from onegin.services import get_services
from onegin.statuses import JOB_ACTIVE
from onegin.submission import submit_job
from orchestrator.compare_runner import ComparisonRunner
from orchestrator.runner import JOB_CLAIM, JobRunner
from orchestrator.sweeper import sweep_finished_jobs

log = logging.getLogger(__name__)
# the control-store slot of the message that keeps looking at a comparison: a second one
# (re-sent when an orchestrator starts) leaves it to the first while the first is live
COMPARISON_LOOKS = JOB_CLAIM + 1


class CeleryDispatcher:
    """Sends trials to the `gpu` queue with a task id keyed by (job, trial number)."""

    def __init__(self, app: Celery) -> None:
        self.app = app

    def send(self, task_id: str, name: str, kwargs: dict[str, Any]) -> None:
        self.app.send_task(name, kwargs=kwargs, task_id=task_id, queue=GPU_QUEUE)

    def revoke(self, task_id: str) -> None:
        self.app.control.revoke(task_id)

    def queue_depth(self) -> int | None:
        try:
            return queue_depth(self.app)
        except BrokerUnavailable:
            return None


@shared_task(name=RUN_JOB, bind=True, acks_late=True, max_retries=None)
def run_job_task(self: Any, job_id: str) -> str:
    services = get_services()
    if worker_stopping.stopping():
        # A stopping worker still consumes for a moment (Celery's loop on the filesystem
        # broker looks every 2 s): hold the message (ETA) instead of resuming the job
        # and handing it over again at once, in a loop; it goes back when the worker exits.
        raise self.retry(countdown=services.settings.heartbeat_interval)
    try:
        job = services.records.get_job(job_id)
        if job.kind == JobKind.COMPARE:
            if services.control.claim(job_id, COMPARISON_LOOKS, self.request.id,
                                      ttl=services.settings.heartbeat_timeout) is \
                    ClaimOutcome.HELD:
                return job.status  # another message keeps looking at it (one sent at a restart)
            # a look at the comparison; while its runs train, look again later, holding
            # no worker slot (its runs need the orchestrator queue themselves); a retry
            # keeps the task's id, so the next look is this message's
            job = ComparisonRunner(job_id, services, partial(submit_job, current_app)).advance()
            if not job.terminal:
                raise self.retry(countdown=services.settings.heartbeat_interval)
            return job.status
        runner = JobRunner(job_id, services, CeleryDispatcher(current_app),
                           stopping=worker_stopping.stopping)
        # the ask threads run TPE (CPU-bound) while the runner's loop mostly waits on Redis
        # and the database: it must get the GIL back at once when it wakes
        with handing_over_often():
            job = runner.run()
    except Retry:
        raise
    except JobBusy:
        # another orchestrator holds the job; if it died, its claim expires: try then
        raise self.retry(countdown=services.settings.heartbeat_timeout) from None
    except JobHandedOver:
        # this worker is stopping (SIGTERM): the next orchestrator resumes the job now
        raise self.retry(countdown=0) from None
    except Exception as exc:
        if outage_kind(exc) is None and not isinstance(exc, OutagePastLimit):
            raise
        # the job could not even be opened (or its end recorded): try again later
        log.error("job %s: %s; trying again later", job_id, exc)
        raise self.retry(countdown=services.settings.heartbeat_timeout) from None
    return job.status


@worker_ready.connect
def resume_unfinished_jobs(sender: Any = None, **_kwargs: Any) -> None:
    """After an orchestrator restart, repair finished jobs a crash left open (the sweeper)
    and re-send every unfinished job; live ones stay busy."""
    consumed = getattr(getattr(sender, "app", None), "amqp", None)
    if consumed is None or ORCHESTRATOR_QUEUE not in (consumed.queues.consume_from or {}):
        return
    services = get_services()
    try:
        swept = sweep_finished_jobs(services)
        if swept:
            log.warning("swept %d finished job(s) left open: %s", len(swept), swept)
    except Exception:  # the next start sweeps again; resuming jobs matters more
        log.exception("sweeping finished jobs failed")
    records = services.records
    offset = 0
    while True:
        jobs, total = records.list_jobs(offset=offset, limit=200)
        for job in jobs:
            if job.status in JOB_ACTIVE:
                log.info("resuming job %s (%s)", job.id, job.status)
                submit_job(sender.app, job.id)
        offset += len(jobs)
        if not jobs or offset >= total:
            return
