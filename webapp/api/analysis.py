"""A job's trials as the dashboard's analysis plots read them, in one request
(`webapp.analysis` shapes and samples them)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from webapp.analysis import FIELDS, analysis_json
from webapp.api.common import load_job
from webapp.auth import require_principal
from webapp.state import state

bp = Blueprint("analysis", __name__)
bp.before_request(require_principal)


@bp.get("/jobs/<job_id>/analysis")
def analysis(job_id: str) -> Response:
    job = load_job(job_id)
    return jsonify(analysis_json(state().services.records.trial_fields(job.id, FIELDS)))
