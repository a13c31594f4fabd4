"""Helpers the API views share: the caller's job (or 404), JSON bodies, job payloads."""

from __future__ import annotations

import json
from typing import Any

from flask import current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from onegin.job_config import JOB_ID_PATTERN
from onegin.records import JobRecord, RecordNotFound
from webapp.auth import current_principal
from webapp.errors import ApiError, not_found, validation_failed
from webapp.serialize import job_json
from webapp.state import state


def load_job(job_id: str) -> JobRecord:
    """The job if the caller may see it; 404 alike for missing and someone else's.

    An id that no job can have is not looked up (PostgreSQL refuses a NUL, say).
    """
    if not JOB_ID_PATTERN.fullmatch(job_id):
        raise not_found("job")
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
    """The request body as a JSON object; no body at all is ``{}``.

    415 unless a body is sent as JSON, 413 when it is over ``max_request_bytes``
    (also a chunked one, which announces no length), 400 when it is not JSON,
    422 when it is JSON but not an object (``null``, a list, a number…).
    """
    data = _body()
    if not data:
        return {}
    if not request.is_json:
        raise ApiError(415, "the request body must be JSON: send Content-Type: "
                            "application/json", content_type=request.mimetype or None)
    try:
        value = json.loads(data, parse_constant=_no_constant)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError too
        raise ApiError(400, "the request body is not valid JSON") from None
    if not isinstance(value, dict):
        raise validation_failed({"body": f"must be a JSON object, got {_json_kind(value)}"})
    return value


def _body() -> bytes:
    """The whole body, within the app's limit.

    Werkzeug stops reading a body without Content-Length (chunked) at
    ``MAX_CONTENT_LENGTH`` and returns what it read, so a body cut there would pass
    for a shorter one; one more byte from the server's stream tells the two apart.
    """
    data = request.get_data(cache=True)
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if (request.content_length is None and limit is not None and len(data) >= limit
            and request.environ["wsgi.input"].read(1)):
        raise RequestEntityTooLarge()
    return data


def _no_constant(name: str) -> Any:
    """JSON has no NaN or Infinity (Python's parser would take them)."""
    raise ValueError(f"{name} is not JSON")


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    return "a number"
