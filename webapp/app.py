"""The Flask app factory: REST API, Socket.IO relay, metrics and the dashboard page.

``create_app(settings, services=...)`` builds a self-contained app: its own
services, metrics registry and `SocketIO` (``app.extensions["socketio"]``;
`socketio` below is the most recently built one, for ``socketio.run(app)``).
Configuration is the layered `Settings` (defaults, file, ``ONEGIN_*``,
overrides); nothing here imports TensorFlow.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from datetime import timedelta
from pathlib import Path

from flask import Flask, Response, current_app, g, render_template, request
from flask.sessions import SecureCookieSessionInterface
from flask_socketio import SocketIO
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

from onegin.job_config import (
    MAX_CONCURRENCY,
    MAX_EPOCHS,
    MAX_TRIALS,
    PLOT_MODES,
    OptimizationConfig,
)
from onegin.services import Services
from onegin.settings import Settings, load_settings
from webapp.api import register_api
from webapp.api.uploads import UPLOAD_ENDPOINT
from webapp.errors import register_error_handlers
from webapp.headers import install_security_headers
from webapp.limits import default_limits
from webapp.metrics import Metrics
from webapp.realtime import create_socketio
from webapp.state import EXTENSION, REQUEST_PATIENCE, WebState, auth_required, state

log = logging.getLogger(__name__)
SESSION_COOKIE = "onegin_session"
SECRET_FILE = "web-secret-key"
PLACEHOLDER = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Onegin</title></head>
<body><h1>Onegin</h1><p>The dashboard is not installed here. The REST API is at
<a href="/api/v1/openapi.json">/api/v1</a>.</p></body></html>
"""

socketio: SocketIO | None = None


class _SessionInterface(SecureCookieSessionInterface):
    """Signed cookie sessions whose cookie is Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


def secret_key(settings: Settings) -> str:
    """The ``secret_key`` setting, else a random key kept in the home folder (0600), so
    sessions survive a restart of an embedded server."""
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.home) / SECRET_FILE
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process wrote it first: use theirs
        return path.read_text().strip()
    with os.fdopen(fd, "w") as out:
        out.write(key)
    return key


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> Flask:
    """A web app on ``settings`` (default: `load_settings()`), or on ready ``services``."""
    global socketio
    if services is None:
        services = Services(settings or load_settings(), patience=REQUEST_PATIENCE)
    settings = services.settings
    app = Flask(__name__, static_folder="static", template_folder="templates")
    app.config.update(
        SECRET_KEY=secret_key(settings),
        SESSION_COOKIE_NAME=SESSION_COOKIE,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.session_hours),
        MAX_CONTENT_LENGTH=settings.max_request_bytes,
    )
    app.session_interface = _SessionInterface()
    # "a//b" must reach the views (and be refused there), not be redirected to "a/b".
    app.url_map.merge_slashes = False
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep documented orders

    # Open the record store now: in the embedded mode that migrates the schema once,
    # before any request can race to do it.
    services.records  # noqa: B018
    web = WebState(settings=settings, services=services, metrics=Metrics(services.records),
                   auth_required=auth_required(settings.auth, settings.web_host))
    app.extensions[EXTENSION] = web

    register_error_handlers(app)
    register_api(app)
    app.add_url_rule("/", "index", _index)
    app.before_request(_before_request)
    app.after_request(_count_request)
    install_security_headers(app)
    socketio = create_socketio(app, web)
    if settings.trusted_proxies:  # outermost, so Socket.IO sees the client's scheme and host
        hops = settings.trusted_proxies
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
    return app


def socketio_for(app: Flask) -> SocketIO:
    """The SocketIO of ``app`` (each app has its own)."""
    found: SocketIO = app.extensions["socketio"]
    return found


def _index() -> str | Response:
    """The dashboard page when its template is installed, else a pointer to the API."""
    if app_template_exists("index.html"):
        # the form's bounds: the job configuration's own, within the server's default
        # limits (the local user's; a signed-in token's come with GET /session)
        limits = default_limits(state().settings)
        return render_template("index.html", max_trials=min(MAX_TRIALS, limits.max_trials),
                               max_epochs=min(MAX_EPOCHS, limits.max_epochs),
                               max_concurrency=min(MAX_CONCURRENCY, limits.max_concurrency),
                               plot_modes=PLOT_MODES, plot_mode=OptimizationConfig.plot_mode)
    return Response(PLACEHOLDER, content_type="text/html; charset=utf-8")


def app_template_exists(name: str) -> bool:
    folder = current_app.template_folder
    return folder is not None and (Path(current_app.root_path) / folder / name).is_file()


def _before_request() -> None:
    g.started = time.perf_counter()
    if request.endpoint == UPLOAD_ENDPOINT:  # datasets: their own, larger limit
        request.max_content_length = state().settings.upload_max_bytes
    # Refuse an announced oversized body even where the view would not read it.
    limit = request.max_content_length
    if (request.content_length is not None and limit is not None
            and request.content_length > limit):
        raise RequestEntityTooLarge()


def _count_request(response: Response) -> Response:
    rule = request.url_rule.rule if request.url_rule is not None else "unmatched"
    metrics = state().metrics
    metrics.requests.labels(request.method, rule, str(response.status_code)).inc()
    started = g.get("started")
    if started is not None:  # streamed downloads: time to the first byte
        metrics.latency.labels(rule).observe(time.perf_counter() - started)
    return response
