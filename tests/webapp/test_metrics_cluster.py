"""/metrics against a real Redis broker and control store: queue depth, heartbeat ages,
event-relay counters and record totals, read back with prometheus_client's own parser.

The queues get names of this test's own (a Celery app declaring them), so worker
processes of other test sessions on the same Redis database never touch them.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from kombu import Queue
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from gpu_worker.heartbeat import Heartbeat
from onegin.celery_app import RUN_JOB, TRAIN_TRIAL, create_celery
from onegin.control.redis import RedisControlStore
from onegin.events import EVENT_TYPES
from onegin.records.migrate import upgrade
from tests.fixtures.services import free_port
from tests.webapp.conftest import Web, WebFactory
from webapp.metrics import QUEUE_DEPTH_TIMEOUT

Scrape = dict[str, list[Sample]]


def scrape(web: Web) -> Scrape:
    response = web.client.get("/metrics")
    assert response.status_code == 200
    families = text_string_to_metric_families(response.get_data(as_text=True))
    return {family.name: family.samples for family in families}


def value(samples: list[Sample], **labels: str) -> float:
    found = [s.value for s in samples if all(s.labels.get(k) == v for k, v in labels.items())]
    assert len(found) == 1, (labels, samples)
    return found[0]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A database of this test's own, so the totals are exact."""
    url = f"sqlite:///{tmp_path}/metrics.db"
    upgrade(url)
    return url


@pytest.fixture
def queues(redis_url: str) -> Iterator[tuple[str, str]]:
    uid = uuid.uuid4().hex[:8]
    names = (f"orchestrator-{uid}", f"gpu-{uid}")
    yield names
    client = redis.Redis.from_url(redis_url)
    client.delete(*names, *(f"_kombu.binding.{name}" for name in names))
    client.close()


def test_scrape_shows_waiting_tasks_and_heartbeat_ages(
        web_factory: WebFactory, sqlite_url: str, redis_url: str,
        queues: tuple[str, str]) -> None:
    web = web_factory(database_url=sqlite_url, broker_url=redis_url, events_url=redis_url,
                      heartbeat_interval=0.2, heartbeat_timeout=10.0)
    orchestrator_queue, gpu_queue = queues
    celery = create_celery(web.state.settings)
    celery.conf.task_queues = (Queue(orchestrator_queue), Queue(gpu_queue))
    web.state._celery = celery
    for number in range(3):
        celery.send_task(TRAIN_TRIAL, kwargs={"job_id": "nobody", "number": number, "spec": {}},
                         queue=gpu_queue)
    celery.send_task(RUN_JOB, args=["nobody"], queue=orchestrator_queue)

    records, control = web.records, web.services.control
    job = records.create_job({"dataset": "digits", "trials": 3})
    records.update_job(job.id, status="running")
    for number in range(3):
        records.upsert_trial(job.id, number, status="running")
    live, dead = "host-a:101:0a0a0a0a", "host-b:202:0b0b0b0b"
    assert control.claim(job.id, 0, live, ttl=10.0).value == "acquired"
    # trial 1's worker last beat 100 s ago (by the clock it stamps with); 2 never claimed
    RedisControlStore(redis_url, clock=lambda: time.time() - 100).claim(
        job.id, 1, dead, ttl=10.0)
    try:
        with Heartbeat(control, job.id, 0, live, interval=0.2):
            metrics = scrape(web)
    finally:
        control.clear_job(job.id)

    depth = metrics["onegin_queue_depth"]
    assert value(depth, queue=gpu_queue) == 3 and value(depth, queue=orchestrator_queue) == 1
    ages = metrics["onegin_trial_heartbeat_age_seconds"]
    assert len(ages) == 2, "one series per running trial with a heartbeat"
    assert 0 <= value(ages, job_id=job.id, trial="0", worker="host-a:101") < 5
    assert 99 <= value(ages, job_id=job.id, trial="1", worker="host-b:202") < 110
    workers = metrics["onegin_worker_heartbeat_age_seconds"]
    assert value(workers, worker="host-a:101") < 5 and value(workers, worker="host-b:202") >= 99
    assert value(metrics["onegin_trials_heartbeat_stale"]) == 2  # trial 1 late, 2 unclaimed
    assert value(metrics["onegin_trials"], status="running") == 3
    assert value(metrics["onegin_jobs"], status="running") == 1
    relayed = metrics["onegin_events_relayed"]
    assert {s.labels["type"] for s in relayed if s.name.endswith("_total")} == EVENT_TYPES


def test_a_broker_that_is_down_leaves_only_the_queue_depth_out(
        web_factory: WebFactory, sqlite_url: str, caplog: pytest.LogCaptureFixture) -> None:
    web = web_factory(database_url=sqlite_url, broker_url=f"redis://127.0.0.1:{free_port()}/0")
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="webapp.metrics"):
        metrics = scrape(web)
    assert time.monotonic() - started < QUEUE_DEPTH_TIMEOUT + 2
    assert "onegin_queue_depth" not in metrics
    assert "queue depth left out" in caplog.text
    assert value(metrics["onegin_trials_heartbeat_stale"]) == 0  # the rest is there
    assert "onegin_jobs" in metrics and "onegin_http_requests" in metrics
