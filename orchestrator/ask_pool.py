"""Ask Optuna for trials on background threads, so a freed worker never waits for TPE.

An ask is TPE over the whole history plus one storage write per parameter:
tens of milliseconds early in a study and over a hundred at trial 500. Done on
the runner's own thread it delays every result that arrives meanwhile; done
here it overlaps with the runner telling results and with the workers
training. Asks are handed back in the order they were requested; the first
error raised by an ask is re-raised on the runner's thread.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Generic, TypeVar

T = TypeVar("T")


class AskPool(Generic[T]):
    """A FIFO of asks in progress on ``threads`` threads (one thread keeps seeded order)."""

    def __init__(self, ask: Callable[[], T], threads: int = 1) -> None:
        self._ask = ask
        self._executor = ThreadPoolExecutor(max_workers=max(1, threads),
                                            thread_name_prefix="onegin-ask")
        self._futures: deque[Future[T]] = deque()

    @property
    def pending(self) -> int:
        """Asks requested and not yet collected (running, queued or done)."""
        return len(self._futures)

    def request(self, count: int) -> None:
        for _ in range(max(0, count)):
            self._futures.append(self._executor.submit(self._ask))

    def collect(self, *, block: bool = False) -> list[T]:
        """The asks that are done, oldest first; with ``block``, at least one (if any pending)."""
        if block and self._futures and not any(f.done() for f in self._futures):
            wait(self._futures, return_when=FIRST_COMPLETED)
        done: list[T] = []
        remaining: deque[Future[T]] = deque()
        for future in self._futures:
            if future.done():
                done.append(future.result())  # re-raises the ask's error here
            else:
                remaining.append(future)
        self._futures = remaining
        return done

    def drain(self) -> list[T]:
        """Stop asking: drop asks not started, wait for those running, return every result."""
        for future in self._futures:
            future.cancel()
        self._futures = deque(f for f in self._futures if not f.cancelled())
        wait(self._futures)
        return self.collect()

    def close(self) -> None:
        """Release the threads; asks still running finish (their trials stay RUNNING in the
        study, and a resumed runner adopts them as asked-but-unsent)."""
        self._executor.shutdown(wait=True, cancel_futures=True)
        self._futures.clear()
