"""Embedded control store: small files under a folder, one directory per job.

Per trial: ``trial-<n>.json`` holds owner, heartbeat, result and abandon
reason, rewritten atomically (temp file + rename) under an exclusive ``flock``
on ``trial-<n>.lock``, so readers never need the lock. Stop flags are files
(``job.stop``, ``trial-<n>.stop``) created with ``link`` so the first reason
sticks and a reader never sees a half-written one; checking them costs two
failed opens when no stop is requested.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from onegin.control.protocol import ClaimOutcome, Clock, ControlStore, check_reason
from onegin.events.schema import check_job_id, check_trial_number


class LocalControlStore:
    """ControlStore over files in ``root``, shared by the local processes."""

    def __init__(self, root: str | os.PathLike[str], *, clock: Clock | None = None) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._clock = clock or time.time

    def claim(self, job_id: str, number: int, owner: str, *, ttl: float) -> ClaimOutcome:
        with self._locked(job_id, number) as path:
            state = _load(path)
            if "result" in state or "abandoned" in state:
                return ClaimOutcome.FINISHED
            now = self._clock()
            holder = state.get("owner")
            if holder is not None and holder != owner and now - state["hb"] <= ttl:
                return ClaimOutcome.HELD
            _store(path, {**state, "owner": owner, "hb": now})
            return ClaimOutcome.ACQUIRED

    def heartbeat(self, job_id: str, number: int, owner: str) -> bool:
        with self._locked(job_id, number) as path:
            state = _load(path)
            if state.get("owner") != owner or "result" in state or "abandoned" in state:
                return False
            _store(path, {**state, "hb": self._clock()})
            return True

    def last_heartbeat(self, job_id: str, number: int) -> tuple[str, float] | None:
        state = _load(self._trial(job_id, number, "json"))
        return (state["owner"], state["hb"]) if "owner" in state else None

    def finish(self, job_id: str, number: int, result: Mapping[str, Any]) -> None:
        with self._locked(job_id, number) as path:
            state = _load(path)
            if "result" not in state:
                _store(path, {**state, "result": dict(result)})

    def result(self, job_id: str, number: int) -> dict[str, Any] | None:
        found: dict[str, Any] | None = _load(self._trial(job_id, number, "json")).get("result")
        return found

    def abandon(self, job_id: str, number: int, reason: str) -> None:
        check_reason(reason)
        with self._locked(job_id, number) as path:
            state = _load(path)
            if "abandoned" not in state:
                _store(path, {**state, "abandoned": reason})

    def release(self, job_id: str, number: int, owner: str) -> bool:
        with self._locked(job_id, number) as path:
            state = _load(path)
            if state.get("owner") != owner or "result" in state or "abandoned" in state:
                return False
            _store(path, {k: v for k, v in state.items() if k not in ("owner", "hb")})
            return True

    def request_stop(self, job_id: str, number: int | None, reason: str) -> None:
        check_reason(reason)
        path = self._job_dir(job_id) / "job.stop" if number is None \
            else self._trial(job_id, number, "stop")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        tmp.write_text(reason, encoding="utf-8")
        try:
            os.link(tmp, path)  # atomic create-if-absent: the first reason sticks
        except FileExistsError:
            pass
        finally:
            tmp.unlink()

    def stop_reason(self, job_id: str, number: int) -> str | None:
        for path in (self._trial(job_id, number, "stop"), self._job_dir(job_id) / "job.stop"):
            try:
                return path.read_text(encoding="utf-8")
            except FileNotFoundError:
                continue
        return None

    def clear_job(self, job_id: str) -> None:
        shutil.rmtree(self._job_dir(job_id), ignore_errors=True)

    def ping(self) -> None:
        if not (self.root.is_dir() and os.access(self.root, os.W_OK | os.X_OK)):
            raise ConnectionError(f"control folder {self.root} is missing or not writable")

    def close(self) -> None:
        """Nothing to release: every call opens and closes its own files."""

    def _job_dir(self, job_id: str) -> Path:
        return self.root / check_job_id(job_id)

    def _trial(self, job_id: str, number: int, suffix: str) -> Path:
        return self._job_dir(job_id) / f"trial-{check_trial_number(number)}.{suffix}"

    @contextmanager
    def _locked(self, job_id: str, number: int) -> Iterator[Path]:
        """Hold the trial's lock; yields the path of its state file."""
        lock = self._trial(job_id, number, "lock")
        lock.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield lock.with_suffix(".json")
        finally:
            os.close(fd)


def _load(path: Path) -> dict[str, Any]:
    try:
        state: dict[str, Any] = json.loads(path.read_bytes())
    except FileNotFoundError:
        return {}
    return state


def _store(path: Path, state: Mapping[str, Any]) -> None:
    """Replace the state file atomically (the caller holds the trial's lock)."""
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(state), encoding="utf-8")
    os.replace(tmp, path)


_conforms: type[ControlStore] = LocalControlStore  # checked by mypy
