"""Contract tests for the event schema and every EventBus backend (local files, Redis)."""

from __future__ import annotations

import json
import math
import multiprocessing as mp
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from onegin.errors import ConfigError
from onegin.events import (
    EVENT_TYPES,
    EventBus,
    job_progress_data,
    make_event,
    open_event_bus,
    parse_event,
    progress_event,
)
from onegin.progress import Progress

REQUIRED: dict[str, dict[str, Any]] = {
    "job_status": {"status": "running"},
    "trial_started": {"params": {"lr": 0.01}, "worker": "gpu-0"},
    "trial_progress": {"phase": "training", "epoch": 1, "epochs": 3, "epoch_fraction": 0.5,
                       "fraction": 1 / 6, "metrics": {"loss": 0.4}},
    "trial_finished": {"status": "completed", "result": {}},
    "job_progress": {"counts": {"running": 1}, "budget": 10, "best_accuracy": None,
                     "best_total_score": None, "avg_trial_seconds": None,
                     "eta_seconds": None},
    "job_finished": {"status": "completed", "best_trial": 3, "best_score": 0.9,
                     "best_accuracy": 0.95},
}
TRIAL_TYPES = {"trial_started", "trial_progress", "trial_finished"}


def _event(type_: str, job_id: str = "job-1", **overrides: Any) -> dict[str, Any]:
    trial = 0 if type_ in TRIAL_TYPES else None
    return make_event(type_, job_id, trial=trial, **{**REQUIRED[type_], **overrides})


# --- schema (pure) -------------------------------------------------------------------------


def test_required_keys_cover_every_type() -> None:
    assert set(REQUIRED) == EVENT_TYPES


@pytest.mark.parametrize("type_", sorted(REQUIRED))
def test_make_event_builds_a_versioned_json_dict(type_: str) -> None:
    event = _event(type_)
    assert event["v"] == 1 and event["type"] == type_ and event["job_id"] == "job-1"
    assert event["data"] == REQUIRED[type_]
    assert parse_event(json.dumps(event)) == event
    assert parse_event(json.dumps(event).encode()) == event


@pytest.mark.parametrize(("type_", "key"),
                         [(t, k) for t, data in sorted(REQUIRED.items()) for k in data])
def test_make_event_names_a_missing_key(type_: str, key: str) -> None:
    data = {k: v for k, v in REQUIRED[type_].items() if k != key}
    trial = 0 if type_ in TRIAL_TYPES else None
    with pytest.raises(ValueError, match=repr(key)):
        make_event(type_, "job-1", trial=trial, **data)


def test_make_event_names_an_unknown_key_and_type() -> None:
    with pytest.raises(ValueError, match="'colour'"):
        _event("job_status", colour="red")
    with pytest.raises(ValueError, match="'trial_exploded'"):
        make_event("trial_exploded", "job-1")


def test_optional_error_keys_are_accepted() -> None:
    assert _event("job_status", status="failed", error="boom")["data"]["error"] == "boom"
    assert _event("trial_finished", status="failed", error="nan")["data"]["error"] == "nan"


def test_trial_numbers_belong_to_trial_events_only() -> None:
    with pytest.raises(ValueError, match="trial number"):
        make_event("trial_started", "job-1", **REQUIRED["trial_started"])
    with pytest.raises(ValueError, match="job event"):
        make_event("job_status", "job-1", trial=2, status="running")


def test_job_id_must_be_safe_as_a_file_name() -> None:
    with pytest.raises(ValueError, match="job_id"):
        _event("job_status", job_id="../etc")


def test_parse_event_rejects_an_unknown_version_naming_it() -> None:
    event = {**_event("job_status"), "v": 2}
    with pytest.raises(ValueError, match="version 2"):
        parse_event(event)
    with pytest.raises(ValueError, match="version None"):
        parse_event({"type": "job_status"})


def test_parse_event_rejects_an_unknown_type_and_bad_json() -> None:
    with pytest.raises(ValueError, match="'mystery'"):
        parse_event({**_event("job_status"), "type": "mystery"})
    with pytest.raises(ValueError, match="JSON"):
        parse_event("{not json")
    with pytest.raises(ValueError, match="object"):
        parse_event("[1, 2]")


def test_parse_event_tolerates_extra_data_keys() -> None:
    event = _event("job_status")
    event["data"]["added_later"] = 1
    assert parse_event(event)["data"]["added_later"] == 1


def test_non_finite_numbers_become_null() -> None:
    event = _event("trial_progress", metrics={"loss": math.nan, "val_loss": math.inf})
    assert event["data"]["metrics"] == {"loss": None, "val_loss": None}
    json.dumps(event, allow_nan=False)


