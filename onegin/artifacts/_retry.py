"""Retry with exponential backoff and jitter, as a wrapper around any artifact store.

A wrapper (not a subclass) so the local and S3 backends stay plain and any
future backend gets the same policy. Only errors a later attempt can fix are
retried; a missing key, a refused key, access denied or corrupted bytes fail at
once. Operations are idempotent (puts overwrite, delete of nothing counts 0), so
repeating one is safe; a retried prefix delete may report fewer than it removed.
"""

from __future__ import annotations

import builtins
import errno
import logging
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, TypeVar

from onegin.artifacts._protocol import ArtifactInfo, ArtifactStore
from onegin.artifacts.errors import ArtifactError
from onegin.errors import OneginError

_log = logging.getLogger(__name__)
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


class RetryingArtifactStore:
    """Any ``ArtifactStore``, with transient failures retried up to ``retries`` times.

    The n-th retry waits a random time in ``[d/2, d]`` with
    ``d = min(max_delay, base_delay * 2**n)`` ("equal jitter"): workers that failed
    together spread out, and each wait is at least as long as the one before.
    ``sleep`` and ``jitter`` are injectable so tests neither sleep nor flake.
    """

    def __init__(
        self,
        inner: ArtifactStore,
        retries: int = 4,
        base_delay: float = 0.2,
        max_delay: float = 10.0,
        *,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        if retries < 0 or base_delay < 0 or max_delay < base_delay:
            raise ValueError("need retries >= 0 and 0 <= base_delay <= max_delay")
        self.inner = inner
        self.retries = retries
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._sleep = sleep
        self._jitter = jitter

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (0-based)."""
        ceiling = min(self.max_delay, self.base_delay * 2.0**retry)
        return ceiling / 2 + ceiling / 2 * self._jitter()

    def _call(self, what: str, target: str, operation: Callable[[], _T]) -> _T:
        retry = 0
        while True:
            try:
                return operation()
            except Exception as exc:
                if retry >= self.retries or not is_transient(exc):
                    raise
                wait = self.delay(retry)
                _log.warning(
                    "artifact %s %r failed (%s); retry %d/%d in %.2fs",
                    what, target, exc, retry + 1, self.retries, wait,
                )
                self._sleep(wait)
                retry += 1

    def put_bytes(
        self, key: str, data: bytes, *, content_type: str | None = None
    ) -> ArtifactInfo:
        return self._call(
            "put", key, lambda: self.inner.put_bytes(key, data, content_type=content_type)
        )

    def put_file(
        self, key: str, path: str | Path, *, content_type: str | None = None
    ) -> ArtifactInfo:
        return self._call(
            "put", key, lambda: self.inner.put_file(key, path, content_type=content_type)
        )

    def get_bytes(self, key: str) -> bytes:
        return self._call("get", key, lambda: self.inner.get_bytes(key))

    def get_file(self, key: str, path: str | Path) -> None:
        self._call("get", key, lambda: self.inner.get_file(key, path))

    def open(self, key: str) -> BinaryIO:
        """Retries opening only; a stream that breaks mid-read is the reader's to redo."""
        return self._call("open", key, lambda: self.inner.open(key))

    def exists(self, key: str) -> bool:
        return self._call("exists", key, lambda: self.inner.exists(key))

    def list(self, prefix: str) -> builtins.list[ArtifactInfo]:
        return self._call("list", prefix, lambda: self.inner.list(prefix))

    def copy(self, src: str, dst: str) -> None:
        self._call("copy", src, lambda: self.inner.copy(src, dst))

    def delete(self, key_or_prefix: str) -> int:
        return self._call("delete", key_or_prefix, lambda: self.inner.delete(key_or_prefix))

    def presigned_url(self, key: str, expires: int = 3600) -> str:
        return self._call("presign", key, lambda: self.inner.presigned_url(key, expires))

    def ping(self) -> None:
        """Not retried: a readiness probe must report the store's state now, quickly."""
        self.inner.ping()


_conforms: type[ArtifactStore] = RetryingArtifactStore
