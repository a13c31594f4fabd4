"""One JSON error shape for every 4xx and 5xx: ``{"error": "...", ...}``.

Browsers and API clients read the same body whether Flask refused the request
(404, 405, 413), a view refused it (`ApiError`), or something broke (500: the
traceback goes to the log, never to the client). Domain errors that mean "not
found" or "a backend is down" are translated here once, not in every view.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import redis
from flask import Flask, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.wrappers import Response as WerkzeugResponse

from onegin.artifacts import (
    ArtifactNotFound,
    ArtifactStoreUnavailable,
    InvalidArtifactKey,
)
from onegin.records import RecordNotFound, RecordStoreUnavailable

log = logging.getLogger(__name__)


def error_body(message: str, **extra: Any) -> dict[str, Any]:
    """The body of every error response."""
    return {"error": message, **extra}


class ApiError(Exception):
    """Raised by a view to answer ``status`` with `error_body(message, **extra)`."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


def validation_failed(fields: Mapping[str, str], **extra: Any) -> ApiError:
    """422 naming every bad field: ``{"error": "validation failed", "fields": {...}}``."""
    return ApiError(422, "validation failed", fields=dict(fields), **extra)


def not_found(what: str = "resource") -> ApiError:
    return ApiError(404, f"{what} not found")


def _json(status: int, body: dict[str, Any]) -> tuple[Response, int]:
    return jsonify(body), status


def _api_error(exc: ApiError) -> tuple[Response, int]:
    return _json(exc.status, error_body(exc.message, **exc.extra))


def _http_error(exc: HTTPException) -> WerkzeugResponse:
    """Keep Werkzeug's status and headers (e.g. ``Allow`` on 405), replace the HTML body."""
    response = exc.get_response()
    code = exc.code or 500
    if isinstance(exc, RequestEntityTooLarge):
        limit = request.max_content_length  # this view's own (uploads have a larger one)
        body = error_body("request body too large", limit_bytes=limit)
    else:
        body = error_body((exc.name or "error").lower())
    if code >= 500:
        log.error("HTTP %s: %s", code, exc)
    response.data = current_app.json.dumps(body).encode()
    response.content_type = "application/json"
    return response


def _not_found(exc: RecordNotFound | ArtifactNotFound | InvalidArtifactKey) -> tuple[Response, int]:
    kind = exc.kind if isinstance(exc, RecordNotFound) else "artifact"
    return _json(404, error_body(f"{kind} not found"))


def _unavailable(exc: Exception) -> tuple[Response, int]:
    log.warning("backend unavailable: %s", exc)
    which = ("database" if isinstance(exc, RecordStoreUnavailable)
             else "artifact store" if isinstance(exc, ArtifactStoreUnavailable)
             else "event bus" if isinstance(exc, redis.RedisError) else "backend")
    return _json(503, error_body(f"{which} unavailable, try again later"))


def _unexpected(exc: Exception) -> tuple[Response, int]:
    log.exception("unhandled error", exc_info=exc)
    return _json(500, error_body("internal server error"))


def register_error_handlers(app: Flask) -> None:
    """JSON bodies for every error; Flask picks the most specific handler by class."""
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(RecordNotFound, _not_found)
    app.register_error_handler(ArtifactNotFound, _not_found)
    app.register_error_handler(InvalidArtifactKey, _not_found)
    app.register_error_handler(RecordStoreUnavailable, _unavailable)
    app.register_error_handler(ArtifactStoreUnavailable, _unavailable)
    app.register_error_handler(ConnectionError, _unavailable)
    app.register_error_handler(redis.RedisError, _unavailable)
    app.register_error_handler(Exception, _unexpected)
