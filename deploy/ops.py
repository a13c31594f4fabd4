"""Container operations the entrypoint delegates to: probes, draining, bucket, dashboard.

Run as ``python ops.py COMMAND`` (the entrypoint does it; images keep this file
beside ``entrypoint.sh``). Each command reads the same ``ONEGIN_*`` settings as
the service it serves, so a probe checks exactly what the service uses.

- ``health ROLE``: exit 0 when the role answers. Web, Flower and optuna-dashboard
  over HTTP on loopback; Celery workers by a remote-control ping to their own node
  name, so a worker whose broker connection is dead counts as unhealthy
  (``PROBE_TIMEOUT`` seconds to answer, default 10).
- ``drain``: stop this host's GPU worker taking trials and wait until its running
  trial is finished: Kubernetes' preStop hook, so that scaling down never throws
  away a half-trained trial (the grace period bounds the wait).
- ``ensure-bucket``: create the artifacts bucket if it does not exist (MinIO).
- ``optuna_dashboard_app()``: optuna-dashboard's WSGI app on the record database,
  for gunicorn, so the database URL never appears on a command line.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

#: Celery node names: ``onegin worker ROLE --name NAME`` runs as ``NAME@<hostname>``.
NODE_NAMES = {"orchestrator": "orchestrator", "gpu-worker": "gpu"}
HTTP_TIMEOUT = 10.0
DRAIN_POLL = 5.0


def ping_timeout() -> float:
    """Seconds a worker has to answer a probe (PROBE_TIMEOUT, default 10)."""
    return float(os.environ.get("PROBE_TIMEOUT") or 10.0)


def node_name(role: str, host: str | None = None) -> str:
    """The Celery node name of ``role`` in this container (its hostname)."""
    return f"{NODE_NAMES[role]}@{host or socket.gethostname()}"


def _port(var: str, default: int) -> int:
    return int(os.environ.get(var) or default)


def http_ok(url: str, timeout: float = HTTP_TIMEOUT) -> bool:
    """True when ``url`` answers 2xx."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return 200 <= int(response.status) < 300
    except (urllib.error.URLError, OSError):
        return False


def _celery() -> Any:
    from onegin.celery_app import create_celery
    from onegin.settings import load_settings

    return create_celery(load_settings())


def worker_alive(role: str) -> bool:
    """True when this container's worker of ``role`` answers a ping through the broker."""
    name = node_name(role)
    app = _celery()
    try:
        replies = app.control.ping(destination=[name], timeout=ping_timeout())
    except Exception as exc:  # broker down: unhealthy, say why
        print(f"ping {name}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return False
    finally:
        app.close()
    return any(name in reply for reply in replies)


def _http_check(path: str, port_var: str, default_port: int) -> Callable[[], bool]:
    return lambda: http_ok(f"http://127.0.0.1:{_port(port_var, default_port)}{path}")


HEALTH: dict[str, Callable[[], bool]] = {
    # readiness: the web app answers and every backend it needs answers it
    "web": _http_check("/api/v1/readyz", "ONEGIN_WEB_PORT", 8000),
    "flower": _http_check("/healthcheck", "FLOWER_PORT", 5555),
    "optuna-dashboard": _http_check("/api/meta", "OPTUNA_DASHBOARD_PORT", 8080),
    "orchestrator": lambda: worker_alive("orchestrator"),
    "gpu-worker": lambda: worker_alive("gpu-worker"),
}


def drain(timeout: float | None = None, poll: float = DRAIN_POLL) -> int:
    """Stop consuming the gpu queue, then wait until no trial runs here; 0 when idle."""
    from onegin.celery_app import GPU_QUEUE

    name = node_name("gpu-worker")
    app = _celery()
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        replies = app.control.cancel_consumer(GPU_QUEUE, destination=[name], reply=True,
                                              timeout=ping_timeout())
        if not any(name in reply for reply in replies or []):
            print(f"drain: {name} did not answer; nothing to wait for", file=sys.stderr)
            return 0
        while True:
            active = app.control.inspect(destination=[name], timeout=ping_timeout()).active()
            if active is None or not active.get(name):
                print(f"drain: {name} is idle", file=sys.stderr)
                return 0
            if deadline is not None and time.monotonic() >= deadline:
                print(f"drain: {name} still busy after {timeout:g}s", file=sys.stderr)
                return 1
            time.sleep(poll)  # polling another process's state, not test synchronisation
    finally:
        app.close()


def ensure_bucket() -> int:
    """Create the bucket of an ``s3://`` artifacts URL unless it exists; 0 on success."""
    import boto3
    from botocore.exceptions import ClientError

    from onegin.settings import load_settings

    settings = load_settings()
    parts = urlsplit(settings.artifacts_url)
    if parts.scheme != "s3":
        print(f"artifacts are not on S3 ({parts.scheme}://): no bucket to create",
              file=sys.stderr)
        return 0
    bucket = parts.netloc
    client = boto3.client("s3", endpoint_url=settings.s3_endpoint_url,
                          region_name=settings.s3_region)
    try:
        client.head_bucket(Bucket=bucket)
        print(f"bucket {bucket} exists", file=sys.stderr)
        return 0
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code in ("403", "AccessDenied"):  # keys scoped to a prefix: the bucket is theirs
            print(f"bucket {bucket}: no permission to inspect it; assuming it exists",
                  file=sys.stderr)
            return 0
        if code not in ("404", "NoSuchBucket"):
            raise
    options: dict[str, Any] = {"Bucket": bucket}
    if settings.s3_region != "us-east-1":
        options["CreateBucketConfiguration"] = {"LocationConstraint": settings.s3_region}
    try:
        client.create_bucket(**options)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("BucketAlreadyOwnedByYou",
                                                             "BucketAlreadyExists"):
            raise
    print(f"bucket {bucket} created", file=sys.stderr)
    return 0


def optuna_dashboard_app() -> Any:
    """optuna-dashboard on the Optuna studies of the record database (gunicorn factory)."""
    import optuna
    from optuna_dashboard import wsgi

    from onegin.settings import load_settings

    storage = optuna.storages.RDBStorage(load_settings().database_url,
                                         engine_kwargs={"pool_pre_ping": True})
    return wsgi(storage)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ops.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    health = sub.add_parser("health", help="exit 0 when the role answers")
    health.add_argument("role", choices=sorted(HEALTH))
    drain_p = sub.add_parser("drain", help="finish the running trial, take no new one")
    drain_p.add_argument("--timeout", type=float, default=None, help="seconds (default: none)")
    sub.add_parser("ensure-bucket", help="create the S3 artifacts bucket if missing")
    args = parser.parse_args(argv)
    if args.command == "health":
        ok = HEALTH[args.role]()
        if not ok:
            print(f"{args.role}: not healthy", file=sys.stderr)
        return 0 if ok else 1
    if args.command == "drain":
        return drain(args.timeout)
    return ensure_bucket()


if __name__ == "__main__":
    sys.exit(main())
