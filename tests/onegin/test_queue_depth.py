"""Queue depth, the scaler's signal: the filesystem broker, Redis (priorities too), no broker."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from onegin.celery_app import GPU_QUEUE, ORCHESTRATOR_QUEUE, TRAIN_TRIAL, create_celery
from onegin.queue_depth import BrokerUnavailable, queue_depth
from onegin.settings import load_settings
from tests.fixtures.services import free_port


def test_filesystem_broker_counts_waiting_messages(tmp_path: Path) -> None:
    app = create_celery(load_settings(env={}, overrides={"home": str(tmp_path)}))
    assert queue_depth(app) == 0
    for n in range(3):
        app.send_task(TRAIN_TRIAL, args=["job", n, {}], queue=GPU_QUEUE)
    app.send_task("onegin.run_job", args=["job"], queue=ORCHESTRATOR_QUEUE)
    assert queue_depth(app) == 3
    assert queue_depth(app, ORCHESTRATOR_QUEUE) == 1


def test_redis_counts_every_priority(redis_url: str, tmp_path: Path) -> None:
    app = create_celery(load_settings(env={}, overrides={"home": str(tmp_path),
                                                         "broker_url": redis_url}))
    queue = "depth-test"
    assert queue_depth(app, queue) == 0  # never declared: nothing waits
    app.send_task(TRAIN_TRIAL, args=["job", 0, {}], queue=queue)
    app.send_task(TRAIN_TRIAL, args=["job", 1, {}], queue=queue, priority=5)
    app.send_task(TRAIN_TRIAL, args=["job", 2, {}], queue=queue, priority=9)
    client = redis.Redis.from_url(redis_url)
    assert len(client.keys(f"{queue}*")) == 3  # kombu keeps one list per priority step
    assert queue_depth(app, queue) == 3
    client.delete(*client.keys(f"{queue}*"))
    assert queue_depth(app, queue) == 0


def test_an_unreachable_broker_is_reported(tmp_path: Path) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    app = create_celery(load_settings(env={}, overrides={"home": str(tmp_path), "broker_url": url}))
    with pytest.raises(BrokerUnavailable, match="cannot count queue 'gpu'") as caught:
        queue_depth(app)
    assert isinstance(caught.value, ConnectionError)
