"""The one contract every artifact backend meets (local folder, S3/MinIO, wrappers).

Keys are relative POSIX paths (see ``validate_key``); a *prefix* is a folder
ending in ``/``. Writes record a sha256 that reads verify, so a truncated or
tampered model is an ``ArtifactCorrupted``, never a silently wrong download.
Implementations must be safe to call from several threads.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Protocol


@dataclass(frozen=True, slots=True)
class ArtifactInfo:
    """One stored object. ``sha256``/``modified`` are None where the backend cannot tell
    cheaply (S3 listings carry no user metadata; S3 puts return no timestamp)."""

    key: str
    size: int
    sha256: str | None
    modified: datetime | None


class ArtifactStore(Protocol):
    """Where trials' outputs live; raises only ``onegin.artifacts.errors`` kinds."""

    def put_bytes(
        self, key: str, data: bytes, *, content_type: str | None = None
    ) -> ArtifactInfo:
        """Store ``data`` at ``key`` (replacing it); readers never see a partial write."""
        ...

    def put_file(
        self, key: str, path: str | Path, *, content_type: str | None = None
    ) -> ArtifactInfo:
        """Store a local file at ``key``, streamed (multipart on S3 for large files)."""
        ...

    def get_bytes(self, key: str) -> bytes:
        """Read the object whole and verify its sha256 (``ArtifactCorrupted`` if off)."""
        ...

    def get_file(self, key: str, path: str | Path) -> None:
        """Stream the object to ``path`` and verify it; ``path`` is replaced only if intact."""
        ...

    def open(self, key: str) -> BinaryIO:
        """A streaming reader for web downloads. Not verified (the hash is known only
        after the last byte); use ``get_file``/``get_bytes`` where integrity matters."""
        ...

    def exists(self, key: str) -> bool:
        """Whether an object is stored at exactly ``key``."""
        ...

    def list(self, prefix: str) -> builtins.list[ArtifactInfo]:
        """Every object under the folder ``prefix`` (``""`` = all), recursive, sorted by key."""
        ...

    def copy(self, src: str, dst: str) -> None:
        """Copy a key to a key, or every object under prefix ``src`` to prefix ``dst``.

        Existing objects at the destination are overwritten, others left alone.
        """
        ...

    def delete(self, key_or_prefix: str) -> int:
        """Remove a key, or everything under a prefix ending in ``/``; returns the count
        removed (0 if nothing was there, so a retried delete is harmless)."""
        ...

    def presigned_url(self, key: str, expires: int = 3600) -> str:
        """A URL that fetches the object without credentials (``file://`` for a folder)."""
        ...

    def ping(self) -> None:
        """Readiness: return if the store is usable, else raise ``ArtifactStoreUnavailable``."""
        ...
