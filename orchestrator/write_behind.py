"""The study and record writes a job's runner owes, done after dispatch, oldest first.

Telling the study and writing a record take milliseconds each. When many workers
finish together, each freed worker gets its next trial first and these writes
follow in order, one per turn of the runner's loop. Writes of one trial's record
are merged while they wait, so a burst costs one write per trial. A write cut short
by an outage stays queued until it goes through.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from functools import partial
from typing import Any

from onegin.outages import outage_kind
from onegin.records import RecordStore

log = logging.getLogger(__name__)


class WriteBehind:
    """A FIFO of pending writes for one job's study and trial records."""

    def __init__(self, records: RecordStore, job_id: str) -> None:
        self._records = records
        self._job_id = job_id
        self._writes: deque[Callable[[], Any]] = deque()
        self._unwritten: dict[int, dict[str, Any]] = {}  # trial -> record fields queued

    def __bool__(self) -> bool:
        return bool(self._writes)

    def __len__(self) -> int:
        return len(self._writes)

    def later(self, write: Callable[[], Any]) -> None:
        """Queue any write (a study call, an outcome to settle)."""
        self._writes.append(write)

    def record_later(self, number: int, **fields: Any) -> None:
        """Queue a write of the trial's record, merged into one still queued for it.

        The newest value of each field wins, as it would have written last.
        """
        waiting = self._unwritten.get(number)
        if waiting is not None:
            waiting.update(fields)
            return
        self._unwritten[number] = dict(fields)
        self._writes.append(partial(self.write_record, number))

    def write_record(self, number: int, **fields: Any) -> None:
        """Write the trial's record now, with any fields still queued for it."""
        merged = self._unwritten.get(number, {}) | fields
        if merged:
            self._records.upsert_trial(self._job_id, number, **merged)
        self._unwritten.pop(number, None)  # once written: an outage keeps the fields queued

    def write_next(self) -> None:
        """Do the oldest pending write; it leaves the queue only once done."""
        if self._writes:
            self._writes[0]()
            self._writes.popleft()

    def write_all(self) -> None:
        """Do every pending write, so a write made now lands after them."""
        while self._writes:
            self.write_next()

    def write_through_outage(self) -> None:
        """Before reopening the job: every write that can still be made.

        One still held up by an outage raises (try again after a wait); one that
        fails for another reason is dropped, since reopening rebuilds what it meant
        (a trial's result from the control store, its record from the study).
        """
        while self._writes:
            try:
                self._writes[0]()
            except Exception as exc:
                if outage_kind(exc) is not None:
                    raise
                log.warning("job %s: pending write dropped (%r); rebuilt from the records",
                            self._job_id, exc)
            self._writes.popleft()

    def forget(self) -> None:
        """Drop every pending write (the job is reopened from the records)."""
        self._writes.clear()
        self._unwritten.clear()
