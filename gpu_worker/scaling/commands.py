"""`onegin scale runpod`: its flags, which stand for the ``runpod_*`` settings.

Registered in the ``onegin.commands`` entry-point group (pyproject.toml), so the
core's command line finds it without importing the autoscaler; the loop
(`runpod_loop`) loads only when the command runs.
"""

from __future__ import annotations

import argparse
from typing import Any

from onegin.cli import add_settings_flags, settings_from_args
from onegin.errors import ConfigError

FLAG_SETTINGS = {"min": "runpod_min_pods", "max": "runpod_max_pods",
                 "idle_timeout": "runpod_idle_timeout", "interval": "runpod_interval"}


def register(sub: Any) -> None:
    p = sub.add_parser("scale", help="scale GPU workers to the queue (RunPod pods)")
    providers = p.add_subparsers(dest="provider", required=True)
    runpod = providers.add_parser(
        "runpod", help="create and terminate RunPod pods from the gpu queue's depth")
    runpod.add_argument("--once", action="store_true", help="run one reconcile step and exit")
    runpod.add_argument("--dry-run", action="store_true",
                        help="log the decisions, create and terminate nothing")
    runpod.add_argument("--min", type=int, help="fewest pods (default: runpod_min_pods)")
    runpod.add_argument("--max", type=int, help="most pods (default: runpod_max_pods)")
    runpod.add_argument("--idle-timeout", type=float, metavar="S",
                        help="seconds idle before a pod goes (default: runpod_idle_timeout)")
    runpod.add_argument("--interval", type=float, metavar="S",
                        help="seconds between steps (default: runpod_interval)")
    add_settings_flags(runpod)
    runpod.set_defaults(run=_run_runpod)


def _run_runpod(args: argparse.Namespace) -> int:
    given = {dest: setting for dest, setting in FLAG_SETTINGS.items()
             if getattr(args, dest) is not None}
    args.set = [*(args.set or []), *(f"{s}={getattr(args, d)}" for d, s in given.items())]
    try:
        settings = settings_from_args(args)
    except ConfigError as exc:  # name the flag the user typed, not the setting behind it
        flag = {s: f"--{d.replace('_', '-')}" for d, s in given.items()}.get(exc.field)
        raise (ConfigError(flag, exc.reason) if flag else exc) from None
    from gpu_worker.scaling.runpod_loop import run_runpod

    return run_runpod(settings, once=args.once, dry_run=args.dry_run)
