"""Who is calling: an API token (``Authorization: Bearer``), a browser session, or nobody.

Tokens are looked up by the hash of their secret on every request, so revoking
one takes effect at once. A browser trades a token for a signed session cookie
(`sign_in`) that holds a session secret and a CSRF secret; the session itself
lives in the records database (only the secret's hash), so signing out or
revoking the token ends it for every copy of the cookie, in every web process.
Requests that change something with that cookie must echo the CSRF secret in
``X-CSRF-Token`` (a cross-site form can send the cookie, never the header). When
auth is not required, a request without credentials is the local user, who sees
every job and is an admin; otherwise only tokens made with ``--admin`` are.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from flask import current_app, g, request, session

from onegin.records import JobRecord, RecordError, TokenRecord
from webapp.errors import ApiError
from webapp.limits import Limits, limits_for
from webapp.state import state

log = logging.getLogger(__name__)
SAFE_METHODS: frozenset[str] = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRF-Token"
_SESSION = "sid"
_CSRF = "csrf"


@dataclass(frozen=True)
class Principal:
    """The caller. ``token`` is None only for the local user of an open server."""

    token: TokenRecord | None
    limits: Limits
    via: str  # "bearer", "session" or "open"
    session: str | None = None  # the browser session's secret (via "session" only)

    @property
    def owner(self) -> str | None:
        """What jobs are stamped with and filtered by: the token id (never the secret)."""
        return self.token.id if self.token else None

    @property
    def name(self) -> str | None:
        return self.token.name if self.token else None

    def can_see(self, job: JobRecord) -> bool:
        return self.token is None or job.owner == self.token.id

    @property
    def admin(self) -> bool:
        """May list and revoke every token: an admin token, or the local user of an
        open server (who sees every job already)."""
        return self.token is None or self.token.admin


def still_valid(principal: Principal, live_tokens: set[str], live_sessions: set[str]) -> bool:
    """Does ``principal`` still hold, given the tokens and sessions found live? (Pure: the
    Socket.IO relay asks this of every client it keeps, after one query for all.)"""
    if principal.session is not None:
        return principal.session in live_sessions
    return principal.token is None or principal.token.id in live_tokens


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


def _principal(token: TokenRecord | None, via: str, secret: str | None = None) -> Principal:
    if token is not None:
        _note_use(token)
    return Principal(token, limits_for(token, state().settings), via, secret)


def _note_use(token: TokenRecord) -> None:
    """Keep the token's last use for listings; a failure to write it refuses nothing."""
    try:
        state().services.records.note_token_use(token)
    except RecordError as exc:
        log.warning("could not record the use of token %s: %s", token.id, exc)


def _session_principal() -> Principal | None:
    """The caller of the session cookie; None without one, 401 when it has ended."""
    secret = session.get(_SESSION)
    if not isinstance(secret, str):
        if session:  # a cookie from before server-side sessions, or a tampered one
            session.clear()
        return None
    token = state().services.records.session_token(secret)
    if token is None:
        session.clear()
        raise _unauthorized("the session has ended (signed out, expired, or its token "
                            "revoked); sign in again")
    return _principal(token, "session", secret)


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
    principal = _session_principal()
    if principal is None:
        return None
    if request.method not in SAFE_METHODS:
        _check_csrf()
    return principal


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


def require_admin() -> None:
    """``before_request`` hook of the admin blueprints: 403 unless the caller is an admin."""
    if not current_principal().admin:
        raise ApiError(403, "admin only: use a token made with "
                            "'onegin token create NAME --admin'")


def sign_in(secret: Any) -> tuple[TokenRecord, str]:
    """Start a browser session for the token with this secret; returns it and the CSRF secret."""
    records = state().services.records
    token = records.find_token(secret) if isinstance(secret, str) else None
    if token is None:
        raise _unauthorized("invalid or revoked token")
    _end_cookie_session()  # a new sign-in never inherits the previous session
    session.permanent = True
    session[_SESSION] = records.create_session(token.id, current_app.permanent_session_lifetime)
    session[_CSRF] = secrets.token_urlsafe(32)
    _note_use(token)
    return token, session[_CSRF]


def session_csrf() -> str | None:
    """The CSRF secret of the current browser session (None for bearer or open callers)."""
    value = session.get(_CSRF)
    return value if isinstance(value, str) else None


def sign_out() -> None:
    """End the cookie's session on the server (copies of the cookie stop working too)."""
    _end_cookie_session()


def _end_cookie_session() -> None:
    secret = session.get(_SESSION)
    session.clear()
    if isinstance(secret, str):
        state().services.records.end_session(secret)
        credentials_revoked()


def credentials_revoked() -> None:
    """Tell this process's Socket.IO relay to check its clients now (other processes
    check every ``session_check_interval`` seconds)."""
    state().credentials_revoked.set()


def socket_principal(auth: Any) -> Principal | None:
    """The caller of a Socket.IO connect: ``auth={"token": …}``, else the session cookie,
    else the local user when auth is not required; None means refuse."""
    secret = auth.get("token") if isinstance(auth, dict) else None
    if secret is not None:
        token = state().services.records.find_token(secret) if isinstance(secret, str) else None
        return None if token is None else _principal(token, "bearer")
    try:
        principal = _session_principal()
    except ApiError:
        return None
    if principal is not None:
        return principal
    return None if state().auth_required else _principal(None, "open")
