"""Contract tests for every ControlStore backend (local files, Redis)."""

from __future__ import annotations

import multiprocessing as mp
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from onegin.control import ClaimOutcome, ControlStore, StopPoller, open_control_store
from onegin.errors import ConfigError

ACQUIRED, HELD, FINISHED = ClaimOutcome.ACQUIRED, ClaimOutcome.HELD, ClaimOutcome.FINISHED


class FakeClock:
    """Unix time that moves only when a test says so."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["local", "redis"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "local":
        return f"local://{tmp_path / 'control'}"
    url: str = request.getfixturevalue("redis_url")
    return url


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(store_url: str, clock: FakeClock) -> Iterator[ControlStore]:
    store = open_control_store(store_url, clock=clock)
    yield store
    store.close()


@pytest.fixture
def job() -> str:
    return f"job-{uuid.uuid4().hex[:12]}"


def test_store_satisfies_the_protocol_and_pings(store: ControlStore) -> None:
    assert isinstance(store, ControlStore)
    store.ping()


def test_nothing_is_known_about_a_new_trial(store: ControlStore, job: str) -> None:
    assert store.last_heartbeat(job, 0) is None
    assert store.result(job, 0) is None
    assert store.stop_reason(job, 0) is None
    assert store.heartbeat(job, 0, "a") is False


def test_claim_is_held_by_a_live_owner(store: ControlStore, clock: FakeClock,
                                       job: str) -> None:
    assert store.claim(job, 0, "a", ttl=30) is ACQUIRED
    assert store.last_heartbeat(job, 0) == ("a", clock.now)
    clock.now += 10
    assert store.claim(job, 0, "b", ttl=30) is HELD
    assert store.claim(job, 0, "a", ttl=30) is ACQUIRED  # re-entrant for its owner
    assert store.claim(job, 1, "b", ttl=30) is ACQUIRED  # trials are independent


def test_a_dead_owners_claim_is_taken_over(store: ControlStore, clock: FakeClock,
                                           job: str) -> None:
    assert store.claim(job, 0, "a", ttl=5) is ACQUIRED
    clock.now += 4
    assert store.heartbeat(job, 0, "a") is True  # keeps it alive ...
    clock.now += 4
    assert store.claim(job, 0, "b", ttl=5) is HELD
    clock.now += 2  # ... until it stops beating for longer than ttl
    assert store.claim(job, 0, "b", ttl=5) is ACQUIRED
    assert store.last_heartbeat(job, 0) == ("b", clock.now)
    assert store.heartbeat(job, 0, "a") is False  # the old owner learns it should stop
    assert store.heartbeat(job, 0, "b") is True


def test_release_lets_another_owner_claim_at_once(store: ControlStore, job: str) -> None:
    assert store.claim(job, 0, "a", ttl=30) is ClaimOutcome.ACQUIRED
    assert store.claim(job, 0, "b", ttl=30) is ClaimOutcome.HELD
    assert not store.release(job, 0, "b")  # not b's to give up
    assert store.claim(job, 0, "b", ttl=30) is ClaimOutcome.HELD
    assert store.release(job, 0, "a")
    assert not store.heartbeat(job, 0, "a")  # a no longer holds it
    assert store.claim(job, 0, "b", ttl=30) is ClaimOutcome.ACQUIRED
    store.finish(job, 0, {"status": "completed"})
    assert not store.release(job, 0, "b")  # a finished trial stays finished
    assert store.claim(job, 0, "c", ttl=30) is ClaimOutcome.FINISHED


def test_finish_ends_the_trial_for_everyone(store: ControlStore, clock: FakeClock,
                                            job: str) -> None:
    assert store.claim(job, 3, "a", ttl=5) is ACQUIRED
    result = {"status": "completed", "val_accuracy": 0.91, "history": [1, 2]}
    store.finish(job, 3, result)
    assert store.result(job, 3) == result
    assert store.heartbeat(job, 3, "a") is False
    clock.now += 100
    assert store.claim(job, 3, "a", ttl=5) is FINISHED
    assert store.claim(job, 3, "b", ttl=5) is FINISHED
    store.finish(job, 3, {"status": "duplicate"})  # idempotent: the first result stays
    assert store.result(job, 3) == result


def test_finish_without_a_claim_is_recorded(store: ControlStore, job: str) -> None:
    store.finish(job, 0, {})
    assert store.result(job, 0) == {}
    assert store.claim(job, 0, "a", ttl=5) is FINISHED


def test_abandon_finishes_a_lost_trial(store: ControlStore, job: str) -> None:
    assert store.claim(job, 2, "a", ttl=5) is ACQUIRED
    store.abandon(job, 2, "lost: no heartbeat")
    assert store.heartbeat(job, 2, "a") is False
    assert store.claim(job, 2, "b", ttl=5) is FINISHED
    assert store.result(job, 2) is None


def test_trial_stop_flags(store: ControlStore, job: str) -> None:
    store.request_stop(job, 1, "pruned")
    assert store.stop_reason(job, 1) == "pruned"
    assert store.stop_reason(job, 0) is None
    store.request_stop(job, 1, "something else")
    assert store.stop_reason(job, 1) == "pruned"  # the first reason sticks


def test_job_stop_flag_reaches_every_trial(store: ControlStore, job: str) -> None:
    store.request_stop(job, 1, "pruned")
    store.request_stop(job, None, "cancelled")
    assert store.stop_reason(job, 0) == "cancelled"
    assert store.stop_reason(job, 99) == "cancelled"
    assert store.stop_reason(job, 1) == "pruned"  # the trial's own reason comes first
    assert store.stop_reason(f"{job}-other", 0) is None


def test_reasons_trial_numbers_and_job_ids_are_checked(store: ControlStore, job: str) -> None:
    with pytest.raises(ValueError, match="reason"):
        store.request_stop(job, None, "")
    with pytest.raises(ValueError, match="trial number"):
        store.claim(job, -1, "a", ttl=5)
    with pytest.raises(ValueError, match="job_id"):
        store.stop_reason("a/b", 0)


def test_clear_job_forgets_one_job(store: ControlStore, job: str) -> None:
    other = f"{job}-other"
    for job_id in (job, other):
        store.claim(job_id, 0, "a", ttl=5)
        store.finish(job_id, 1, {"x": 1})
        store.request_stop(job_id, None, "cancelled")
        store.request_stop(job_id, 2, "pruned")
    store.clear_job(job)
    assert store.last_heartbeat(job, 0) is None
    assert store.result(job, 1) is None
    assert store.stop_reason(job, 2) is None
    assert store.claim(job, 1, "b", ttl=5) is ACQUIRED
    assert store.result(other, 1) == {"x": 1}
    assert store.stop_reason(other, 0) == "cancelled"
    store.clear_job(job)  # idempotent
    store.clear_job(other)


def test_default_clock_is_wall_time(store_url: str, job: str) -> None:
    store = open_control_store(store_url)
    before = time.time()
    assert store.claim(job, 0, "a", ttl=60) is ACQUIRED
    beat = store.last_heartbeat(job, 0)
    assert beat is not None and beat[0] == "a"
    assert before - 5 < beat[1] < time.time() + 5  # Redis stamps with its own clock
    store.close()


def _claim(url: str, job: str, owner: str, barrier: Any, results: Any) -> None:
    store = open_control_store(url)
    barrier.wait()
    results.put((owner, store.claim(job, 0, owner, ttl=60).value))
    store.close()


def test_concurrent_claims_have_exactly_one_winner(store_url: str, job: str) -> None:
    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(8), ctx.Queue()
    children = [ctx.Process(target=_claim, args=(store_url, job, f"w{n}", barrier, results))
                for n in range(8)]
    for child in children:
        child.start()
    outcomes = [results.get(timeout=60) for _ in children]
    for child in children:
        child.join(timeout=30)
        assert child.exitcode == 0
    winners = [owner for owner, outcome in outcomes if outcome == "acquired"]
    assert len(winners) == 1
    assert sorted(outcome for _, outcome in outcomes) == ["acquired"] + ["held"] * 7
    store = open_control_store(store_url)
    beat = store.last_heartbeat(job, 0)
    assert beat is not None and beat[0] == winners[0]
    store.close()


def test_stop_poller_asks_at_most_once_per_interval(store: ControlStore, job: str) -> None:
    ticks = FakeClock(0.0)
    poller = StopPoller(store, job, 0, interval=1.0, clock=ticks)
    assert poller() is None
    store.request_stop(job, None, "cancelled")
    ticks.now = 0.5
    assert poller() is None  # not asked again yet
    ticks.now = 1.0
    assert poller() == "cancelled"
    store.clear_job(job)
    assert poller() == "cancelled"  # a stop is never taken back


def test_resolver_names_the_field_on_a_bad_url() -> None:
    with pytest.raises(ConfigError, match="control_url"):
        open_control_store("memcached://x")
    with pytest.raises(ConfigError, match="absolute path"):
        open_control_store("local://relative")
