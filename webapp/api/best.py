"""The deliverable: the best trial's summary, model, hyperparameters, bundle and files.

The orchestrator copies the best trial to ``jobs/<id>/best/`` and writes
``best_hyperparameters.yaml`` last, so that file's presence means the folder is
complete; until then every endpoint here answers 404 "no best model yet".
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from flask import Blueprint, Response, jsonify

from onegin.artifacts import ArtifactNotFound, best_prefix
from onegin.records import JobRecord
from webapp.api.common import load_job
from webapp.auth import require_principal
from webapp.downloads import bundle_members, listing, safe_key, send_artifact, send_bundle
from webapp.errors import ApiError
from webapp.state import state

bp = Blueprint("best", __name__)
bp.before_request(require_principal)
PARAMS_FILE = "best_hyperparameters.yaml"
MODEL_FILE = "model.keras"
ARCHITECTURE_FILE = "architecture.json"


def _best_folder(job_id: str) -> tuple[JobRecord, str]:
    job = load_job(job_id)
    prefix = best_prefix(job.id)
    if not state().services.artifacts.exists(prefix + PARAMS_FILE):
        raise ApiError(404, "no best model yet")
    return job, prefix


def _read_json(key: str) -> Any:
    try:
        return json.loads(state().services.artifacts.get_bytes(key))
    except ArtifactNotFound:
        return None


@bp.get("/jobs/<job_id>/best")
def best(job_id: str) -> Response:
    job, prefix = _best_folder(job_id)
    artifacts = state().services.artifacts
    document = yaml.safe_load(artifacts.get_bytes(prefix + PARAMS_FILE)) or {}
    number = document.get("trial", job.best_trial_number)
    if not isinstance(number, int):
        raise ValueError(f"{PARAMS_FILE} of job {job.id} names no trial")
    trial = state().services.records.get_trial(job.id, number)
    return jsonify(
        trial=trial.number, params=trial.params, metrics=trial.metrics or {},
        health=trial.health or {}, health_score=trial.health_score,
        total_score=trial.total_score,
        val_accuracy=trial.val_accuracy, architecture=_read_json(prefix + ARCHITECTURE_FILE),
    )


@bp.get("/jobs/<job_id>/best/model.keras")
def model(job_id: str) -> Response:
    job, prefix = _best_folder(job_id)
    return send_artifact(state().services.artifacts, prefix + MODEL_FILE, attachment=True,
                         download_name=f"onegin-{job.id}-model.keras")


@bp.get("/jobs/<job_id>/best/best_hyperparameters.yaml")
def hyperparameters(job_id: str) -> Response:
    job, prefix = _best_folder(job_id)
    return send_artifact(state().services.artifacts, prefix + PARAMS_FILE, attachment=True,
                         download_name=f"onegin-{job.id}-{PARAMS_FILE}")


@bp.get("/jobs/<job_id>/best/bundle.zip")
def bundle(job_id: str) -> Response:
    job, prefix = _best_folder(job_id)
    store = state().services.artifacts
    members = bundle_members(store.list(prefix), prefix)
    return send_bundle(store, members, f"onegin-{job.id}-best.zip")


@bp.get("/jobs/<job_id>/best/artifacts")
def list_artifacts(job_id: str) -> Response:
    _, prefix = _best_folder(job_id)
    return jsonify(artifacts=listing(state().services.artifacts.list(prefix), prefix))


@bp.get("/jobs/<job_id>/best/artifacts/<path:name>")
def get_artifact(job_id: str, name: str) -> Response:
    _, prefix = _best_folder(job_id)
    return send_artifact(state().services.artifacts, safe_key(prefix, name))
