"""When a job's importances are computed: once per study state, never by two threads at once."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from functools import partial
from typing import Any

from webapp.importances import (
    ImportanceCache,
    RankingProcess,
    forget_fanova_forests,
)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Later:
    """Background refreshes held until ``run()``: the test decides when they happen."""

    def __init__(self) -> None:
        self.queued: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []

    def __call__(self, fn: Callable[..., Any], *args: Any) -> None:
        self.queued.append((fn, args))

    def run(self) -> None:
        queued, self.queued = self.queued, []
        for fn, args in queued:
            fn(*args)


def ranking(value: float, calls: list[float], clock: Clock | None = None,
            seconds: float = 0.0) -> Callable[[], dict[str, float]]:
    def compute() -> dict[str, float]:
        calls.append(value)
        if clock is not None:
            clock.now += seconds
        return {"learning_rate": value}
    return compute


def test_a_running_job_gets_the_last_ranking_at_once_and_one_refresh_starts() -> None:
    later, calls = Later(), []
    cache = ImportanceCache(submit=later, gap_factor=0.0)
    first = cache.get("j", (2, 1), 2, ranking(0.2, calls), final=False)
    assert (first.trials, first.values, calls) == (2, {"learning_rate": 0.2}, [0.2])

    for _ in range(3):  # three readers after a third trial completed: one refresh
        stale = cache.get("j", (3, 2), 3, ranking(0.3, calls), final=False)
        assert stale.trials == 2 and stale.values == {"learning_rate": 0.2}
    assert len(later.queued) == 1 and calls == [0.2]
    later.run()
    fresh = cache.get("j", (3, 2), 3, ranking(0.9, calls), final=False)
    assert (fresh.trials, fresh.values, calls) == (3, {"learning_rate": 0.3}, [0.2, 0.3])


def test_an_ended_job_gets_the_ranking_of_all_its_trials() -> None:
    later, calls = Later(), []
    cache = ImportanceCache(submit=later)
    cache.get("j", (2, 1), 2, ranking(0.2, calls), final=False)
    final = cache.get("j", (5, 4), 5, ranking(0.5, calls), final=True)
    assert final.trials == 5 and calls == [0.2, 0.5] and not later.queued


def test_a_refresh_queued_before_a_later_ranking_does_not_replace_it() -> None:
    later, calls = Later(), []
    cache = ImportanceCache(submit=later, gap_factor=0.0)
    cache.get("j", (2, 1), 2, ranking(0.2, calls), final=False)
    cache.get("j", (3, 2), 3, ranking(0.3, calls), final=False)  # refresh queued
    cache.get("j", (5, 4), 5, ranking(0.5, calls), final=True)
    later.run()
    assert calls == [0.2, 0.5]
    assert cache.get("j", (5, 4), 5, ranking(0.9, calls), final=True).values == {
        "learning_rate": 0.5}


def test_refreshes_wait_four_times_the_last_computation() -> None:
    clock, later, calls = Clock(), Later(), []
    cache = ImportanceCache(submit=later, clock=clock)
    cache.get("j", (2, 1), 2, ranking(0.2, calls, clock, seconds=1.0), final=False)  # ends at 1
    clock.now = 4.9
    cache.get("j", (3, 2), 3, ranking(0.3, calls), final=False)
    assert not later.queued  # 4 x 1 s after it ended: not before 5
    clock.now = 5.0
    cache.get("j", (3, 2), 3, ranking(0.3, calls), final=False)
    assert len(later.queued) == 1


def test_concurrent_first_readers_share_one_computation() -> None:
    cache, calls = ImportanceCache(), []
    entered, release = threading.Event(), threading.Event()

    def slow() -> dict[str, float]:
        calls.append(1.0)
        entered.set()
        assert release.wait(10)
        return {"dropout": 1.0}

    results: list[Any] = []
    first = threading.Thread(target=lambda: results.append(
        cache.get("j", (2, 1), 2, slow, final=False)))
    first.start()
    assert entered.wait(10)
    others = [threading.Thread(target=lambda: results.append(
        cache.get("j", (2, 1), 2, slow, final=False))) for _ in range(4)]
    for thread in others:
        thread.start()
    release.set()
    for thread in [first, *others]:
        thread.join(10)
    assert calls == [1.0] and len(results) == 5
    assert all(r.values == {"dropout": 1.0} for r in results)


def test_a_failed_background_refresh_keeps_the_last_ranking_and_may_run_again() -> None:
    later, calls = Later(), []
    cache = ImportanceCache(submit=later, gap_factor=0.0)
    cache.get("j", (2, 1), 2, ranking(0.2, calls), final=False)

    def broken() -> dict[str, float]:
        raise MemoryError("out of memory")

    cache.get("j", (3, 2), 3, broken, final=False)
    later.run()  # logged, not raised
    assert cache.get("j", (3, 2), 3, ranking(0.3, calls), final=False).values == {
        "learning_rate": 0.2}
    later.run()
    assert cache.get("j", (3, 2), 3, ranking(0.9, calls), final=False).trials == 3


def test_the_least_recently_read_job_is_forgotten() -> None:
    calls: list[float] = []
    cache = ImportanceCache(size=2)
    for job in ("a", "b", "a", "c"):
        cache.get(job, (2, 1), 2, ranking(0.1, calls), final=True)
    assert len(calls) == 3  # a, b, c; "a" read again from the cache
    cache.get("b", (2, 1), 2, ranking(0.1, calls), final=True)
    assert len(calls) == 4  # "b" was dropped for "c"


def test_the_background_refresh_runs_on_its_own_thread() -> None:
    """The real executor: a refresh is started (not deadlocked) and its result is served."""
    cache, calls = ImportanceCache(gap_factor=0.0), []
    cache.get("j", (2, 1), 2, ranking(0.2, calls), final=False)
    done = threading.Event()

    def refreshed() -> dict[str, float]:
        done.set()
        return {"learning_rate": 0.3}

    assert cache.get("j", (3, 2), 3, refreshed, final=False).trials == 2
    assert done.wait(10)
    cache.close(wait=True)  # the refresh has stored its ranking
    assert cache.get("j", (3, 2), 3, ranking(0.9, calls), final=False).values == {
        "learning_rate": 0.3}


def _whose_pid() -> dict[str, float]:
    return {"pid": float(os.getpid())}


def _die_unless_in(pid: int) -> dict[str, float]:
    if os.getpid() != pid:
        os._exit(1)
    return {"pid": float(pid)}


def test_rankings_run_in_a_child_process_that_is_replaced_when_it_dies() -> None:
    ranking_process = RankingProcess()
    try:
        child = ranking_process(_whose_pid)["pid"]
        assert child != os.getpid()
        assert ranking_process(_whose_pid)["pid"] == child  # one child, kept
        # the child dies mid-call: this call is answered here, the next by a new child
        assert ranking_process(partial(_die_unless_in, os.getpid()))["pid"] == os.getpid()
        assert ranking_process(_whose_pid)["pid"] not in (child, os.getpid())
    finally:
        ranking_process.close()


def test_fanova_keeps_every_tree_it_fits_until_forgotten() -> None:
    """Pins the upstream leak and its cure: when Optuna frees its trees itself, or
    renames what `forget_fanova_forests` clears, this fails (docs/architecture.md)."""
    import gc

    import optuna
    from optuna.importance._fanova._tree import _FanovaTree

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(0))
    study.optimize(lambda t: t.suggest_float("x", 0, 1) + t.suggest_float("y", 0, 1) / 10,
                   n_trials=12)

    def live_trees() -> int:
        gc.collect()
        return sum(isinstance(o, _FanovaTree) for o in gc.get_objects())

    before = live_trees()
    evaluator = optuna.importance.FanovaImportanceEvaluator(n_trees=4, seed=0)
    optuna.importance.get_param_importances(study, evaluator=evaluator)
    del evaluator
    assert live_trees() - before == 4
    forget_fanova_forests()
    assert live_trees() == before
