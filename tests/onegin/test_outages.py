"""Riding out outages: which errors count, how long a unit is retried, what the clients get.

Pure: a timeline stands in for the clock, and errors are built, not provoked (the
fault-injection tests in tests/faults/ cut real services).
"""

from __future__ import annotations

import math

import kombu.exceptions
import psycopg2
import pytest
import redis
import sqlalchemy as sa
from optuna.exceptions import StorageInternalError

from onegin.artifacts import ArtifactNotFound, ArtifactStoreUnavailable
from onegin.celery_app import create_celery
from onegin.outages import (
    ARTIFACTS,
    BROKER,
    DATABASE,
    REDIS,
    Backoff,
    OutagePastLimit,
    outage_kind,
    publish_retry_policy,
    redis_retry,
    retries_within,
    ride_out,
    service_names,
)
from onegin.records import RecordStoreUnavailable
from onegin.settings import load_settings
from orchestrator.policy import is_lost, watching_since
from tests.fixtures.timeline import Timeline


def _raised_from(outer: Exception, inner: Exception) -> Exception:
    try:
        try:
            raise inner
        except Exception as exc:
            raise outer from exc
    except Exception as caught:
        return caught


@pytest.mark.parametrize(("error", "kind"), [
    (redis.ConnectionError("refused"), REDIS),
    (redis.TimeoutError("slow"), REDIS),
    (redis.BusyLoadingError("LOADING"), REDIS),  # a restarted server reads its file
    (kombu.exceptions.OperationalError("broker down"), BROKER),
    (ArtifactStoreUnavailable("s3 down"), ARTIFACTS),
    (sa.exc.OperationalError("SELECT 1", {}, Exception("refused")), DATABASE),
    (psycopg2.OperationalError("server closed the connection unexpectedly"), DATABASE),
    (_raised_from(RecordStoreUnavailable("database error"),
                  sa.exc.OperationalError("SELECT 1", {}, Exception("refused"))), DATABASE),
    (_raised_from(StorageInternalError("optuna"),
                  sa.exc.InterfaceError("SELECT 1", {}, Exception("closed"))), DATABASE),
])
def test_an_unreachable_service_is_named(error: Exception, kind: str) -> None:
    assert outage_kind(error) == kind


@pytest.mark.parametrize("error", [
    ValueError("a bug"),
    ArtifactNotFound("jobs/a/x"),
    redis.ResponseError("WRONGTYPE"),
    sa.exc.IntegrityError("INSERT", {}, Exception("duplicate")),
    _raised_from(RecordStoreUnavailable("database error"),
                 sa.exc.ProgrammingError("SELECT nope", {}, Exception("syntax"))),
    ConnectionError("whose?"),  # a builtin names no service: not ridden out
])
def test_other_errors_are_not_outages(error: Exception) -> None:
    assert outage_kind(error) is None


def test_services_are_named_by_their_urls() -> None:
    names = service_names("postgresql+psycopg2://h/db", "redis://h/0", "s3://bucket/x")
    assert names == {DATABASE: "PostgreSQL", REDIS: "Redis", BROKER: "Redis", ARTIFACTS: "S3"}
    local = service_names("sqlite:///x.db", "filesystem://", "file:///a")
    assert (local[DATABASE], local[BROKER], local[ARTIFACTS]) == (
        "the database", "the task queue", "the artifact store")


class Flaky:
    """Fails with ``error`` ``failures`` times, then answers ``"done"``."""

    def __init__(self, failures: int, error: Exception) -> None:
        self.failures = failures
        self.error = error
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return "done"


def test_a_short_outage_is_ridden_out_with_growing_waits() -> None:
    time_line = Timeline()
    unit = Flaky(4, redis.ConnectionError("refused"))
    waits: list[float] = []
    result = ride_out(unit, limit=60, backoff=Backoff(0.1, 2.0, lambda: 1.0),
                      on_wait=lambda: waits.append(time_line.now),
                      clock=time_line.clock, sleep=time_line.sleep)
    assert result == "done" and unit.calls == 5
    assert time_line.delays == [0.1, 0.2, 0.4, 0.8]
    assert len(waits) == 4  # the caller could keep a claim alive before each wait


