"""Comparisons: submit (validated, within the caller's limits), read with their runs and
report, and download the report's files.

A comparison is a job of kind ``compare``: it is listed, cancelled and deleted with
the jobs (``/jobs/<id>``, a cancel reaches its runs); here it is read with what only
a comparison has. Its runs are jobs of their own, named by ``parent_id``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, jsonify, url_for

from onegin.artifacts import report_prefix
from onegin.compare_config import DEFAULT_TRIALS, CompareConfig
from onegin.errors import ConfigErrors
from onegin.job_kinds import JobKind
from onegin.records import JobRecord
from onegin.statuses import JobStatus
from onegin.submission import create_comparison, submit_job
from webapp.api.common import job_payload, json_object, load_job
from webapp.api.jobs import registered_dataset
from webapp.auth import Principal, current_principal, require_principal
from webapp.downloads import REPORT_SANDBOX, listing, safe_key, send_artifact
from webapp.errors import ApiError, not_found, validation_failed
from webapp.limits import check_limits
from webapp.state import state

bp = Blueprint("comparisons", __name__)
bp.before_request(require_principal)
# what the report links name: the renderer's files and the summary it was made from
REPORT_LINKS = {"html": "report.html", "pdf": "report.pdf", "analysis": "analysis.json",
                "summary": "summary.json"}


def validate_comparison(data: Mapping[str, Any], principal: Principal
                        ) -> tuple[CompareConfig | None, dict[str, str], dict[str, int]]:
    """The config, or every bad field with its reason (and the limits that were exceeded).

    Each run is held to the caller's job limits (trials, epochs, concurrency)."""
    data, fields = registered_dataset(data)
    config = None
    try:
        config = CompareConfig.from_dict(data)
    except ConfigErrors as exc:
        fields = exc.as_dict() | fields
    exceeded: dict[str, int] = {}
    runs = {"trials": DEFAULT_TRIALS} | dict(data)
    for field, (reason, limit) in check_limits(runs, principal.limits).items():
        if field not in fields:
            fields[field] = reason
            exceeded[field] = limit
    return (None if fields else config), fields, exceeded


def _load_comparison(job_id: str) -> JobRecord:
    job = load_job(job_id)
    if job.kind != JobKind.COMPARE:
        raise not_found("comparison")
    return job


def comparison_payload(job: JobRecord) -> dict[str, Any]:
    """The comparison's job, its runs and, once stored, its report's files and links."""
    records = state().services.records
    runs = records.list_children(job.id)
    counts = records.trial_counts_for([run.id for run in runs])
    prefix = report_prefix(job.id)
    files = listing(state().services.artifacts.list(prefix), prefix)
    stored = {f["name"] for f in files}
    return {
        "job": job_payload(job),
        "runs": [{"id": run.id, "objective": run.config.get("objective"),
                  "seed": run.config.get("seed"), "data_seed": run.config.get("data_seed"),
                  "status": run.status, "best_trial_number": run.best_trial_number,
                  "best_score": run.best_score, "best_accuracy": run.best_accuracy,
                  "counts": dict(counts[run.id])} for run in runs],
        "report": {"files": files, **{
            key: (url_for("comparisons.report_file", job_id=job.id, name=name)
                  if name in stored else None) for key, name in REPORT_LINKS.items()}},
    }


@bp.post("/comparisons")
def create() -> tuple[Response, int, dict[str, str]]:
    principal = current_principal()
    config, fields, exceeded = validate_comparison(json_object(), principal)
    if config is None:
        raise validation_failed(fields, **({"limits": exceeded} if exceeded else {}))
    web = state()
    job = create_comparison(web.services.records, config, owner=principal.owner)
    try:
        submit_job(web.celery, job.id)
    except Exception as exc:  # the broker is down: it would never start
        web.services.records.update_job(job.id, status=JobStatus.FAILED,
                                        error="could not reach the task queue")
        raise ApiError(503, "task queue unavailable, try again later", job_id=job.id) from exc
    location = url_for("comparisons.get", job_id=job.id)
    return jsonify(comparison_payload(job)), 201, {"Location": location}


@bp.get("/comparisons/<job_id>")
def get(job_id: str) -> Response:
    return jsonify(comparison_payload(_load_comparison(job_id)))


@bp.get("/comparisons/<job_id>/report/<path:name>")
def report_file(job_id: str, name: str) -> Response:
    prefix = report_prefix(_load_comparison(job_id).id)
    return send_artifact(state().services.artifacts, safe_key(prefix, name),
                         policy=REPORT_SANDBOX)
