"""Each job's parameter importances, computed by one thread at a time and never on a hot path.

fANOVA's cost grows with the completed trials, and a running job completes new ones
all the time: if every dashboard read of its study ranked afresh, the readers would
take the web process's whole CPU (`benchmarks/load.py` measures it). So, per web
process:

- one computation per job at a time: concurrent readers wait for it and share it;
- while the job runs, a reader gets the last ranking at once (``trials`` says how
  many completed trials it ranks) and a refresh starts in the background: one at a
  time in the process, each no sooner than `GAP_FACTOR` x the last one's duration
  after it ended, so importances take at most a fifth of one core;
- once the job has ended, a reader gets the ranking of all its trials (computed once);
- the computation runs in a child process (`RankingProcess`): fANOVA's Python loops
  would otherwise hold the web process's GIL and delay every request and event.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from onegin.parent_death import die_with_parent

log = logging.getLogger(__name__)
GAP_FACTOR = 4.0  # idle 4x a computation's time after it: at most 20 % of one core
CACHE_SIZE = 64  # jobs remembered
Compute = Callable[[], dict[str, float]]  # picklable, for `RankingProcess`


@dataclass(frozen=True)
class Ranked:
    """A ranking and the study state it ranks (``key``), from ``trials`` completed trials."""

    key: Hashable
    trials: int
    values: dict[str, float]


class ImportanceCache:
    """The latest ranking per job; see the module's docstring for when it is computed."""

    def __init__(self, *, size: int = CACHE_SIZE, gap_factor: float = GAP_FACTOR,
                 clock: Callable[[], float] = time.monotonic,
                 submit: Callable[..., Any] | None = None,
                 run: Callable[[Compute], dict[str, float]] = lambda compute: compute()) -> None:
        self._size = size
        self._run = run
        self._gap_factor = gap_factor
        self._clock = clock
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="importances")  # threads lazily
        self._submit = submit or self._pool.submit
        self._lock = threading.Lock()
        self._ranked: OrderedDict[str, Ranked] = OrderedDict()
        self._flights: dict[str, threading.Lock] = {}  # job -> held while it is computed
        self._refreshing: set[str] = set()
        self._next_refresh = 0.0

    def get(self, job_id: str, key: Hashable, trials: int,
            compute: Compute, *, final: bool) -> Ranked:
        """The ranking of ``key`` (the study's state now), or while the job runs
        (``final`` false) the last one known, with a refresh to ``key`` started."""
        with self._lock:
            known = self._ranked.get(job_id)
            refresh = False
            if known is not None:
                self._ranked.move_to_end(job_id)
                if known.key == key:
                    return known
                refresh = (not final and job_id not in self._refreshing
                           and self._clock() >= self._next_refresh)
                if refresh:
                    self._refreshing.add(job_id)
        if known is None or final:
            return self._compute_once(job_id, key, trials, compute)
        if refresh:
            self._submit(self._refresh, job_id, key, trials, compute)
        return known

    def close(self, wait: bool = False) -> None:
        """Stop refreshing; ``wait``: until a refresh under way has stored its ranking."""
        self._pool.shutdown(wait=wait, cancel_futures=True)

    def _refresh(self, job_id: str, key: Hashable, trials: int,
                 compute: Compute) -> None:
        try:
            self._compute_once(job_id, key, trials, compute)
        except Exception:  # a background task has nobody to raise to
            log.exception("refreshing the importances of job %s", job_id)
        finally:
            with self._lock:
                self._refreshing.discard(job_id)

    def _compute_once(self, job_id: str, key: Hashable, trials: int,
                      compute: Compute) -> Ranked:
        with self._lock:
            flight = self._flights.setdefault(job_id, threading.Lock())
        with flight:
            with self._lock:
                known = self._ranked.get(job_id)
            if known is not None and (known.key == key or known.trials > trials):
                return known  # a reader before us computed it, or a later state
            began = self._clock()
            ranked = Ranked(key, trials, self._run(compute))
            ended = self._clock()
            with self._lock:
                self._next_refresh = ended + self._gap_factor * (ended - began)
                self._ranked[job_id] = ranked
                self._ranked.move_to_end(job_id)
                while len(self._ranked) > self._size:
                    dropped, _ = self._ranked.popitem(last=False)
                    self._flights.pop(dropped, None)
            return ranked


class RankingProcess:
    """Runs each computation in one child process, started on first use.

    No ``max_tasks_per_child``: Python 3.11's pool can hang when a child retires
    (cpython#115634), and `forget_fanova_forests` keeps the child's memory flat. A
    child that died (out of memory, killed) is replaced on the next call; the call it
    broke is computed in this process instead, so a reader still gets its ranking.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None

    def __call__(self, compute: Compute) -> dict[str, float]:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    1, mp_context=multiprocessing.get_context("spawn"),
                    initializer=die_with_parent, initargs=(os.getpid(),))
            pool = self._pool
        try:
            return pool.submit(compute).result()
        except BrokenProcessPool:
            log.warning("the importance process died; ranking in the web process once")
            with self._lock:
                if self._pool is pool:
                    self._pool = None
            pool.shutdown(wait=False)
            return compute()

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


def forget_fanova_forests() -> None:
    """Free every forest Optuna's fANOVA has fitted in this process.

    `_FanovaTree`'s methods are ``lru_cache``d on the class, keyed on the tree, so each
    ranking's trees stay alive (optuna/optuna#6859) and the ranking child grows with
    every ranking. Replacing the child every few rankings bounded it but cost a
    process start each time. A private name: docs/architecture.md says why, and
    tests/webapp/test_importances.py fails when Optuna changes it.
    """
    from optuna.importance._fanova._tree import _FanovaTree

    for member in vars(_FanovaTree).values():
        clear = getattr(member, "cache_clear", None)
        if callable(clear):
            clear()
