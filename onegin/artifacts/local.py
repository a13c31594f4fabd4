"""Artifacts in a local folder: the embedded backend, laid out exactly like the keys.

``<root>/<key>`` holds the bytes (so a person can browse a job's outputs) and
``<root>/.onegin-meta/<key>.json`` the sha256 and content type recorded at
write time. Keys whose segments start with ``.onegin-`` are reserved for that
and for temp files. Every path is resolved and must stay inside the root, so a
symlink planted in the tree cannot leak or overwrite files outside it.
"""

from __future__ import annotations

import builtins
import contextlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from onegin.artifacts.errors import (
    ArtifactAccessDenied,
    ArtifactCorrupted,
    ArtifactError,
    ArtifactNotFound,
    ArtifactStoreUnavailable,
    InvalidArtifactKey,
)
from onegin.artifacts.files import (
    atomic_replace,
    read_chunks,
    sha256_hex,
    write_chunks,
)
from onegin.artifacts.keys import (
    as_prefix,
    content_type_of,
    plan_copy,
    validate_key,
    validate_prefix,
)
from onegin.artifacts.protocol import ArtifactInfo, ArtifactStore
from onegin.artifacts.retry import TRANSIENT_ERRNOS

META_DIR = ".onegin-meta"
_RESERVED = ".onegin-"


@dataclass(frozen=True)
class _Meta:
    sha256: str
    content_type: str


