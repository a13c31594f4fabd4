"""A mirror of trials' TensorBoard logs on this machine, fetched only where it changed.

One folder per artifact store (its URL hashed) and job, one per trial inside:
``<home>/tensorboard/<store>/<job_id>/<n>/logs/…`` holds the files, ``manifest.json``
beside it each file's size, sha256 and modification time as the store listed them. A
sync lists the trial's logs and downloads only the files whose entry changed; once a
trial has ended its logs are final, so a manifest written after it ended is trusted
without asking the store again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from onegin.artifacts import ArtifactInfo, ArtifactStore, tensorboard_prefix, validate_key
from onegin.artifacts.files import atomic_replace

MANIFEST = "manifest.json"
LOGS = "logs"


@dataclass(frozen=True)
class Synced:
    """One trial after a sync: where its logs are (None: it has none), and how many files
    were downloaded now (and their bytes) or found already here."""

    folder: Path | None
    fetched: int = 0
    fetched_bytes: int = 0
    cached: int = 0


def cache_root(home: Path, artifacts_url: str, endpoint_url: str | None) -> Path:
    """The cache of one artifact store: two stores may hold jobs of the same id."""
    store = hashlib.sha256(f"{artifacts_url} {endpoint_url or ''}".encode()).hexdigest()
    return home / "tensorboard" / store[:16]


def fingerprint(info: ArtifactInfo) -> str:
    """What tells a changed object from the one fetched before, as far as the store says."""
    modified = info.modified.isoformat() if info.modified else ""
    return f"{info.size}:{info.sha256 or ''}:{modified}"


class LogCache:
    """Trials' logs under ``root`` (see `cache_root`), fetched from ``store``."""

    def __init__(self, root: Path, store: ArtifactStore) -> None:
        self.root = root
        self.store = store

    def trial_folder(self, job_id: str, number: int) -> Path:
        return self.root / job_id / str(number)

    def sync(self, job_id: str, number: int, *, ended: bool) -> Synced:
        """Bring one trial's logs up to date; ``ended``: the trial is terminal, so what
        is stored now is final and the next sync needs no look at the store."""
        folder = self.trial_folder(job_id, number)
        logs = folder / LOGS
        known = _read_manifest(folder / MANIFEST)
        if known.get("final"):
            files = known.get("files", {})
            return Synced(logs if files else None, cached=len(files))
        prefix = tensorboard_prefix(job_id, number)
        listed = {validate_key(info.key[len(prefix):]): info
                  for info in self.store.list(prefix)}
        files = {name: fingerprint(info) for name, info in listed.items()}
        old = known.get("files", {})
        fetched = [name for name, print_ in files.items()
                   if old.get(name) != print_ or not (logs / name).is_file()]
        for name in fetched:
            self.store.get_file(prefix + name, logs / name)
        for name in set(old) - set(files):
            (logs / name).unlink(missing_ok=True)
        _write_manifest(folder / MANIFEST, {"files": files, "final": ended})
        return Synced(logs if files else None, fetched=len(fetched),
                      fetched_bytes=sum(listed[name].size for name in fetched),
                      cached=len(files) - len(fetched))


def _read_manifest(path: Path) -> dict[str, Any]:
    """The manifest, or nothing known (none yet, or unreadable: then everything is fetched)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) and isinstance(data.get("files"), dict) else {}


def _write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    with atomic_replace(path) as out:
        out.write(json.dumps(manifest, indent=1, sort_keys=True).encode())
