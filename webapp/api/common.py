"""Helpers the API views share: the caller's job (or 404), JSON bodies, job payloads."""

from __future__ import annotations

from typing import Any

from flask import request

from onegin.records import JobRecord, RecordNotFound
from webapp.auth import current_principal
from webapp.errors import ApiError, not_found, validation_failed
from webapp.serialize import job_json
from webapp.state import state


def load_job(job_id: str) -> JobRecord:
    """The job if the caller may see it; 404 alike for missing and someone else's."""
    try:
        job = state().services.records.get_job(job_id)
    except RecordNotFound:
        raise not_found("job") from None
    if not current_principal().can_see(job):
        raise not_found("job")
    return job


def job_payload(job: JobRecord) -> dict[str, Any]:
    return job_json(job, state().services.records.trial_counts(job.id))


def json_object() -> dict[str, Any]:
    """The request body as a JSON object; 400 if it is not JSON, 422 if not an object."""
    if not request.get_data(cache=True):
        return {}
    data = request.get_json(force=True, silent=True)
    if data is None:
        raise ApiError(400, "the request body is not valid JSON")
    if not isinstance(data, dict):
        raise validation_failed({"body": "must be a JSON object"})
    return data
