"""Embedded event bus: one JSON-lines file per job under a folder, no servers.

Several local processes append at once: each publish is one line written under
an exclusive ``flock``. Readers take only complete lines, so a line being
written (or left half-written by a crashed writer) is never returned. The
cursor is the byte offset after the last line read. Writes reach the page
cache, which survives a process crash (not a power cut: no fsync per event).
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from onegin.events.protocol import EventBus
from onegin.events.schema import check_job_id, encode_event, parse_event

log = logging.getLogger(__name__)

_CHUNK = 256 * 1024


class LocalEventBus:
    """EventBus over files in ``root``; ``read`` waits by polling the file size."""

    def __init__(self, root: str | os.PathLike[str], *, poll_interval: float = 0.02) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._poll_interval = poll_interval

    def publish(self, event: Mapping[str, Any]) -> None:
        event = parse_event(event)
        line = (encode_event(event) + "\n").encode()
        flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
        fd = os.open(self._path(event["job_id"]), flags, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = b"\n" + line  # a writer died mid-line: fence its fragment off
            view = memoryview(line)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)  # also releases the lock

    def read(self, job_id: str, cursor: str | None = None, *, timeout: float = 0.0,
             limit: int = 1000) -> tuple[list[dict[str, Any]], str]:
        path = self._path(job_id)
        offset = _offset(cursor)
        deadline = time.monotonic() + timeout
        while True:
            if _size(path) != offset:
                events, offset = _read_lines(path, offset, max(1, limit))
                if events:
                    return events, str(offset)
            if time.monotonic() >= deadline:
                return [], str(offset)
            time.sleep(self._poll_interval)

    def delete(self, job_id: str) -> None:
        self._path(job_id).unlink(missing_ok=True)

    def ping(self) -> None:
        if not (self.root.is_dir() and os.access(self.root, os.W_OK | os.X_OK)):
            raise ConnectionError(f"event folder {self.root} is missing or not writable")

    def close(self) -> None:
        """Nothing to release: every call opens and closes its own file."""

    def _path(self, job_id: str) -> Path:
        return self.root / f"{check_job_id(job_id)}.jsonl"


def _offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    if not cursor.isdigit():
        raise ValueError(f"cursor {cursor!r} is not a local event-bus cursor (a byte offset)")
    return int(cursor)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _read_lines(path: Path, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """Parse up to ``limit`` complete lines from ``offset``; return them and the new offset."""
    try:
        file = path.open("rb")
    except FileNotFoundError:
        return [], offset
    events: list[dict[str, Any]] = []
    with file:
        if offset > os.fstat(file.fileno()).st_size:
            offset = 0  # the log was deleted and started again
        file.seek(offset)
        pending = b""
        while len(events) < limit:
            chunk = file.read(_CHUNK)
            if not chunk:
                break
            pending += chunk
            start = 0
            while len(events) < limit:
                end = pending.find(b"\n", start)
                if end < 0:
                    break
                _append(events, pending[start:end], path, offset)
                offset += end + 1 - start
                start = end + 1
            pending = pending[start:]
    return events, offset


def _append(events: list[dict[str, Any]], line: bytes, path: Path, offset: int) -> None:
    if not line.strip():
        return
    try:
        events.append(parse_event(line))
    except ValueError as exc:
        log.warning("skipping invalid event in %s at byte %d: %s", path, offset, exc)


_conforms: type[EventBus] = LocalEventBus  # checked by mypy
