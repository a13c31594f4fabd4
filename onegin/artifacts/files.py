"""Local file plumbing shared by the backends: hashing copies and atomic replacement."""

from __future__ import annotations

import contextlib
import hashlib
import os
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

CHUNK = 1 << 20
TEMP_PREFIX = ".onegin-tmp-"  # never a valid local key segment, so listings can skip it


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def hash_file(path: Path) -> tuple[int, str]:
    """Size and sha256 of a file, read in chunks (models can be large)."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as src:
        while chunk := src.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def write_chunks(chunks: Iterable[bytes], dst: BinaryIO) -> tuple[int, str]:
    """Write ``chunks`` to ``dst`` and return the size and sha256 of what was written."""
    digest = hashlib.sha256()
    size = 0
    for chunk in chunks:
        digest.update(chunk)
        dst.write(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


def read_chunks(src: BinaryIO) -> Iterator[bytes]:
    while chunk := src.read(CHUNK):
        yield chunk


@contextlib.contextmanager
def atomic_replace(target: Path) -> Iterator[BinaryIO]:
    """Yield a temp file beside ``target``; on a clean exit fsync it and rename it over
    ``target``, so a reader sees the old file or the whole new one, never half. An
    exception inside the block leaves ``target`` untouched and removes the temp file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f"{TEMP_PREFIX}{uuid.uuid4().hex}")
    try:
        with temp.open("xb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable; some filesystems refuse, which is harmless."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
