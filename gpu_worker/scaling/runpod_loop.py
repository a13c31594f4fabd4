"""`onegin scale runpod`: check everything at start, then reconcile every interval.

Every setting and the pod template are checked before the first API call, so a
typo stops the command naming the setting instead of half-scaling. A step that
fails (broker or RunPod unreachable, rate limited after retries, or a bug, with
its traceback) is logged and the loop goes on; only a rejected API key ends it,
since waiting cannot fix it. SIGTERM or Ctrl-C ends the loop after the current
step; a second one ends it at once.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from gpu_worker.scaling.pod_template import load_template
from gpu_worker.scaling.policy import Bounds
from gpu_worker.scaling.runpod_api import RunPodAuthError, RunPodClient
from gpu_worker.scaling.runpod_scaler import RunPodScaler, StepResult, check_prefix
from onegin.celery_app import create_celery
from onegin.errors import ConfigError
from onegin.logs import configure_logging
from onegin.settings import Settings

log = logging.getLogger("gpu_worker.scaling.runpod")
Clock = Callable[[], float]
now: Clock = time.time  # the scaler's clock; tests swap it to age pods without sleeping


def state_path(settings: Settings) -> Path:
    """Per prefix, so two scalers with different prefixes never share idle clocks."""
    return Path(settings.home) / "scaling" / f"runpod-{settings.runpod_name_prefix}.json"


def build_scaler(settings: Settings, *, dry_run: bool = False,
                 environ: Mapping[str, str] | None = None) -> RunPodScaler:
    """The scaler, with every setting and the pod template checked; ConfigError names a bad one."""
    if not settings.runpod_api_key:
        raise ConfigError("runpod_api_key", "required by `onegin scale runpod` "
                                            "(set ONEGIN_RUNPOD_API_KEY)")
    scheme = urlsplit(settings.broker_url).scheme
    if scheme not in ("redis", "rediss"):
        raise ConfigError("broker_url", (
            f"the scaler and its pods share the cluster's broker; {scheme}:// lives on this "
            "machine only: use redis:// or rediss://"))
    check_prefix(settings.runpod_name_prefix)
    template = load_template(settings.runpod_pod_template, settings,
                             os.environ if environ is None else environ)
    bounds = Bounds(min_pods=settings.runpod_min_pods, max_pods=settings.runpod_max_pods,
                    idle_timeout=settings.runpod_idle_timeout,
                    stuck_timeout=settings.runpod_stuck_timeout)
    api = RunPodClient(settings.runpod_api_url, settings.runpod_api_key)
    return RunPodScaler(api=api, template=template, app=create_celery(settings), bounds=bounds,
                        prefix=settings.runpod_name_prefix, clock=lambda: now(),
                        state_path=state_path(settings), dry_run=dry_run)


def run_runpod(settings: Settings, *, once: bool = False, dry_run: bool = False) -> int:
    """The command: 0 when done (or stopped), 1 when a ``--once`` step failed."""
    configure_logging(settings)  # decisions as log lines: JSON in a container, text on a tty
    scaler = build_scaler(settings, dry_run=dry_run)
    b = scaler.bounds
    log.info("scaling RunPod pods %s-* on queue %r: min %d, max %d, idle timeout %gs, "
             "stuck timeout %gs%s", scaler.prefix, scaler.queue, b.min_pods, b.max_pods,
             b.idle_timeout, b.stuck_timeout, " (dry run)" if dry_run else "")
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        if stop.is_set():
            raise SystemExit(128 + signum)  # asked twice: stop now, mid-step
        log.info("stopping after this step (signal again to stop now)")
        stop.set()

    if not once:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, on_signal)
    failures = 0
    while True:
        try:
            result = scaler.step()
        except RunPodAuthError as exc:
            raise ConfigError("runpod_api_key", str(exc)) from None
        except Exception as exc:  # a daemon outlives a bad step; the traceback is logged
            log.exception("step failed unexpectedly")
            result = StepResult(errors=[repr(exc)])
        failures = 0 if result.ok else failures + 1
        if failures > 1:
            log.warning("%d steps in a row failed; retrying every %gs", failures,
                        settings.runpod_interval)
        if once:
            return 0 if result.ok else 1
        if stop.wait(settings.runpod_interval):
            log.info("stopping: signal received")
            return 0


