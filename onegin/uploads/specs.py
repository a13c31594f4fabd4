"""The `DatasetSpec` of an ``upload:<id>`` dataset, from its manifest (cached per process).

`onegin.datasets.get_spec` asks here. An upload never changes once committed, so
a process remembers each spec it has read: the web app puts in the one it checked
the caller's ownership of (`remember`), and the orchestrator and the GPU workers
read the manifest from their own artifact store on first use.
"""

from __future__ import annotations

import threading

from onegin.datasets import IMAGE_SIZE, SEQUENCE_LENGTHS, DatasetSpec
from onegin.errors import DatasetUnavailable
from onegin.uploads.catalogue import UPLOAD_SCHEME, UploadedDataset, check_id, find

_known: dict[str, DatasetSpec] = {}
_lock = threading.Lock()


def spec_for(dataset: UploadedDataset) -> DatasetSpec:
    images = dataset.kind == "images"
    return DatasetSpec(
        name=dataset.dataset,
        title=f"Upload {dataset.name}",
        modality="image" if images else "text",
        num_classes=len(dataset.classes),
        input_shape=(IMAGE_SIZE, IMAGE_SIZE, 3) if images else (SEQUENCE_LENGTHS["tsv"],),
        url=dataset.dataset,
        description=(f"{dataset.samples:,} uploaded "
                     f"{'images' if images else 'texts'} in {len(dataset.classes)} classes"
                     + (", resized to 32x32." if images else ".")),
        samples=dataset.samples,
    )


def remember(dataset: UploadedDataset) -> DatasetSpec:
    spec = spec_for(dataset)
    with _lock:
        _known[dataset.id] = spec
    return spec


def uploaded_spec(upload_id: str) -> DatasetSpec:
    """The spec of ``upload:<upload_id>``; `DatasetUnavailable` if no such upload is stored."""
    check_id(upload_id)
    with _lock:
        spec = _known.get(upload_id)
    if spec is not None:
        return spec
    from onegin.services import get_services

    dataset = find(get_services().artifacts, upload_id)
    if dataset is None:
        raise DatasetUnavailable(f"Dataset '{UPLOAD_SCHEME}:{upload_id}' is unavailable: no "
                                 "such upload in the artifact store (deleted?).")
    return remember(dataset)
