"""A job's Optuna study as the dashboard charts it: value history and importances."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from webapp.api.common import load_job
from webapp.auth import require_principal
from webapp.state import state

bp = Blueprint("study", __name__)
bp.before_request(require_principal)


@bp.get("/jobs/<job_id>/study")
def study(job_id: str) -> Response:
    job = load_job(job_id)
    return jsonify(state().studies.summary(job.id, job.config, final=job.terminal))
