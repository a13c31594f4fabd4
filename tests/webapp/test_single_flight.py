"""SingleFlight: callers of a running key share its call; other keys and later calls do not."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor

import pytest

from webapp.single_flight import SingleFlight

FOLLOWERS = 5
WAIT_S = 10


def joined_counter(expected: int) -> tuple[Callable[[Hashable], None], threading.Event]:
    """An ``on_join`` that sets the event once ``expected`` callers have joined."""
    count = 0
    lock = threading.Lock()
    all_joined = threading.Event()

    def on_join(key: Hashable) -> None:
        nonlocal count
        with lock:
            count += 1
            if count == expected:
                all_joined.set()
    return on_join, all_joined


def test_callers_during_a_call_share_it_and_later_ones_call_again() -> None:
    on_join, all_joined = joined_counter(FOLLOWERS)
    flights: SingleFlight[int] = SingleFlight(on_join)
    started, release = threading.Event(), threading.Event()
    calls: list[str] = []

    def slow() -> int:
        calls.append("leader")
        started.set()
        assert release.wait(WAIT_S)
        return 41

    def never() -> int:
        calls.append("follower")
        return -1

    with ThreadPoolExecutor(FOLLOWERS + 2) as pool:
        leader = pool.submit(flights.run, "job", slow)
        assert started.wait(WAIT_S)  # the leader has begun: every later caller joins it
        followers = [pool.submit(flights.run, "job", never) for _ in range(FOLLOWERS)]
        other = pool.submit(flights.run, "other job", lambda: 7)
        assert other.result(WAIT_S) == 7  # another key never waits
        assert all_joined.wait(WAIT_S)
        release.set()
        assert leader.result(WAIT_S) == 41
        assert [f.result(WAIT_S) for f in followers] == [41] * FOLLOWERS
    assert calls == ["leader"]
    assert flights.run("job", lambda: 42) == 42  # the flight has landed: a new call


def test_the_callers_of_a_failed_call_all_get_its_error_and_the_next_call_runs() -> None:
    on_join, all_joined = joined_counter(1)
    flights: SingleFlight[int] = SingleFlight(on_join)
    started, release = threading.Event(), threading.Event()

    def failing() -> int:
        started.set()
        assert release.wait(WAIT_S)
        raise ConnectionError("database gone")

    with ThreadPoolExecutor(2) as pool:
        leader = pool.submit(flights.run, "job", failing)
        assert started.wait(WAIT_S)
        follower = pool.submit(flights.run, "job", lambda: 1)
        assert all_joined.wait(WAIT_S)
        release.set()
        for future in (leader, follower):
            with pytest.raises(ConnectionError, match="database gone"):
                future.result(WAIT_S)
    assert flights.run("job", lambda: 3) == 3
