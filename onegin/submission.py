"""A validated config becomes a job record, is sent to an orchestrator, and a cancel
reaches it: the one door for the CLI, Python and REST.

What the pure validation cannot see is checked here, against the records: a job
may continue only from an earlier one that is finished and searched the same
dataset in the same space. A comparison is a job too (kind ``compare``): it is sent
the same way, and cancelling it cancels its runs.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING

from onegin.compare_config import CompareConfig
from onegin.errors import ConfigError
from onegin.events import EventBus, make_event
from onegin.job_config import OptimizationConfig
from onegin.job_kinds import JobKind
from onegin.records import InvalidTransition, JobRecord, RecordNotFound, RecordStore
from onegin.statuses import JOB_ACTIVE, JobStatus

if TYPE_CHECKING:
    from celery import Celery

log = logging.getLogger(__name__)
FIELD = "continue_from"
SPACE_BEFORE_NAMES = "wide"  # jobs stored before spaces had names searched today's wide space


def check_continue_from(config: OptimizationConfig, records: RecordStore) -> None:
    """Raise `ConfigError` naming ``continue_from`` when its job cannot seed this one."""
    job_id = config.continue_from
    if job_id is None:
        return
    try:
        earlier = records.get_job(job_id)
    except RecordNotFound:
        raise ConfigError(FIELD, f"no job {job_id!r}") from None
    if not earlier.terminal:
        raise ConfigError(FIELD, f"job {job_id} is still {earlier.status}; "
                                 "continue from a finished job")
    dataset = earlier.config.get("dataset")
    if dataset != config.dataset:
        raise ConfigError(FIELD, f"job {job_id} searched dataset {dataset!r}, "
                                 f"not {config.dataset!r}")
    space = earlier.config.get("space", SPACE_BEFORE_NAMES)
    if space != config.space_name:
        raise ConfigError(FIELD, f"job {job_id} searched the {space!r} space, "
                                 f"not {config.space_name!r}")


def create_job(records: RecordStore, config: OptimizationConfig, *,
               owner: str | None = None) -> JobRecord:
    """Check what needs the records, then store the job (status ``queued``)."""
    check_continue_from(config, records)
    return records.create_job(config.to_dict(), owner=owner)


def create_comparison(records: RecordStore, config: CompareConfig, *,
                      owner: str | None = None) -> JobRecord:
    """Store a comparison (status ``queued``); its orchestrator creates its runs."""
    return records.create_job(config.to_dict(), owner=owner, kind=JobKind.COMPARE)


def submit_job(app: Celery, job_id: str) -> None:
    """Queue the job for an orchestrator: its task is sent by name, so no caller imports
    the orchestrator."""
    from onegin.celery_app import RUN_JOB

    app.send_task(RUN_JOB, args=[job_id])


def cancel_job(records: RecordStore, events: EventBus, job_id: str) -> JobRecord:
    """Cancel a job; `InvalidTransition` if it already ended.

    A job nobody started ends ``cancelled`` here and now, so no orchestrator need
    be running; a started one becomes ``cancelling`` and its orchestrator stops
    its trials (`RecordStore.cancel_job` decides, atomically). A job ended here is
    announced as its orchestrator would have, for anyone following its events.
    """
    job = records.cancel_job(job_id)
    if job.status == JobStatus.CANCELLED:
        try:
            events.publish(make_event("job_status", job.id, status=job.status))
            events.publish(make_event("job_finished", job.id, status=job.status,
                                      best_trial=None, best_score=None, best_accuracy=None))
        except Exception:  # the record is what counts; followers re-read it
            log.exception("job %s cancelled, but its events could not be sent", job.id)
    if job.kind == JobKind.COMPARE:
        cancel_children(records, events, job.id)
    return job


def cancel_children(records: RecordStore, events: EventBus, parent_id: str) -> None:
    """Cancel every run of comparison ``parent_id`` still under way (one that ended
    meanwhile is left as it ended)."""
    for child in records.list_children(parent_id):
        if child.status in JOB_ACTIVE:
            with contextlib.suppress(InvalidTransition):  # it ended meanwhile
                cancel_job(records, events, child.id)
