"""A job's trials, paged by number, and each trial's artifacts (listed and downloaded)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from onegin.artifacts import trial_prefix
from onegin.errors import shown
from onegin.statuses import TRIAL_STATUSES
from webapp.api.common import load_job
from webapp.auth import require_principal
from webapp.downloads import listing, safe_key, send_artifact
from webapp.errors import validation_failed
from webapp.pagination import parse_page
from webapp.state import state

bp = Blueprint("trials", __name__)
bp.before_request(require_principal)


@bp.get("/jobs/<job_id>/trials")
def list_trials(job_id: str) -> Response:
    job = load_job(job_id)
    page, errors = parse_page(request.args, also=("status",))
    status = request.args.get("status")
    if status is not None and status not in TRIAL_STATUSES:
        errors["status"] = f"must be one of {', '.join(TRIAL_STATUSES)}, got {shown(status)}"
    if page is None or errors:
        raise validation_failed(errors)
    trials, total = state().services.records.list_trials(
        job.id, offset=page.offset, limit=page.per_page, status=status)
    return jsonify(page.envelope("trials", [t.to_dict() for t in trials], total))


@bp.get("/jobs/<job_id>/trials/<int:number>")
def get_trial(job_id: str, number: int) -> Response:
    job = load_job(job_id)
    return jsonify(state().services.records.get_trial(job.id, number).to_dict())


def _trial_folder(job_id: str, number: int) -> str:
    """The trial's artifact prefix, once the caller may see the job and the trial exists."""
    job = load_job(job_id)
    state().services.records.get_trial(job.id, number)  # RecordNotFound: 404
    return trial_prefix(job.id, number)


@bp.get("/jobs/<job_id>/trials/<int:number>/artifacts")
def list_artifacts(job_id: str, number: int) -> Response:
    prefix = _trial_folder(job_id, number)
    return jsonify(artifacts=listing(state().services.artifacts.list(prefix), prefix))


@bp.get("/jobs/<job_id>/trials/<int:number>/artifacts/<path:name>")
def get_artifact(job_id: str, number: int, name: str) -> Response:
    prefix = _trial_folder(job_id, number)
    return send_artifact(state().services.artifacts, safe_key(prefix, name))