def test_past_the_limit_the_job_learns_which_service_and_how_long() -> None:
    time_line = Timeline()
    unit = Flaky(1000, psycopg2.OperationalError("connection refused"))
    with pytest.raises(OutagePastLimit) as raised:
        ride_out(unit, limit=120, names={DATABASE: "PostgreSQL"},
                 clock=time_line.clock, sleep=time_line.sleep)
    assert str(raised.value) == "PostgreSQL unreachable for 120 s"
    assert isinstance(raised.value.__cause__, psycopg2.OperationalError)
    assert time_line.now == pytest.approx(120)  # waited the limit, not a moment longer
    assert max(time_line.delays) <= 2.0  # and looked again at least every 2 s


def test_the_outage_counts_from_when_the_failed_work_began() -> None:
    time_line = Timeline()
    time_line.now = 100.0
    unit = Flaky(1000, redis.ConnectionError("refused"))
    with pytest.raises(redis.ConnectionError):  # without names: the error as it was
        ride_out(unit, limit=30, since=75.0, clock=time_line.clock, sleep=time_line.sleep)
    assert time_line.now == pytest.approx(105)  # 75 + 30: 25 s had passed already


def test_other_errors_are_raised_at_once() -> None:
    time_line = Timeline()
    unit = Flaky(1, ValueError("a bug"))
    with pytest.raises(ValueError):
        ride_out(unit, limit=60, clock=time_line.clock, sleep=time_line.sleep)
    assert unit.calls == 1 and time_line.delays == []


def test_redis_clients_retry_for_the_limit() -> None:
    retry = redis_retry(120)
    waits = [retry._backoff.compute(n) for n in range(1, retry.get_retries() + 1)]
    assert 120 <= sum(waits) < 121 and max(waits) == 1.0  # back within a second
    assert redis_retry(0).get_retries() == 0
    assert retries_within(math.inf, lambda n: 1.0) == -1  # redis-py: forever


def test_celery_publishes_a_second_apart_for_the_limit() -> None:
    policy = publish_retry_policy(120)
    assert policy == {"max_retries": 121, "interval_start": 0, "interval_step": 1.0,
                      "interval_max": 1.0}
    assert publish_retry_policy(0) == {"max_retries": 0}
    settings = load_settings(env={}, overrides={"broker_url": "redis://127.0.0.1:1/0",
                                                "outage_limit": 30})
    conf = create_celery(settings).conf
    assert conf.task_publish_retry_policy["max_retries"] == 31
    assert conf.broker_connection_max_retries is None
    assert conf.worker_cancel_long_running_tasks_on_connection_loss is False
    assert conf.broker_transport_options["interval_max"] == 1.0
    web = create_celery(settings, patience=2).conf  # a web request waits a moment only
    assert web.task_publish_retry_policy["max_retries"] == 3


def test_the_limit_is_a_setting() -> None:
    assert load_settings(env={}).outage_limit == 120
    assert load_settings(env={"ONEGIN_OUTAGE_LIMIT": "45"}).outage_limit == 45
    with pytest.raises(Exception, match="ONEGIN_OUTAGE_LIMIT"):
        load_settings(env={"ONEGIN_OUTAGE_LIMIT": "0"})


def test_a_runner_held_up_by_an_outage_gives_workers_a_fresh_timeout() -> None:
    interval, timeout = 0.5, 6.0
    # looked every half second: the watch goes on, a beat 7 s old is a lost trial
    since = watching_since(0.0, last_look=99.5, now=100.0, interval=interval, timeout=timeout)
    assert since == 0.0 and is_lost(max(93.0, since), 100.0, timeout)
    # held up for 10 s (Redis was down): the same beat is judged from now
    since = watching_since(0.0, last_look=90.0, now=100.0, interval=interval, timeout=timeout)
    assert since == 100.0 and not is_lost(max(93.0, since), 100.0, timeout)
    assert is_lost(max(93.0, since), 106.5, timeout)  # a whole timeout later it is lost
