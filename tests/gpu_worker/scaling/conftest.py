"""Shared pieces of the scaling tests: cluster-like settings on the test Redis, a stand-in."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from celery import Celery

from gpu_worker.scaling.activity import worker_activity
from onegin.celery_app import create_celery
from onegin.settings import Settings, load_settings
from tests.gpu_worker.scaling.runpod_standin import RunPodStandIn

T = TypeVar("T")
API_KEY = "standin-api-key"


@pytest.fixture
def standin() -> Iterator[RunPodStandIn]:
    with RunPodStandIn(API_KEY) as server:
        yield server


@pytest.fixture
def cluster(redis_url: str, tmp_path: Path) -> Iterator[Settings]:
    """Cluster settings on this session's Redis db, its queues empty; no database reachable."""
    settings = load_settings(env={}, overrides={
        "home": str(tmp_path / "home"), "broker_url": redis_url, "events_url": redis_url,
        "artifacts_url": "s3://onegin-test/scaling", "s3_endpoint_url": "http://127.0.0.1:9",
        "database_url": "postgresql+psycopg2://onegin:db-password@db.invalid/onegin"})
    app = create_celery(settings)
    app.control.purge()  # the Redis db lives for the session: start each test with no trials
    yield settings
    app.control.purge()


@pytest.fixture
def private_queue() -> str:
    return f"scaling-test-{uuid.uuid4().hex[:8]}"


def eventually(check: Callable[[], T | None], timeout: float = 30.0) -> T:
    """Poll ``check`` until it returns something truthy: for state owned by other processes."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            assert value, f"still {value!r} after {timeout}s"
            return value


def one_busy(app: Celery) -> dict[str, bool] | None:
    """The workers' activity once one of them is busy, else None."""
    activity = worker_activity(app, timeout=1.0)
    return activity if True in activity.values() else None
