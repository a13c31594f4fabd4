"""A job's trials, paged, sorted and filtered (`webapp.trial_query`), and each trial's
artifacts (listed and downloaded)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from onegin.artifacts import trial_prefix
from webapp.api.common import load_job
from webapp.auth import require_principal
from webapp.downloads import listing, safe_key, send_artifact
from webapp.errors import validation_failed
from webapp.pagination import parse_page
from webapp.state import state
from webapp.trial_query import QUERY_PARAMETERS, is_query_name, parse_query

bp = Blueprint("trials", __name__)
bp.before_request(require_principal)


@bp.get("/jobs/<job_id>/trials")
def list_trials(job_id: str) -> Response:
    job = load_job(job_id)
    query, errors = parse_query(request.args)
    others = {k: v for k, v in request.args.items() if not is_query_name(k)}
    page, page_errors = parse_page(others, also=QUERY_PARAMETERS)
    if page is None or errors or page_errors:
        raise validation_failed(page_errors | errors)
    trials, total = state().services.records.list_trials(
        job.id, offset=page.offset, limit=page.per_page, query=query)
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
