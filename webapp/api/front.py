"""A job's Pareto front over (validation accuracy, health score), read from its records.

Every completed trial with both objectives is a point: the front's members come with
their parameters and a link to their model (the trial's own artifact, so each one
can be downloaded, not only the best), the dominated ones with their two values only,
for the dashboard's scatter plot. Any job has a front; a `pareto` job's result is it.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, url_for

from onegin.statuses import TrialStatus
from webapp.api.common import load_job
from webapp.auth import require_principal
from webapp.serialize import front_json
from webapp.state import state

bp = Blueprint("front", __name__)
bp.before_request(require_principal)
MODEL_FILE = "model.keras"


@bp.get("/jobs/<job_id>/front")
def front(job_id: str) -> Response:
    job = load_job(job_id)
    completed, _ = state().services.records.list_trials(job.id, limit=1_000_000,
                                                        status=TrialStatus.COMPLETED)
    return jsonify(front_json(job, completed, lambda number: url_for(
        "trials.get_artifact", job_id=job.id, number=number, name=MODEL_FILE)))
