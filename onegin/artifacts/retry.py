"""Retry with exponential backoff and jitter, as a wrapper around any artifact store.

A wrapper (not a subclass) so the local and S3 backends stay plain and any
future backend gets the same policy. Only errors a later attempt can fix are
retried, for up to ``patience`` seconds of outage (the ``outage_limit`` setting in
the services; `onegin.outages.ride_out`); a missing key, a refused key, access
denied or corrupted bytes fail at once. Operations are idempotent (puts overwrite,
delete of nothing counts 0), so repeating one is safe; a retried prefix delete may
report fewer than it removed.
"""

from __future__ import annotations

import builtins
import errno
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, TypeVar

from onegin.artifacts.errors import ArtifactError
from onegin.artifacts.protocol import ArtifactInfo, ArtifactStore
from onegin.errors import OneginError
from onegin.outages import DEFAULT_OUTAGE_LIMIT, Backoff, ride_out

_T = TypeVar("_T")

TRANSIENT_ERRNOS = frozenset({
    errno.EAGAIN, errno.EWOULDBLOCK, errno.EBUSY, errno.EINTR, errno.ETIMEDOUT,
    errno.ESTALE, errno.ENOLCK, errno.ECONNRESET, errno.ECONNREFUSED, errno.ECONNABORTED,
    errno.ENETDOWN, errno.ENETUNREACH, errno.EHOSTUNREACH,
})


def is_transient(exc: BaseException) -> bool:
    """Whether trying the same operation again later can succeed."""
    if isinstance(exc, ArtifactError):
        return exc.retryable
    if isinstance(exc, OneginError):
        return False
    if isinstance(exc, ConnectionError | TimeoutError):
        return True
    if isinstance(exc, OSError):
        return exc.errno in TRANSIENT_ERRNOS
    return False


def _transient_kind(exc: BaseException) -> str | None:
    return "the artifact store" if is_transient(exc) else None


class RetryingArtifactStore:
    """Any ``ArtifactStore``, with transient failures retried for up to ``patience`` seconds.

    The n-th retry waits a random time in ``[d/2, d]`` with
    ``d = min(max_delay, base_delay * 2**n)`` ("equal jitter"): workers that failed
    together spread out, and a store that comes back is used again within
    ``max_delay``. ``sleep``, ``jitter`` and ``clock`` are injectable so tests neither
    sleep nor flake.
    """

    def __init__(
        self,
        inner: ArtifactStore,
        patience: float = DEFAULT_OUTAGE_LIMIT,
        base_delay: float = 0.2,
        max_delay: float = 2.0,
        *,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if patience < 0 or base_delay < 0 or max_delay < base_delay:
            raise ValueError("need patience >= 0 and 0 <= base_delay <= max_delay")
        self.inner = inner
        self.patience = patience
        self.backoff = Backoff(base_delay, max_delay, jitter)
        self._sleep = sleep
        self._clock = clock

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (0-based)."""
        return self.backoff.delay(retry)

    def _call(self, operation: Callable[[], _T]) -> _T:
        return ride_out(operation, limit=self.patience, classify=_transient_kind,
                        backoff=self.backoff, clock=self._clock, sleep=self._sleep)

    def put_bytes(
        self, key: str, data: bytes, *, content_type: str | None = None
    ) -> ArtifactInfo:
        return self._call(lambda: self.inner.put_bytes(key, data, content_type=content_type))

    def put_file(
        self, key: str, path: str | Path, *, content_type: str | None = None
    ) -> ArtifactInfo:
        return self._call(lambda: self.inner.put_file(key, path, content_type=content_type))

    def get_bytes(self, key: str) -> bytes:
        return self._call(lambda: self.inner.get_bytes(key))

    def get_file(self, key: str, path: str | Path) -> None:
        self._call(lambda: self.inner.get_file(key, path))

    def open(self, key: str) -> BinaryIO:
        """Retries opening only; a stream that breaks mid-read is the reader's to redo."""
        return self._call(lambda: self.inner.open(key))

    def exists(self, key: str) -> bool:
        return self._call(lambda: self.inner.exists(key))

    def list(self, prefix: str) -> builtins.list[ArtifactInfo]:
        return self._call(lambda: self.inner.list(prefix))

    def copy(self, src: str, dst: str) -> None:
        self._call(lambda: self.inner.copy(src, dst))

    def delete(self, key_or_prefix: str) -> int:
        return self._call(lambda: self.inner.delete(key_or_prefix))

    def presigned_url(self, key: str, expires: int = 3600) -> str:
        return self._call(lambda: self.inner.presigned_url(key, expires))

    def ping(self) -> None:
        """Not retried: a readiness probe must report the store's state now, quickly."""
        self.inner.ping()


_conforms: type[ArtifactStore] = RetryingArtifactStore
