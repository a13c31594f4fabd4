"""Admin: list API tokens and revoke them (the CLI's ``onegin token list|revoke`` over HTTP).

Listings show no secret (none is stored) and no limits. Revoking a token ends its
browser sessions and, through the Socket.IO relay's credential checks, its live
connections; it is idempotent, and a revoked token stays listed.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from webapp.auth import credentials_revoked, require_admin
from webapp.state import state

bp = Blueprint("tokens", __name__)
bp.before_request(require_admin)  # 401 without a caller, 403 for one who is no admin


@bp.get("/tokens")
def list_tokens() -> Response:
    return jsonify({"tokens": [t.listing() for t in state().services.records.list_tokens()]})


@bp.delete("/tokens/<token_id>")
def revoke_token(token_id: str) -> Response:
    token = state().services.records.revoke_token(token_id)  # RecordNotFound: 404
    credentials_revoked()
    return jsonify(token.listing())
