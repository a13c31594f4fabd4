"""AskPool: asks come back in request order, errors surface, draining drops queued asks."""

from __future__ import annotations

import itertools
import threading

import pytest

from orchestrator.ask_pool import AskPool


def test_asks_come_back_in_the_order_requested() -> None:
    counter = itertools.count()
    pool = AskPool(lambda: next(counter), threads=1)
    pool.request(3)
    got: list[int] = []
    while len(got) < 3:
        got += pool.collect(block=True)
    assert got == [0, 1, 2]
    assert pool.pending == 0
    pool.close()


def test_collect_without_block_returns_only_finished_asks() -> None:
    release = threading.Event()
    pool = AskPool(lambda: release.wait() and "asked", threads=1)
    pool.request(1)
    assert pool.collect() == []
    assert pool.pending == 1
    release.set()
    assert pool.collect(block=True) == ["asked"]
    pool.close()


def test_an_ask_error_is_raised_on_the_collecting_thread() -> None:
    def broken() -> int:
        raise RuntimeError("storage down")

    pool = AskPool(broken)
    pool.request(1)
    with pytest.raises(RuntimeError, match="storage down"):
        pool.collect(block=True)
    pool.close()


def test_drain_waits_for_the_running_ask_and_drops_queued_ones() -> None:
    started, release = threading.Event(), threading.Event()
    calls = itertools.count()

    def ask() -> int:
        n = next(calls)
        started.set()
        release.wait()
        return n

    pool = AskPool(ask, threads=1)
    pool.request(3)
    started.wait()  # the first ask is running; two wait behind it on the single thread
    drained: list[int] = []
    drainer = threading.Thread(target=lambda: drained.extend(pool.drain()))
    drainer.start()
    for _ in range(10_000):  # condition poll: drain has dropped the queued asks
        if pool.pending == 1:
            break
        threading.Event().wait(0.001)
    assert pool.pending == 1
    release.set()
    drainer.join(timeout=10)
    assert drained == [0]  # the queued two never ran: no trial left half-asked
    assert next(calls) == 1
    pool.close()


def test_several_threads_ask_at_once() -> None:
    barrier = threading.Barrier(3, timeout=10)
    pool = AskPool(lambda: barrier.wait() is not None, threads=3)
    pool.request(3)  # only completes if three asks run together
    got: list[bool] = []
    while len(got) < 3:
        got += pool.collect(block=True)
    assert got == [True, True, True]
    pool.close()
