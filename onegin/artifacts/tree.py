"""Push a local folder (a trial's outputs) into any artifact store."""

from __future__ import annotations

import os
from pathlib import Path

from onegin.artifacts.files import TEMP_PREFIX
from onegin.artifacts.keys import content_type_of, validate_key, validate_prefix
from onegin.artifacts.protocol import ArtifactInfo, ArtifactStore


def put_tree(store: ArtifactStore, local_dir: Path, prefix: str) -> list[ArtifactInfo]:
    """Upload every regular file under ``local_dir`` (a trial's output folder) to
    ``prefix`` + its relative path, in key order; returns what was stored.

    Symlinks are skipped so an output folder cannot smuggle in files from
    elsewhere on the worker; leftover temp files from an atomic write too.
    """
    validate_prefix(prefix)
    root = Path(local_dir)
    if not root.is_dir():
        raise NotADirectoryError(f"not a folder: {root}")
    keys: dict[str, Path] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames.sort()
        for name in filenames:
            file = here / name
            if file.is_symlink() or name.startswith(TEMP_PREFIX) or not file.is_file():
                continue
            keys[validate_key(prefix + file.relative_to(root).as_posix())] = file
    return [
        store.put_file(key, keys[key], content_type=content_type_of(key))
        for key in sorted(keys)
    ]
