"""Uploaded datasets in the artifact store: add (staged, then committed), list, get, delete.

The store is the catalogue, so a GPU worker on another machine, which has only the
broker and the artifact store, finds an upload's facts and data where the web app
put them. An upload lives under ``datasets/<id>/``: its data, its preview PNGs and,
written last, ``manifest.json``. Everything is first written under
``datasets-staging/<id>/`` and copied into place; an upload without a manifest is
not listed, and a failed one is removed, so nothing half-stored is ever seen.
Listing reads every manifest: enough for the uploads of one deployment's users.
"""

from __future__ import annotations

import builtins
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from onegin.artifacts import ArtifactNotFound, ArtifactStore
from onegin.errors import ConfigError
from onegin.uploads.checked import CheckedUpload, UploadKind

PREFIX = "datasets/"
STAGING = "datasets-staging/"
MANIFEST = "manifest.json"
UPLOAD_SCHEME = "upload"
UPLOAD_ID = re.compile(r"[0-9a-f]{16}")
MAX_NAME = 200


@dataclass(frozen=True)
class UploadedDataset:
    """An upload's manifest: who owns it and what it holds."""

    id: str
    name: str
    owner: str | None  # the token id; None: the local user of an open server or the CLI
    kind: UploadKind
    file: str
    sha256: str
    bytes: int
    classes: Mapping[str, int]
    created_at: str
    preview_labels: tuple[str, ...] = ()  # the class of preview/<n>.png
    preview_lines: tuple[tuple[str, str], ...] = field(default=())

    @property
    def dataset(self) -> str:
        """How a job names it."""
        return f"{UPLOAD_SCHEME}:{self.id}"

    @property
    def samples(self) -> int:
        return sum(self.classes.values())

    def visible_to(self, owner: str | None) -> bool:
        """Like jobs: a token sees its own; the local user (no token) sees every upload."""
        return owner is None or self.owner == owner

    def to_json(self) -> builtins.bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: builtins.bytes) -> UploadedDataset:
        data: dict[str, Any] = json.loads(raw)
        data["preview_labels"] = tuple(data.get("preview_labels", ()))
        data["preview_lines"] = tuple(tuple(pair) for pair in data.get("preview_lines", ()))
        return cls(**data)


def upload_prefix(upload_id: str) -> str:
    return f"{PREFIX}{check_id(upload_id)}/"


def preview_key(upload_id: str, number: int) -> str:
    return f"{upload_prefix(upload_id)}preview/{number}.png"


def check_id(upload_id: str) -> str:
    """An id this catalogue could have made (others are not looked up)."""
    if not isinstance(upload_id, str) or not UPLOAD_ID.fullmatch(upload_id):
        raise ConfigError("dataset", f"{upload_id!r} is not an upload id (16 hex digits)")
    return upload_id


def check_name(name: Any) -> str:
    if (not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME
            or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in name)):
        raise ConfigError("name", f"must be 1 to {MAX_NAME} characters without control "
                                  "characters")
    return name.strip()


def add(store: ArtifactStore, checked: CheckedUpload, *, name: str,
        owner: str | None) -> UploadedDataset:
    """Store a checked upload under a fresh id: all of it, or nothing if any write fails."""
    from onegin.artifacts.files import sha256_hex

    upload_id = secrets.token_hex(8)
    staging = f"{STAGING}{upload_id}/"
    final = upload_prefix(upload_id)
    dataset = UploadedDataset(
        id=upload_id, name=check_name(name), owner=owner, kind=checked.kind,
        file=checked.file_name, sha256=sha256_hex(checked.data), bytes=len(checked.data),
        classes=dict(checked.class_counts), created_at=datetime.now(UTC).isoformat(),
        preview_labels=tuple(p.label for p in checked.preview_images),
        preview_lines=checked.preview_lines,
    )
    try:
        store.put_bytes(staging + checked.file_name, checked.data)
        for number, image in enumerate(checked.preview_images):
            store.put_bytes(f"{staging}preview/{number}.png", image.png)
        store.copy(staging, final)
        store.put_bytes(final + MANIFEST, dataset.to_json(), content_type="application/json")
    except BaseException:
        store.delete(final)
        raise
    finally:
        store.delete(staging)
    return dataset


def find(store: ArtifactStore, upload_id: str) -> UploadedDataset | None:
    """The committed upload with this id, whoever owns it (None: no such upload)."""
    try:
        return UploadedDataset.from_json(store.get_bytes(upload_prefix(upload_id) + MANIFEST))
    except ArtifactNotFound:
        return None


def get(store: ArtifactStore, upload_id: str, owner: str | None) -> UploadedDataset | None:
    """The upload if ``owner`` may see it; another's is as missing as one never made."""
    if not UPLOAD_ID.fullmatch(upload_id):
        return None
    found = find(store, upload_id)
    return found if found is not None and found.visible_to(owner) else None


def list_uploads(store: ArtifactStore, owner: str | None) -> list[UploadedDataset]:
    """The uploads ``owner`` may see, newest first."""
    found: list[UploadedDataset] = []
    for info in store.list(PREFIX):
        parts = info.key.split("/")
        if len(parts) == 3 and parts[2] == MANIFEST and UPLOAD_ID.fullmatch(parts[1]):
            try:
                dataset = UploadedDataset.from_json(store.get_bytes(info.key))
            except ArtifactNotFound:
                continue  # deleted meanwhile
            if dataset.visible_to(owner):
                found.append(dataset)
    return sorted(found, key=lambda d: d.created_at, reverse=True)


def bytes_used(store: ArtifactStore, owner: str | None) -> int:
    """What counts against ``owner``'s quota: the stored data of its own uploads."""
    return sum(d.bytes for d in list_uploads(store, owner) if d.owner == owner)


def delete(store: ArtifactStore, dataset: UploadedDataset) -> None:
    """Remove an upload: the manifest first, so it is never listed half-deleted."""
    prefix = upload_prefix(dataset.id)
    store.delete(prefix + MANIFEST)
    store.delete(prefix)
