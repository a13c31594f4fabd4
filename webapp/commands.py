"""`onegin web`: serve the dashboard and the REST API.

Registered in the ``onegin.commands`` entry-point group (pyproject.toml), so the
core's command line finds it without importing the web app; Flask loads only when
the command runs.
"""

from __future__ import annotations

import argparse
from typing import Any

from onegin.cli import add_settings_flags, settings_from_args
from onegin.errors import ConfigError


def register(sub: Any) -> None:
    p = sub.add_parser("web", help="serve the dashboard and the REST API")
    p.add_argument("--host", help="address to listen on (default: setting web_host, 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default: setting web_port, 8000)")
    p.add_argument("--workers", type=int, default=2,
                   help="embedded mode: local GPU-worker processes to start (default 2)")
    add_settings_flags(p)
    p.set_defaults(run=_run_web)


def _run_web(args: argparse.Namespace) -> int:
    flags = {"web_host": args.host, "web_port": args.port}  # flags beat --set and the rest
    args.set = [*(args.set or []), *(f"{k}={v}" for k, v in flags.items() if v is not None)]
    settings = settings_from_args(args)
    if args.workers < 0:
        raise ConfigError("--workers", f"must be 0 or more, got {args.workers}")
    from webapp.server import serve

    serve(settings, workers=args.workers)
    return 0