def test_progress_event_carries_the_progress_fields() -> None:
    progress = Progress("training", epoch=2, epochs=4, epoch_fraction=1.0,
                        metrics={"val_accuracy": 0.8, "val_loss": 0.5})
    event = progress_event("job-1", 7, progress, ts=12.5)
    assert event["type"] == "trial_progress" and event["trial"] == 7 and event["ts"] == 12.5
    assert event["data"] == {"phase": "training", "epoch": 2, "epochs": 4,
                             "epoch_fraction": 1.0, "fraction": 0.5,
                             "metrics": {"val_accuracy": 0.8, "val_loss": 0.5}}


def test_job_progress_has_no_eta_before_a_trial_finished() -> None:
    data = job_progress_data({"running": 2}, 10, [], 2, None, None)
    assert data["eta_seconds"] is None and data["avg_trial_seconds"] is None
    make_event("job_progress", "job-1", **data)  # valid as an event's data


def test_eta_spreads_remaining_trials_over_the_workers() -> None:
    # 10 trials: 4 done, 2 running (half left each by default), 4 not started -> 5 trials
    # of work; 2 workers; 60 s average -> 5 / 2 * 60.
    counts = {"completed": 3, "pruned": 1, "running": 2}
    data = job_progress_data(counts, 10, [50.0, 70.0], 2, 0.9, 0.85)
    assert data["avg_trial_seconds"] == 60.0
    assert data["eta_seconds"] == pytest.approx(150.0)
    assert data["best_accuracy"] == 0.9 and data["best_total_score"] == 0.85
    measured = job_progress_data(counts, 10, [60.0], 2, None, None,
                                 remaining_running_fraction=0.4)
    assert measured["eta_seconds"] == pytest.approx(4.4 / 2 * 60)


def test_eta_is_never_shorter_than_the_last_trial_left() -> None:
    one_left = job_progress_data({"completed": 9, "running": 1}, 10, [60.0], 8, None, None,
                                 remaining_running_fraction=0.5)
    assert one_left["eta_seconds"] == pytest.approx(30.0)
    done = job_progress_data({"completed": 10}, 10, [60.0], 4, None, None)
    assert done["eta_seconds"] == 0.0


# --- bus contract: the same tests on every backend ---------------------------------------


@pytest.fixture(params=["local", "redis"])
def bus_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "local":
        return f"local://{tmp_path / 'events'}"
    url: str = request.getfixturevalue("redis_url")
    return url


@pytest.fixture
def bus(bus_url: str) -> Iterator[EventBus]:
    bus = open_event_bus(bus_url)
    yield bus
    bus.close()


@pytest.fixture
def job_id() -> str:
    return f"job-{uuid.uuid4().hex[:12]}"


def _progress(job_id: str, trial: int, i: int, pad: int = 0) -> dict[str, Any]:
    return make_event("trial_progress", job_id, trial=trial, phase="training", epoch=i,
                      epochs=1000, epoch_fraction=0.0, fraction=0.0,
                      metrics={"i": i, "pad": "x" * pad})


def test_bus_satisfies_the_protocol_and_pings(bus: EventBus) -> None:
    assert isinstance(bus, EventBus)
    bus.ping()


def test_publish_read_round_trip_with_cursors(bus: EventBus, job_id: str) -> None:
    first = [_progress(job_id, 0, i) for i in range(3)]
    for event in first:
        bus.publish(event)
    events, cursor = bus.read(job_id)
    assert events == first
    assert bus.read(job_id, cursor) == ([], cursor)  # nothing new, nothing repeated
    second = [_event("job_status", job_id, status="done"), _progress(job_id, 1, 9)]
    for event in second:
        bus.publish(event)
    more, cursor2 = bus.read(job_id, cursor)
    assert more == second and cursor2 != cursor
    assert bus.read(job_id)[0] == first + second  # durable: readable again from the start


def test_read_pages_with_limit(bus: EventBus, job_id: str) -> None:
    for i in range(7):
        bus.publish(_progress(job_id, 0, i))
    seen: list[int] = []
    cursor = None
    while True:
        events, cursor = bus.read(job_id, cursor, limit=3)
        if not events:
            break
        assert len(events) <= 3
        seen += [e["data"]["epoch"] for e in events]
    assert seen == list(range(7))


def test_read_of_an_empty_job_returns_nothing_quickly(bus: EventBus, job_id: str) -> None:
    events, cursor = bus.read(job_id, timeout=0.05)
    assert events == []
    assert bus.read(job_id, cursor) == ([], cursor)


def test_publish_rejects_an_invalid_event(bus: EventBus, job_id: str) -> None:
    with pytest.raises(ValueError, match="version"):
        bus.publish({**_progress(job_id, 0, 0), "v": 99})
    assert bus.read(job_id)[0] == []


def test_read_rejects_a_foreign_cursor(bus: EventBus, job_id: str) -> None:
    with pytest.raises(ValueError, match="cursor"):
        bus.read(job_id, "not-a-cursor")


