"""A size-rotated log file that a Celery worker and its forked pool children share.

Plain `RotatingFileHandler` assumes one writer: with a main process and pool
children appending to one file, each would rotate on its own and rename the
others' fresh files away, and two could both see room for one more line. Here
each record is checked, rotated and written under an exclusive ``flock`` on
``<file>.lock`` (opened per record: a lock on a descriptor inherited across
fork would not exclude the parent), and a process whose file was rotated by
another one (the path now names a different inode) reopens the new file
instead of rotating again. Lines are never torn, lost, or past the size limit.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from logging import LogRecord
from logging.handlers import RotatingFileHandler


class SharedRotatingFileHandler(RotatingFileHandler):
    """Rotates at ``max_bytes`` keeping ``backups`` old files (``file.1`` newest)."""

    def __init__(self, filename: str | os.PathLike[str], max_bytes: int, backups: int) -> None:
        if max_bytes < 1 or backups < 1:
            raise ValueError("max_bytes and backups must both be at least 1")
        super().__init__(filename, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
        self._lock_path = self.baseFilename + ".lock"

    def shouldRollover(self, record: LogRecord) -> bool:
        if self.stream is None or self._replaced():
            self._reopen()
        assert self.stream is not None
        size = self.stream.seek(0, os.SEEK_END)
        # a first line longer than the limit is written, not rotated away forever
        return size > 0 and size + len(self.format(record)) + 1 > self.maxBytes

    def emit(self, record: LogRecord) -> None:
        try:
            with self._exclusive():
                if self.shouldRollover(record):
                    self.doRollover()
                logging.FileHandler.emit(self, record)
        except Exception:
            self.handleError(record)

    def _replaced(self) -> bool:
        """True when the path no longer names the file this handler writes."""
        if self.stream is None:
            return True
        try:
            on_disk = os.stat(self.baseFilename)
        except FileNotFoundError:
            return True
        mine = os.fstat(self.stream.fileno())
        return (on_disk.st_ino, on_disk.st_dev) != (mine.st_ino, mine.st_dev)

    def _reopen(self) -> None:
        if self.stream is not None:
            self.stream.close()
        self.stream = self._open()

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)
