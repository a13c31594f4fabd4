"""Liveness, readiness (every backend answers) and Prometheus metrics; no auth needed.

Readiness checks run in parallel with a deadline, so one hung backend makes
the probe fail fast instead of hanging it.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, TimeoutError, wait

from flask import Blueprint, Response, jsonify

from webapp.state import WebState, state

bp = Blueprint("health", __name__)
metrics_bp = Blueprint("metrics", __name__)
READY_TIMEOUT = 5.0


def _broker(web: WebState) -> None:
    with web.celery.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0,
                                      timeout=READY_TIMEOUT / 2)


def checks(web: WebState) -> dict[str, Callable[[], None]]:
    services = web.services
    return {
        "database": services.records.ping,
        "broker": lambda: _broker(web),
        "events": services.events.ping,
        "artifacts": services.artifacts.ping,
    }


def run_checks(named: dict[str, Callable[[], None]], timeout: float) -> dict[str, str]:
    """``{name: "ok" | "<error>"}``; a check still running at the deadline is an error."""
    pool = ThreadPoolExecutor(max_workers=len(named), thread_name_prefix="readyz")
    futures = {name: pool.submit(check) for name, check in named.items()}
    wait(futures.values(), timeout=timeout)
    pool.shutdown(wait=False, cancel_futures=True)
    results = {}
    for name, future in futures.items():
        if not future.done():
            results[name] = f"no answer within {timeout:g}s"
            continue
        try:
            future.result(timeout=0)
            results[name] = "ok"
        except TimeoutError:
            results[name] = f"no answer within {timeout:g}s"
        except Exception as exc:
            results[name] = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return results


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    results = run_checks(checks(state()), READY_TIMEOUT)
    if all(value == "ok" for value in results.values()):
        return jsonify(results), 200
    return jsonify({"error": "not ready", **results}), 503


@metrics_bp.get("/metrics")
def metrics() -> Response:
    from prometheus_client import CONTENT_TYPE_LATEST

    return Response(state().metrics.render(), content_type=CONTENT_TYPE_LATEST)