def _publish_one(url: str, job_id: str) -> None:
    bus = open_event_bus(url)
    bus.publish(make_event("job_status", job_id, status="from-child"))
    bus.close()


def test_read_waits_for_a_publish_from_another_process(bus_url: str, bus: EventBus,
                                                       job_id: str) -> None:
    _, cursor = bus.read(job_id)
    child = mp.get_context("spawn").Process(target=_publish_one, args=(bus_url, job_id))
    child.start()
    try:
        started = time.monotonic()
        events, _ = bus.read(job_id, cursor, timeout=10)
        assert time.monotonic() - started < 10
        assert [e["data"]["status"] for e in events] == ["from-child"]
    finally:
        child.join(timeout=30)
    assert child.exitcode == 0


def _publish_many(url: str, job_id: str, trial: int, count: int, barrier: Any) -> None:
    bus = open_event_bus(url)
    barrier.wait()
    for i in range(count):
        bus.publish(_progress(job_id, trial, i, pad=(i * 37) % 5000))
    bus.close()


def test_concurrent_publishers_lose_and_tear_nothing(bus_url: str, bus: EventBus,
                                                     job_id: str) -> None:
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(4)
    children = [ctx.Process(target=_publish_many, args=(bus_url, job_id, n, 200, barrier))
                for n in range(4)]
    for child in children:
        child.start()
    for child in children:
        child.join(timeout=120)
        assert child.exitcode == 0
    events: list[dict[str, Any]] = []
    cursor = None
    while True:
        batch, cursor = bus.read(job_id, cursor, limit=250)
        if not batch:
            break
        events += batch
    assert len(events) == 800
    for trial in range(4):
        mine = [e["data"] for e in events if e["trial"] == trial]
        assert [d["epoch"] for d in mine] == list(range(200))  # per-process order kept
        assert all(d["metrics"] == {"i": d["epoch"], "pad": "x" * ((d["epoch"] * 37) % 5000)}
                   for d in mine)


def test_delete_removes_a_jobs_events_only(bus: EventBus, job_id: str) -> None:
    other = f"{job_id}-other"
    bus.publish(_progress(job_id, 0, 0))
    bus.publish(_progress(other, 0, 0))
    bus.delete(job_id)
    assert bus.read(job_id)[0] == []
    assert len(bus.read(other)[0]) == 1
    bus.delete(job_id)  # idempotent
    bus.delete(other)


# --- backend specifics -------------------------------------------------------------------


def test_resolver_names_the_field_on_a_bad_url(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="events_url"):
        open_event_bus("http://example.com")
    with pytest.raises(ConfigError, match="absolute path"):
        open_event_bus("local://relative/dir")
    assert type(open_event_bus(f"local://{tmp_path}")).__name__ == "LocalEventBus"


def test_local_never_returns_a_half_written_line(tmp_path: Path, job_id: str) -> None:
    bus = open_event_bus(f"local://{tmp_path}")
    bus.publish(_progress(job_id, 0, 0))
    path = tmp_path / f"{job_id}.jsonl"
    line = json.dumps(_progress(job_id, 0, 1)).encode()
    with path.open("ab") as file:
        file.write(line[:20])  # a writer caught mid-line
    events, cursor = bus.read(job_id)
    assert [e["data"]["epoch"] for e in events] == [0]
    with path.open("ab") as file:
        file.write(line[20:] + b"\n")  # ... finishes its line
    events, cursor = bus.read(job_id, cursor)
    assert [e["data"]["epoch"] for e in events] == [1]


def test_local_fences_off_a_crashed_writers_fragment(tmp_path: Path, job_id: str) -> None:
    bus = open_event_bus(f"local://{tmp_path}")
    path = tmp_path / f"{job_id}.jsonl"
    path.write_bytes(b'{"v":1,"type":"job_st')  # the writer died here
    bus.publish(_progress(job_id, 0, 5))
    events, _ = bus.read(job_id)  # the fragment is skipped, the event survives
    assert [e["data"]["epoch"] for e in events] == [5]


def test_redis_relays_to_the_socketio_room(redis_url: str, job_id: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    pubsub = client.pubsub()
    pubsub.subscribe("flask-socketio")  # Flask-SocketIO's message_queue channel
    assert pubsub.get_message(timeout=10)["type"] == "subscribe"
    bus = open_event_bus(redis_url)
    event = _event("job_status", job_id, status="running")
    bus.publish(event)
    message = pubsub.get_message(timeout=10)
    assert message is not None and message["type"] == "message"
    relayed = json.loads(message["data"])
    assert relayed["method"] == "emit" and relayed["event"] == "job_status"
    assert relayed["namespace"] == "/jobs" and relayed["room"] == f"job:{job_id}"
    assert relayed["data"] == [event]
    bus.close()
    pubsub.close()
    client.close()
