"""`onegin web`: the app on Flask-SocketIO's own server (threading mode).

That server (Werkzeug, one thread per request, WebSocket through
simple-websocket) suits a laptop and a small team; production runs the same app
behind the compose setup's reverse proxy. In the embedded mode it also starts
the local orchestrator and GPU workers, and stops them on SIGTERM, SIGHUP or
SIGINT (Ctrl-C) alike: the GPU workers hand their trials back, the orchestrator
releases its jobs, and the next `onegin web` on the same home resumes them.
Jobs belong to whoever submitted them, so stopping the server cancels none.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
from typing import Any

from rich.console import Console

from onegin.gil import hand_over_often
from onegin.logs import configure_logging
from onegin.settings import Settings
from onegin.stop_signals import STOP_SIGNALS
from webapp.app import create_app, socketio_for
from webapp.embedded import EmbeddedCluster
from webapp.state import state

log = logging.getLogger(__name__)


class _ExitOnSignal:
    """The first stop signal ends serving: SystemExit unwinds through the `with` in
    `serve`, which stops the workers. Later ones are ignored, so they cannot cut that
    stop short (and leave a worker behind)."""

    def __init__(self) -> None:
        self.received: int | None = None

    def __call__(self, signum: int, _frame: Any) -> None:
        if self.received is None:
            self.received = signum
            sys.exit(0)


def serve(settings: Settings, *, workers: int = 2) -> None:
    """Serve until interrupted, with local workers in the embedded mode."""
    configure_logging(settings)
    hand_over_often()  # as webapp.wsgi: one thread per request and per WebSocket
    console = Console(stderr=True)
    app = create_app(settings)
    with app.app_context():
        web = state()
        if web.auth_required and not web.services.records.list_tokens():
            console.print("[yellow]auth is required but no token exists: create one with "
                          "`onegin token create NAME`[/yellow]")
    on_signal = _ExitOnSignal()
    for signum in STOP_SIGNALS:
        signal.signal(signum, on_signal)
    cluster = EmbeddedCluster(settings, workers) if settings.embedded \
        else contextlib.nullcontext()
    with cluster:
        if settings.embedded:
            console.print(f"embedded mode: 1 orchestrator and {workers} GPU worker process(es), "
                          f"logs in {settings.home}/logs")
        console.print(f"Onegin on http://{settings.web_host}:{settings.web_port}/ "
                      f"(auth {'required' if web.auth_required else 'off'})")
        try:
            socketio_for(app).run(app, host=settings.web_host, port=settings.web_port,
                                  allow_unsafe_werkzeug=True, use_reloader=False,
                                  log_output=False)
        finally:
            if settings.embedded:
                console.print("stopping: the GPU workers hand their trials back, then the "
                              "orchestrator its jobs (the next `onegin web` resumes them)")
