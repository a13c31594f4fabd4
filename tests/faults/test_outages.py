"""Outages of Redis, PostgreSQL and S3 mid-job: ridden out, no trial lost, and past the
limit a clean failure that names the service.

Each fault starts once a trial trains (an event says so). How long a service stays down
is the fault itself, so that wait is timed; during it the test checks that the job rides
the outage out instead of failing. Everything else waits on events with a deadline.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from onegin.events import make_event
from tests.faults.conftest import FaultCluster
from tests.faults.invariant import Checked, assert_job_invariant
from tests.faults.web import following, get_json, receive_until, serving_web
from tests.integration.harness import (
    EventWatcher,
    Process,
    of_type,
    tiny_config,
    training_started,
)

JOB = {"trials": 4, "concurrency": 2, "epochs": 3, "pruner": "none"}
REDIS_DOWN = 10.0  # longer than the heartbeat timeout (6 s): heartbeats stop meanwhile
POSTGRES_DOWN = 5.0
S3_DOWN = 30.0
FINISH = 240.0  # seconds for a job to end once its services are back


def hold_outage(seconds: float, still_fine: Callable[[], None]) -> None:
    """Keep a service down for ``seconds`` (the fault's length), checking all along that
    the job rides it out."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        still_fine()
        time.sleep(0.25)  # the outage's own length, not a wait for something to happen


def assert_nothing_lost(checked: Checked) -> None:
    """Every trial in flight during the outage finished as itself: none lost, none re-run."""
    lost = [(t.number, t.error) for t in checked.trials if t.status == "lost"]
    assert not lost, f"trials lost to the outage: {lost}"
    assert not [t.number for t in checked.trials if t.retry_of is not None]


def test_redis_killed_and_restarted_mid_job(cluster: FaultCluster,
                                            orchestrator: Process) -> None:
    records = cluster.services.records
    with serving_web(cluster.settings) as web:
        job_id, watcher = cluster.submit(tiny_config(**JOB))
        with following(web, job_id) as browser:
            watcher.wait_for(training_started, timeout=FINISH)
            cluster.redis.kill()  # SIGKILL: the append-only file is all that survives

            def riding_it_out() -> None:  # F1: the job failed within 0.1 s
                assert records.get_job(job_id).status == "running"
                assert orchestrator.proc.poll() is None

            hold_outage(REDIS_DOWN, riding_it_out)
            cluster.redis.start()
            watcher.wait_for(of_type("job_finished"), timeout=FINISH)
            # the relay reconnects by itself: an event published now reaches the browser
            cluster.services.events.publish(make_event("job_status", job_id,
                                                       status="completed"))
            receive_until(browser, lambda m: m[0] == "job_status"
                          and m[1]["data"]["status"] == "completed", timeout=90)
        status, job = get_json(f"{web}/api/v1/jobs/{job_id}")
        assert (status, job["status"]) == (200, "completed")
    assert_nothing_lost(assert_job_invariant(cluster.services, job_id, budget=JOB["trials"]))


def test_postgresql_restarted_mid_job(cluster: FaultCluster, orchestrator: Process) -> None:
    with serving_web(cluster.settings) as web:
        job_id, watcher = cluster.submit(tiny_config(**JOB))
        watcher.wait_for(training_started, timeout=FINISH)
        cluster.postgres.stop("fast")  # every session is closed under the orchestrator
        status, ready = get_json(f"{web}/api/v1/readyz")
        assert status == 503 and ready["database"] != "ok"  # not ready meanwhile
        hold_outage(POSTGRES_DOWN, lambda: None if orchestrator.proc.poll() is None
                    else _fail("the orchestrator died"))
        cluster.postgres.start()
        watcher.wait_for(of_type("job_finished"), timeout=FINISH)
        # the web app's pooled connections were closed: it reconnects by itself
        assert get_json(f"{web}/api/v1/readyz")[0] == 200
        status, job = get_json(f"{web}/api/v1/jobs/{job_id}")
        assert (status, job["status"]) == (200, "completed")
    assert_nothing_lost(assert_job_invariant(cluster.services, job_id, budget=JOB["trials"]))


def test_s3_endpoint_down_for_30_seconds_mid_upload(cluster: FaultCluster,
                                                   orchestrator: Process) -> None:
    job_id, watcher = cluster.submit(tiny_config(**JOB))
    watcher.wait_for(training_started, timeout=FINISH)
    cluster.s3_gate.cut()  # refused and reset, as an endpoint that is down
    cut_at, cut_ts = time.monotonic(), time.time()
    uploading = watcher.wait_for(
        lambda e: e["type"] == "trial_progress" and e["data"]["phase"] == "uploading"
        and e["ts"] >= cut_ts, timeout=S3_DOWN)
    stuck = uploading["trial"]
    # its upload cannot go through while the endpoint is down
    with_result = [e for e in _events_until(watcher, cut_at + S3_DOWN)
                   if e["type"] == "trial_finished" and e["trial"] == stuck]
    assert not with_result, "a trial finished its upload while S3 was down"
    cluster.s3_gate.restore()
    finished = watcher.wait_for(lambda e: e["type"] == "trial_finished" and e["trial"] == stuck,
                                timeout=FINISH)
    assert finished["data"]["status"] == "completed"  # the upload was retried, not lost
    watcher.wait_for(of_type("job_finished"), timeout=FINISH)
    assert_nothing_lost(assert_job_invariant(cluster.services, job_id, budget=JOB["trials"]))


def test_an_outage_past_the_limit_fails_the_job_naming_the_service(
        cluster: FaultCluster, orchestrator: Process, tmp_path: Path) -> None:
    orchestrator.kill()  # this test's orchestrator has a short limit
    limit = 4.0
    impatient = cluster.start_orchestrator(
        tmp_path / "impatient.log", dataclasses.replace(cluster.settings, outage_limit=limit))
    try:
        job_id, watcher = cluster.submit(tiny_config(**(JOB | {"epochs": 10})))
        watcher.wait_for(training_started, timeout=FINISH)
        cluster.postgres.stop("fast")
        hold_outage(3 * limit, lambda: None)
        cluster.postgres.start()
        # the ending waits for the database: a job is never left running with nobody on it
        finished = watcher.wait_for(of_type("job_finished"), timeout=FINISH)
    finally:
        impatient.kill()
    assert finished["data"]["status"] == "failed"
    assert_job_invariant(cluster.services, job_id,
                         failed_naming=f"PostgreSQL unreachable for {limit:g} s")


def _events_until(watcher: EventWatcher, deadline: float) -> list[dict[str, Any]]:
    """Every event of the watched job until ``deadline`` (monotonic seconds)."""
    seen: list[dict[str, Any]] = []
    while (left := deadline - time.monotonic()) > 0:
        events, watcher.cursor = watcher.bus.read(watcher.job_id, watcher.cursor,
                                                  timeout=min(left, 1.0))
        watcher.seen.extend(events)
        seen.extend(events)
    return seen


def _fail(message: str) -> None:
    raise AssertionError(message)
