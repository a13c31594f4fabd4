"""One call per key at a time: callers that arrive while it runs share its result.

A study summary reads the study's new trials from the database under the lock of
Optuna's cached storage, one lock for the whole web process. Readers of one running
job, each waiting on the one before, made the wait grow without bound once reads came
faster than the database answered (`benchmarks/load.py` measures `/study`). Shared,
the work is at most one read per job at a time whatever the number of readers, and a
reader waits at most for the read under way and its own.

A shared result began before the late caller arrived, so it is at most one call
older than one of its own; callers that need a newer one use another key.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass
class _Flight(Generic[T]):
    done: threading.Event = field(default_factory=threading.Event)
    result: T | None = None
    error: BaseException | None = None


class SingleFlight(Generic[T]):
    """``run(key, call)``: ``call()``, or the result of the one already running for ``key``."""

    def __init__(self, on_join: Callable[[Hashable], None] = lambda key: None) -> None:
        """``on_join(key)``: told each time a caller joins a running call (tests wait on it)."""
        self._lock = threading.Lock()
        self._flights: dict[Hashable, _Flight[T]] = {}
        self._on_join = on_join

    def run(self, key: Hashable, call: Callable[[], T]) -> T:
        with self._lock:
            flight = self._flights.get(key)
            leader = flight is None
            if flight is None:
                flight = self._flights[key] = _Flight()
        if not leader:
            self._on_join(key)
            flight.done.wait()
            if flight.error is not None:
                raise flight.error
            return flight.result  # type: ignore[return-value]  # set when error is None
        try:
            flight.result = call()
            return flight.result
        except BaseException as exc:
            flight.error = exc
            raise
        finally:
            with self._lock:
                del self._flights[key]
            flight.done.set()
