"""Jobs: submit (validated, within the caller's limits), list, read, cancel, delete.

A submitted job is a `queued` record plus an ``onegin.run_job`` message on the
orchestrator queue; everything after that is the orchestrator's. Every job
belongs to the token that made it, and other tokens get 404 for it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for

from onegin.artifacts import job_prefix
from onegin.datasets import DATASETS
from onegin.errors import ConfigError, ConfigErrors
from onegin.job_config import OptimizationConfig
from onegin.records import InvalidTransition, RecordNotFound
from onegin.statuses import JOB_ACTIVE, JobStatus
from onegin.submission import cancel_job as cancel_job_record
from onegin.submission import create_job as create_job_record
from onegin.submission import submit_job
from onegin.uploads.catalogue import UPLOAD_SCHEME
from webapp.api.common import job_payload, json_object, load_job
from webapp.api.uploads import check_job_dataset
from webapp.auth import Principal, current_principal, require_principal
from webapp.errors import ApiError, validation_failed
from webapp.job_query import QUERY_PARAMETERS, parse_job_filter
from webapp.limits import check_limits
from webapp.pagination import parse_page
from webapp.serialize import job_json
from webapp.state import state

log = logging.getLogger(__name__)
bp = Blueprint("jobs", __name__)
bp.before_request(require_principal)


def validate_job(data: Mapping[str, Any], principal: Principal
                 ) -> tuple[OptimizationConfig | None, dict[str, str], dict[str, int]]:
    """The config, or every bad field with its reason (and the limits that were exceeded).

    Only registered datasets and the caller's own uploads are accepted: ``tsv:``/
    ``images:`` sources name files on the server's disk, which a web caller must not be
    able to probe or read.
    """
    fields: dict[str, str] = {}
    dataset = data.get("dataset")
    if isinstance(dataset, str) and dataset.startswith(f"{UPLOAD_SCHEME}:"):
        problem = check_job_dataset(dataset, principal.owner)
        if problem is not None:  # still validate the rest, minus the space check
            data, fields = {**data, "dataset": None}, {"dataset": problem}
    else:
        data, fields = registered_dataset(data)
    config = None
    try:
        config = OptimizationConfig.from_dict(data)
    except ConfigErrors as exc:
        fields = exc.as_dict() | fields
    exceeded: dict[str, int] = {}
    for field, (reason, limit) in check_limits(data, principal.limits).items():
        if field not in fields:
            fields[field] = reason
            exceeded[field] = limit
    return (None if fields else config), fields, exceeded


def registered_dataset(data: Mapping[str, Any]) -> tuple[Mapping[str, Any], dict[str, str]]:
    """``data`` to validate, and the dataset's error when it names no registered one (the
    rest is still validated, minus the checks that need the dataset)."""
    dataset = data.get("dataset")
    if isinstance(dataset, str) and dataset not in DATASETS:
        return {**data, "dataset": None}, {
            "dataset": f"unknown dataset {dataset!r}; known: {', '.join(DATASETS)}"}
    return data, {}


def _check_visible_continuation(config: OptimizationConfig, principal: Principal) -> None:
    """Continue only from a job this caller may see: another's is as unknown as a missing one."""
    if config.continue_from is None:
        return
    try:
        earlier = state().services.records.get_job(config.continue_from)
    except RecordNotFound:
        return  # create_job_record names it
    if not principal.can_see(earlier):
        raise validation_failed({"continue_from": f"no job {config.continue_from!r}"})


@bp.post("/jobs")
def create_job() -> tuple[Response, int, dict[str, str]]:
    principal = current_principal()
    config, fields, exceeded = validate_job(json_object(), principal)
    if config is None:
        raise validation_failed(fields, **({"limits": exceeded} if exceeded else {}))
    web = state()
    records = web.services.records
    _check_visible_continuation(config, principal)
    try:
        job = create_job_record(records, config, owner=principal.owner)
    except ConfigError as exc:
        raise validation_failed({exc.field: exc.reason}) from exc
    try:
        submit_job(web.celery, job.id)
    except Exception as exc:  # the broker is down: the job would never start
        log.error("could not queue job %s: %s", job.id, exc)
        records.update_job(job.id, status=JobStatus.FAILED, error="could not reach the task queue")
        raise ApiError(503, "task queue unavailable, try again later", job_id=job.id) from exc
    location = url_for("jobs.get_job", job_id=job.id)
    return jsonify(job_payload(job)), 201, {"Location": location}


@bp.get("/jobs")
def list_jobs() -> Response:
    """The caller's jobs, newest first, searched and filtered (`webapp.job_query`)."""
    page, errors = parse_page(request.args, also=QUERY_PARAMETERS)
    selected, filter_errors = parse_job_filter(request.args)
    if page is None or filter_errors:
        raise validation_failed(errors | filter_errors)
    records = state().services.records
    jobs, total = records.list_jobs(offset=page.offset, limit=page.per_page,
                                    owner=current_principal().owner, selected=selected)
    counts = records.trial_counts_for([job.id for job in jobs])
    return jsonify(page.envelope("jobs", [job_json(job, counts[job.id]) for job in jobs], total))


@bp.get("/jobs/<job_id>")
def get_job(job_id: str) -> Response:
    return jsonify(job_payload(load_job(job_id)))


@bp.post("/jobs/<job_id>/cancel")
def cancel_job(job_id: str) -> tuple[Response, int]:
    """A job nobody started is cancelled at once (200); a started one becomes cancelling
    (202) and its orchestrator raises the stop flag its workers check."""
    job = load_job(job_id)
    if job.status not in JOB_ACTIVE:
        raise ApiError(409, f"job is already {job.status}", job_status=job.status)
    services = state().services
    try:
        job = cancel_job_record(services.records, services.events, job.id)
    except InvalidTransition as exc:  # it finished meanwhile
        raise ApiError(409, f"job is already {exc.current}", job_status=exc.current) from None
    return jsonify(job_payload(job)), 200 if job.terminal else 202


@bp.delete("/jobs/<job_id>")
def delete_job(job_id: str) -> tuple[str, int]:
    """Everything of a finished job: artifacts, events, control state, study, records.

    Records go last, so a failure half-way leaves a job that can be deleted again.
    """
    job = load_job(job_id)
    if job.status in JOB_ACTIVE:
        raise ApiError(409, f"job is {job.status}: cancel it and wait until it ends",
                       job_status=job.status)
    web = state()
    services = web.services
    services.artifacts.delete(job_prefix(job.id))
    services.events.delete(job.id)
    services.control.clear_job(job.id)
    web.studies.delete(job.id)
    services.records.delete_job(job.id)
    return "", 204
