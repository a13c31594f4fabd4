"""Browser sign-in: trade an API token for an HttpOnly session cookie and a CSRF secret."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from webapp.api.common import json_object
from webapp.auth import identify, session_csrf, sign_in, sign_out
from webapp.errors import ApiError, validation_failed
from webapp.limits import limits_for
from webapp.state import state

bp = Blueprint("session", __name__)


def _who(name: str | None, csrf: str | None, limits: dict[str, int]) -> dict[str, Any]:
    return {"name": name, "csrf_token": csrf, "limits": limits,
            "auth_required": state().auth_required}


@bp.get("/session")
def who_am_i() -> Response:
    principal = identify()
    if principal is None:
        raise ApiError(401, "not signed in", auth_required=state().auth_required)
    return jsonify(_who(principal.name, session_csrf() if principal.via == "session" else None,
                        principal.limits.to_dict()))


@bp.post("/session")
def create_session() -> Response:
    body = json_object()
    secret = body.get("token")
    if not isinstance(secret, str) or not secret:  # a blank one is simply no valid token
        raise validation_failed({"token": "is required: the API token to sign in with"})
    token, csrf = sign_in(secret.strip())
    return jsonify(_who(token.name, csrf, limits_for(token, state().settings).to_dict()))


@bp.delete("/session")
def delete_session() -> tuple[str, int]:
    try:
        identify()  # a live cookie session must show its CSRF header to end itself
    except ApiError as exc:
        if exc.status != 401:
            raise
    sign_out()
    return "", 204
