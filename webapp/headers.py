"""Security headers on every response, and the dashboard's Content-Security-Policy.

Every response says: never sniff a content type, never be framed (the dashboard
has buttons worth clickjacking: cancel, delete, sign out), and send no referrer
to other sites. HTML gets a policy that lets the dashboard load only its own
scripts, styles, images and Socket.IO connection; anything else gets
``default-src 'none'``. A view that set its own policy (sandboxed downloads)
keeps it.

Two inline pieces are allowed by name, not by ``'unsafe-inline'``: the page's
import map, by a nonce made per response (its URLs come from ``url_for``), and
the one stylesheet Cytoscape injects (``position: relative`` on its container),
by the hash of its text. A Cytoscape upgrade that changes that text shows up as
a CSP violation in the browser tests.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Mapping

from flask import Flask, Response, g

# The <style> Cytoscape 3 adds to <head> when it renders (cytoscape.esm: "__________cytoscape_
# stylesheet"); the hash allows exactly this text.
CYTOSCAPE_STYLESHEET = ".__________cytoscape_container { position: relative; }"
NONCE_BYTES = 18


def _sha256_source(text: str) -> str:
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
    return f"'sha256-{digest}'"


def dashboard_policy(nonce: str | None) -> str:
    """The CSP of the dashboard's HTML (``nonce``: the one its import map carries)."""
    scripts = "'self'" + (f" 'nonce-{nonce}'" if nonce else "")
    return "; ".join((
        "default-src 'self'",
        f"script-src {scripts}",
        f"style-src 'self' {_sha256_source(CYTOSCAPE_STYLESHEET)}",
        "img-src 'self' data: blob:",  # data: the favicon; blob: the graph's PNG export
        "connect-src 'self'",  # the REST API and Socket.IO (ws: to the same host included)
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ))


OTHER_POLICY = "default-src 'none'; frame-ancestors 'none'"


def security_headers(content_type: str | None, nonce: str | None) -> dict[str, str]:
    """The headers a response of this content type gets (pure)."""
    html = (content_type or "").split(";", 1)[0].strip().lower() == "text/html"
    return {
        "Content-Security-Policy": dashboard_policy(nonce) if html else OTHER_POLICY,
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
    }


def csp_nonce() -> str:
    """This response's nonce for inline scripts (made on first use)."""
    nonce: str | None = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(NONCE_BYTES)
    return nonce


def _add_headers(response: Response) -> Response:
    _set_missing(response, security_headers(response.mimetype, g.get("csp_nonce")))
    return response


def _set_missing(response: Response, headers: Mapping[str, str]) -> None:
    for name, value in headers.items():
        response.headers.setdefault(name, value)


def install_security_headers(app: Flask) -> None:
    """Add the headers to every response of ``app``; templates get ``csp_nonce``."""
    app.after_request(_add_headers)
    app.context_processor(lambda: {"csp_nonce": csp_nonce()})
