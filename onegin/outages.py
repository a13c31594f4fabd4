"""Riding out an outage of Redis, the database or the artifact store, up to a limit.

Each client's own retry setting comes first: redis-py's ``Retry`` (`redis_retry`),
Celery's publish retry policy (`onegin.celery_app`), SQLAlchemy's ``pool_pre_ping``.
What no client setting covers -- a unit of work that spans services, such as the
orchestrator's turn or an artifact transfer -- goes through `ride_out`: the unit is
tried again with backoff while the error says a service is unreachable, until the
outage has lasted ``limit`` seconds. Nothing here imports a client library: an
error can only come from a library that is already imported (``sys.modules``).
"""

from __future__ import annotations

import logging
import math
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from onegin.errors import OneginError

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_OUTAGE_LIMIT = 120.0  # seconds; the outage_limit setting's default
DATABASE, REDIS, BROKER, ARTIFACTS = "database", "redis", "broker", "artifacts"
REDIS_BACKOFF_BASE = 0.1  # redis-py waits base * 2**failures, capped: 0.2, 0.4, 0.8, 1, 1, ...
REDIS_BACKOFF_CAP = 1.0  # so a client is back within a second of the server
PUBLISH_INTERVAL = 1.0  # seconds between Celery's attempts to publish a task


class OutagePastLimit(OneginError):
    """A service stayed unreachable for longer than the outage limit."""

    def __init__(self, service: str, seconds: float) -> None:
        super().__init__(f"{service} unreachable for {seconds:g} s")
        self.service = service
        self.seconds = seconds


@dataclass(frozen=True)
class Backoff:
    """Exponential waits with equal jitter: retry ``n`` waits a random time in
    ``[d/2, d]``, ``d = min(cap, base * 2**n)``, so clients that failed together spread out."""

    base: float = 0.1
    cap: float = 2.0
    jitter: Callable[[], float] = random.random

    def __post_init__(self) -> None:
        if not 0 <= self.base <= self.cap:
            raise ValueError("need 0 <= base <= cap")

    def delay(self, retry: int) -> float:
        ceiling = min(self.cap, self.base * 2.0 ** retry)
        return ceiling / 2 + ceiling / 2 * self.jitter()


def outage_kind(exc: BaseException) -> str | None:
    """Which service ``exc`` (or an error it was raised from) says is unreachable:
    `DATABASE`, `REDIS`, `BROKER` or `ARTIFACTS`; None for any other error."""
    for link in _causes(exc):
        kind = _kind_of(link)
        if kind is not None:
            return kind
    return None


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and the errors it was raised from (``raise … from …``), innermost last."""
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        yield link
        link = link.__cause__


def _kind_of(exc: BaseException) -> str | None:
    artifact_errors = sys.modules.get("onegin.artifacts.errors")
    if artifact_errors is not None and isinstance(exc, artifact_errors.ArtifactError):
        return ARTIFACTS if exc.retryable else None
    redis_errors = sys.modules.get("redis.exceptions")
    if redis_errors is not None and isinstance(
            exc, redis_errors.ConnectionError | redis_errors.TimeoutError):
        return REDIS  # BusyLoadingError (a restarted server reading its file) included
    kombu_errors = sys.modules.get("kombu.exceptions")
    if kombu_errors is not None and isinstance(exc, kombu_errors.OperationalError):
        return BROKER
    sqlalchemy_errors = sys.modules.get("sqlalchemy.exc")
    if sqlalchemy_errors is not None and (
            getattr(exc, "connection_invalidated", False) or isinstance(
                exc, sqlalchemy_errors.OperationalError | sqlalchemy_errors.InterfaceError
                | sqlalchemy_errors.DisconnectionError | sqlalchemy_errors.TimeoutError)):
        return DATABASE  # refused, reset, "the database system is shutting down", locked
    psycopg2 = sys.modules.get("psycopg2")
    if psycopg2 is not None and isinstance(exc, psycopg2.OperationalError
                                           | psycopg2.InterfaceError):
        return DATABASE
    return None


def service_names(database_url: str, broker_url: str, artifacts_url: str) -> dict[str, str]:
    """What to call each kind of service in a job's error, from the settings' URLs."""
    return {
        DATABASE: "PostgreSQL" if database_url.startswith("postgresql") else "the database",
        REDIS: "Redis",
        BROKER: "Redis" if broker_url.startswith(("redis", "rediss")) else "the task queue",
        ARTIFACTS: "S3" if artifacts_url.startswith("s3:") else "the artifact store",
    }


def ride_out(unit: Callable[[], T], *, limit: float, since: float | None = None,
             names: dict[str, str] | None = None,
             classify: Callable[[BaseException], str | None] = outage_kind,
             backoff: Backoff | None = None, on_wait: Callable[[], Any] | None = None,
             clock: Callable[[], float] = time.monotonic,
             sleep: Callable[[float], None] = time.sleep) -> T:
    """``unit()``, tried again while it fails for an outage, until the outage is ``limit``
    seconds old.

    The outage counts from ``since`` (when the work that first failed began), else
    from the first failure here. Past the limit the last error is raised, or with
    ``names`` an `OutagePastLimit` naming the service. Other errors are raised at
    once. ``on_wait`` runs before each wait (keep a claim alive, notice a shutdown).
    """
    backoff = backoff or Backoff()
    retry, kind = 0, ""
    while True:
        try:
            result = unit()
        except Exception as exc:
            found = classify(exc)
            if found is None:
                raise
            kind = found
            now = clock()
            since = now if since is None else since
            left = since + limit - now
            if left <= 0:
                if names is None:
                    raise
                raise OutagePastLimit(names.get(kind, kind), limit) from exc
            wait = min(backoff.delay(retry), left)
            (log.warning if retry == 0 else log.debug)(
                "%s unreachable (%s); trying again for up to %.0f s more",
                (names or {}).get(kind, kind), exc, left)
            if on_wait is not None:
                on_wait()
            sleep(wait)
            retry += 1
            continue
        if retry:
            log.info("%s reachable again after %d retries", (names or {}).get(kind, kind), retry)
        return result


def redis_retry(patience: float) -> Any:
    """redis-py's own ``Retry`` for a client that waits up to ``patience`` seconds for its
    server: reconnects on connection errors and timeouts, backing off up to a second."""
    from redis.backoff import ExponentialBackoff
    from redis.retry import Retry

    backoff = ExponentialBackoff(cap=REDIS_BACKOFF_CAP, base=REDIS_BACKOFF_BASE)
    return Retry(backoff, retries_within(patience, backoff.compute))


def retries_within(patience: float, delay: Callable[[int], float]) -> int:
    """How many retries, waiting ``delay(1)``, ``delay(2)``, … seconds before each, make
    their waits add up to ``patience`` (0 for no patience)."""
    if patience <= 0:
        return 0
    if not math.isfinite(patience):
        return -1  # redis-py: retry forever
    total, retries = 0.0, 0
    while total < patience:
        retries += 1
        total += delay(retries)
    return retries


def publish_retry_policy(patience: float) -> dict[str, Any]:
    """Celery's ``task_publish_retry_policy``: tries a second apart for ``patience`` seconds
    (kombu retries the publish, reconnecting to the broker in between)."""
    if patience <= 0:
        return {"max_retries": 0}
    return {"max_retries": math.ceil(patience / PUBLISH_INTERVAL) + 1, "interval_start": 0,
            "interval_step": PUBLISH_INTERVAL, "interval_max": PUBLISH_INTERVAL}
