"""Fetch an uploaded dataset from the artifact store into this machine's cache.

The cache is keyed by the content's sha256, so a worker fetches each upload once,
and two uploads of the same content share one copy. A copy appears whole or not
at all: it is fetched (and verified) into a temporary folder beside it and renamed
into place; a worker that loses the race keeps the winner's copy.
"""

from __future__ import annotations

import shutil
import uuid
import zipfile
from pathlib import Path

from onegin.artifacts import ArtifactStore
from onegin.artifacts.files import hash_file
from onegin.errors import DatasetUnavailable
from onegin.uploads.catalogue import find, upload_prefix
from onegin.uploads.image_zip import member_problem

_TEMP = ".fetching-"


def fetch_upload(store: ArtifactStore, upload_id: str, cache_dir: Path) -> Path:
    """The local copy of ``upload:<upload_id>``: a ``label<TAB>text`` file or a folder
    of class folders, ready for `read_labelled_text` / `read_image_folder`."""
    dataset = find(store, upload_id)
    if dataset is None:
        raise DatasetUnavailable(f"Dataset 'upload:{upload_id}' is unavailable: no such "
                                 "upload in the artifact store (deleted?).")
    target = cache_dir / dataset.sha256
    local = target / ("data.tsv" if dataset.kind == "text" else "images")
    if local.exists():
        return local
    temp = cache_dir / f"{_TEMP}{uuid.uuid4().hex}"
    temp.mkdir(parents=True)
    try:
        fetched = temp / dataset.file
        store.get_file(upload_prefix(upload_id) + dataset.file, fetched)
        _, digest = hash_file(fetched)
        if digest != dataset.sha256:
            raise DatasetUnavailable(f"Dataset 'upload:{upload_id}': the fetched data hashes "
                                     f"to {digest}, its manifest says {dataset.sha256}.")
        if dataset.kind == "images":
            _extract(fetched, temp / "images")
            fetched.unlink()
        try:
            temp.rename(target)
        except OSError:
            if not local.exists():  # not another worker's finished copy: a real failure
                raise
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return local


def _extract(archive_path: Path, folder: Path) -> None:
    """Unpack the canonical zip, checking each entry again: the store is not trusted blindly."""
    with zipfile.ZipFile(archive_path) as archive:
        for info in archive.infolist():
            problem = member_problem(info)
            if problem is not None:
                raise DatasetUnavailable(f"{archive_path.name}: {info.filename!r} {problem}.")
        archive.extractall(folder)
