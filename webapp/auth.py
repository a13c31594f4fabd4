"""Who is calling: an API token (``Authorization: Bearer``), a browser session, or nobody.

Tokens are looked up by the hash of their secret on every request, so revoking
one takes effect at once. A browser trades a token for a signed session cookie
(`sign_in`) that holds only the token's id and a CSRF secret; requests that
change something with that cookie must echo the secret in ``X-CSRF-Token``
(a cross-site form can send the cookie, never the header). When auth is not
required, a request without credentials is the local user, who sees every job.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from flask import g, request, session

from onegin.records import JobRecord, RecordNotFound, TokenRecord
from webapp.errors import ApiError
from webapp.limits import Limits, limits_for
from webapp.state import state

SAFE_METHODS: frozenset[str] = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRF-Token"
_TOKEN_ID = "tid"
_CSRF = "csrf"


@dataclass(frozen=True)
class Principal:
    """The caller. ``token`` is None only for the local user of an open server."""

    token: TokenRecord | None
    limits: Limits
    via: str  # "bearer", "session" or "open"

    @property
    def owner(self) -> str | None:
        """What jobs are stamped with and filtered by: the token id (never the secret)."""
        return self.token.id if self.token else None

    @property
    def name(self) -> str | None:
        return self.token.name if self.token else None

    def can_see(self, job: JobRecord) -> bool:
        return self.token is None or job.owner == self.token.id


def bearer_secret(header: str | None) -> str | None:
    """The secret of an ``Authorization: Bearer <secret>`` header (None: no header).

    Raises `ApiError` 401 for any other form, so a typo is not taken as "signed out".
    """
    if header is None:
        return None
    scheme, _, secret = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise _unauthorized("the Authorization header must be 'Bearer <token>'")
    return secret.strip()


def _unauthorized(message: str) -> ApiError:
    return ApiError(401, message, auth_required=state().auth_required)


def _principal(token: TokenRecord | None, via: str) -> Principal:
    return Principal(token, limits_for(token, state().settings), via)


def _session_token() -> TokenRecord | None:
    token_id = session.get(_TOKEN_ID)
    if not isinstance(token_id, str):
        return None
    try:
        token = state().services.records.get_token(token_id)
    except RecordNotFound:
        token = None
    if token is None or not token.active:
        session.clear()
        raise _unauthorized("the session's token was revoked; sign in again")
    return token


def _check_csrf() -> None:
    expected = session.get(_CSRF)
    given = request.headers.get(CSRF_HEADER, "")
    # as bytes: compare_digest refuses str with non-ASCII characters (a TypeError, a 500)
    if not isinstance(expected, str) or not hmac.compare_digest(
            expected.encode(), given.encode("utf-8", "surrogateescape")):
        raise ApiError(403, f"missing or wrong {CSRF_HEADER} header")


def identify() -> Principal | None:
    """The caller of this request, or None when it carries no credentials at all."""
    secret = bearer_secret(request.headers.get("Authorization"))
    if secret is not None:
        token = state().services.records.find_token(secret)
        if token is None:
            raise _unauthorized("invalid or revoked token")
        return _principal(token, "bearer")
    token = _session_token()
    if token is None:
        return None
    if request.method not in SAFE_METHODS:
        _check_csrf()
    return _principal(token, "session")


def current_principal() -> Principal:
    """The caller, or 401 when auth is required and there is none; cached per request."""
    found: Principal | None = g.get("principal")
    if found is not None:
        return found
    principal = identify()
    if principal is None:
        if state().auth_required:
            raise _unauthorized("authentication required: send 'Authorization: Bearer "
                                "<token>' or sign in at POST /api/v1/session")
        principal = _principal(None, "open")
    g.principal = principal
    return principal


def require_principal() -> None:
    """``before_request`` hook of the blueprints that need a caller."""
    current_principal()


def sign_in(secret: Any) -> tuple[TokenRecord, str]:
    """Start a browser session for the token with this secret; returns it and the CSRF secret."""
    token = state().services.records.find_token(secret) if isinstance(secret, str) else None
    if token is None:
        raise _unauthorized("invalid or revoked token")
    session.clear()
    session.permanent = True
    session[_TOKEN_ID] = token.id
    session[_CSRF] = secrets.token_urlsafe(32)
    return token, session[_CSRF]


def session_csrf() -> str | None:
    """The CSRF secret of the current browser session (None for bearer or open callers)."""
    value = session.get(_CSRF)
    return value if isinstance(value, str) else None


def sign_out() -> None:
    session.clear()


def socket_principal(auth: Any) -> Principal | None:
    """The caller of a Socket.IO connect: ``auth={"token": …}``, else the session cookie,
    else the local user when auth is not required; None means refuse."""
    secret = auth.get("token") if isinstance(auth, dict) else None
    if secret is not None:
        token = state().services.records.find_token(secret) if isinstance(secret, str) else None
        return None if token is None else _principal(token, "bearer")
    try:
        token = _session_token()
    except ApiError:
        return None
    if token is not None:
        return _principal(token, "session")
    return None if state().auth_required else _principal(None, "open")