class LocalArtifactStore:
    """An ``ArtifactStore`` in the folder ``root`` (created on first write)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).expanduser().resolve()
        self._meta_root = self.root / META_DIR

    # -- writes ---------------------------------------------------------------

    def put_bytes(
        self, key: str, data: bytes, *, content_type: str | None = None
    ) -> ArtifactInfo:
        path, rel = self._resolve(key)
        meta = _Meta(sha256_hex(data), content_type or content_type_of(key))
        with _translate(key, writing=True):
            with atomic_replace(path) as out:
                out.write(data)
            self._write_meta(rel, meta)
            return self._info(key, path, meta.sha256)

    def put_file(
        self, key: str, path: str | Path, *, content_type: str | None = None
    ) -> ArtifactInfo:
        target, rel = self._resolve(key)
        with Path(path).open("rb") as src, _translate(key, writing=True):
            with atomic_replace(target) as out:
                _, digest = write_chunks(read_chunks(src), out)
            self._write_meta(rel, _Meta(digest, content_type or content_type_of(key)))
            return self._info(key, target, digest)

    def copy(self, src: str, dst: str) -> None:
        """Streams through a verified copy, so a corrupted trial never becomes "best"."""
        for old, new in plan_copy(src, dst, self._keys_under):
            self._copy_key(old, new)

    def delete(self, key_or_prefix: str) -> int:
        if key_or_prefix.endswith("/"):
            validate_prefix(key_or_prefix)
            return sum(self._delete_key(info.key) for info in self.list(key_or_prefix))
        return self._delete_key(key_or_prefix)

    # -- reads ----------------------------------------------------------------

    def get_bytes(self, key: str) -> bytes:
        path, rel = self._resolve(key)
        with _translate(key):
            for attempt in range(2):
                meta = self._read_meta(rel)
                data = path.read_bytes()
                actual = sha256_hex(data)
                if meta is None or meta.sha256 == actual:
                    return data
                if attempt == 0:
                    continue  # a writer may have renamed data and meta between our reads
                raise ArtifactCorrupted(key, meta.sha256, actual)
        raise AssertionError("unreachable")

    def get_file(self, key: str, path: str | Path) -> None:
        source, rel = self._resolve(key)
        with _translate(key):
            for attempt in range(2):
                meta = self._read_meta(rel)
                try:
                    with source.open("rb") as src, atomic_replace(Path(path)) as out:
                        _, actual = write_chunks(read_chunks(src), out)
                        if meta is not None and meta.sha256 != actual:
                            raise ArtifactCorrupted(key, meta.sha256, actual)
                    return
                except ArtifactCorrupted:
                    if attempt == 1:
                        raise

    def open(self, key: str) -> BinaryIO:
        path, _ = self._resolve(key)
        with _translate(key):
            return path.open("rb")

    def exists(self, key: str) -> bool:
        path, _ = self._resolve(key)
        return path.is_file()

    def list(self, prefix: str) -> builtins.list[ArtifactInfo]:
        prefix = as_prefix(prefix)
        folder = self._folder(prefix)
        infos: builtins.list[ArtifactInfo] = []
        with _translate(prefix):
            for dirpath, dirnames, filenames in os.walk(folder):
                here = Path(dirpath)
                dirnames[:] = [d for d in dirnames if not d.startswith(_RESERVED)]
                for name in filenames:
                    file = here / name
                    if name.startswith(_RESERVED) or file.is_symlink():
                        continue
                    key = prefix + file.relative_to(folder).as_posix()
                    meta = self._read_meta(file.relative_to(self.root).as_posix())
                    infos.append(self._info(key, file, meta.sha256 if meta else None))
        return sorted(infos, key=lambda info: info.key)

    def presigned_url(self, key: str, expires: int = 3600) -> str:
        """A ``file://`` URL; ``expires`` has no meaning for a local folder."""
        path, _ = self._resolve(key)
        return path.as_uri()

    def ping(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ArtifactStoreUnavailable(f"artifact folder {self.root}: {exc}") from exc
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise ArtifactStoreUnavailable(f"artifact folder {self.root} is not writable")

    # -- internals ------------------------------------------------------------

    def _resolve(self, key: str) -> tuple[Path, str]:
        """The real path of ``key`` and its root-relative form, refusing escapes."""
        validate_key(key)
        path = (self.root / key).resolve()
        if path == self.root or not path.is_relative_to(self.root):
            raise InvalidArtifactKey(key, "resolves outside the artifact folder (symlink)")
        rel = path.relative_to(self.root).as_posix()
        if any(part.startswith(_RESERVED) for part in (*key.split("/"), *rel.split("/"))):
            raise InvalidArtifactKey(key, f"uses a name reserved by the store ({_RESERVED}…)")
        return path, rel

    def _folder(self, prefix: str) -> Path:
        if prefix == "":
            return self.root
        folder = (self.root / prefix).resolve()
        rel = folder.relative_to(self.root).as_posix() if folder.is_relative_to(self.root) else ""
        if folder == self.root or not rel or rel.split("/")[0] == META_DIR:
            raise InvalidArtifactKey(prefix, "resolves outside the artifact folder (symlink)")
        return folder

    def _keys_under(self, prefix: str) -> builtins.list[str]:
        return [info.key for info in self.list(prefix)]

    def _copy_key(self, src: str, dst: str) -> None:
        source, src_rel = self._resolve(src)
        target, dst_rel = self._resolve(dst)
        with _translate(src):
            meta = self._read_meta(src_rel)
            with source.open("rb") as reader, atomic_replace(target) as out:
                _, actual = write_chunks(read_chunks(reader), out)
                if meta is not None and meta.sha256 != actual:
                    raise ArtifactCorrupted(src, meta.sha256, actual)  # never spread bad bytes
            self._write_meta(dst_rel, meta or _Meta(actual, content_type_of(dst)))

    def _delete_key(self, key: str) -> int:
        path, rel = self._resolve(key)
        with _translate(key, writing=True):
            try:
                path.unlink()
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                return 0
            finally:
                self._meta_path(rel).unlink(missing_ok=True)
            _prune(path.parent, self.root)
            _prune(self._meta_path(rel).parent, self._meta_root)
            return 1

    def _meta_path(self, rel: str) -> Path:
        return self._meta_root / f"{rel}.json"

    def _write_meta(self, rel: str, meta: _Meta) -> None:
        record = {"sha256": meta.sha256, "content_type": meta.content_type}
        with atomic_replace(self._meta_path(rel)) as out:
            out.write(json.dumps(record).encode())

    def _read_meta(self, rel: str) -> _Meta | None:
        """The recorded metadata, or None for a file placed here by hand (not verifiable)."""
        try:
            record = json.loads(self._meta_path(rel).read_bytes())
        except FileNotFoundError:
            return None
        return _Meta(str(record["sha256"]), str(record["content_type"]))

    def _info(self, key: str, path: Path, sha256: str | None) -> ArtifactInfo:
        stat = path.stat()
        modified = datetime.fromtimestamp(stat.st_mtime, tz=UTC)
        return ArtifactInfo(key=key, size=stat.st_size, sha256=sha256, modified=modified)


def _prune(directory: Path, stop: Path) -> None:
    """Remove empty folders from ``directory`` up to (not including) ``stop``."""
    while directory != stop and directory.is_relative_to(stop):
        try:
            directory.rmdir()
        except OSError:
            return
        directory = directory.parent


@contextlib.contextmanager
def _translate(key: str, *, writing: bool = False) -> Iterator[None]:
    """Turn ``OSError`` into the artifact error kinds that say whether to retry."""
    try:
        yield
    except ArtifactError:
        raise
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
        if writing:
            raise ArtifactError(f"cannot write {key!r}: {exc.strerror}") from exc
        raise ArtifactNotFound(key) from exc
    except PermissionError as exc:
        raise ArtifactAccessDenied(f"{key!r}: {exc}") from exc
    except OSError as exc:
        if exc.errno in TRANSIENT_ERRNOS:
            raise ArtifactStoreUnavailable(f"{key!r}: {exc}") from exc
        raise ArtifactError(f"{key!r}: {exc}") from exc


_conforms: type[ArtifactStore] = LocalArtifactStore
