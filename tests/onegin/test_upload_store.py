"""Uploads in the artifact store, on a local folder and on S3 (moto's server): committed
whole or not at all, seen only by their owner, fetched by a worker into its cache."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from gpu_worker.datasets.offline import read_image_folder
from gpu_worker.datasets.uploads import fetch_upload
from onegin.artifacts import ArtifactStore, open_artifact_store
from onegin.artifacts.errors import ArtifactStoreUnavailable
from onegin.dataset_files import read_labelled_text
from onegin.uploads import catalogue
from onegin.uploads.checked import check_upload
from tests.fixtures.upload_files import class_zip, labelled_lines

LIMIT = 10_000_000


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ArtifactStore:
    if request.param == "local":
        return open_artifact_store(f"file://{tmp_path}/artifacts")
    request.getfixturevalue("s3_credentials")
    endpoint = request.getfixturevalue("s3_endpoint")
    return open_artifact_store(f"s3://onegin-up-{uuid.uuid4().hex[:12]}/p",
                               endpoint_url=endpoint)


def test_an_upload_is_listed_with_its_classes_only_for_its_owner(store: ArtifactStore) -> None:
    checked = check_upload(class_zip(per_class=3), max_unpacked_bytes=LIMIT)
    mine = catalogue.add(store, checked, name="colours", owner="tok-a")
    assert [d.id for d in catalogue.list_uploads(store, "tok-a")] == [mine.id]
    assert catalogue.list_uploads(store, "tok-b") == []
    assert catalogue.get(store, mine.id, "tok-b") is None
    assert catalogue.get(store, mine.id, None) == mine  # the local user sees every upload
    found = catalogue.get(store, mine.id, "tok-a")
    assert found is not None and found.classes == {"blue": 3, "red": 3}
    assert found.bytes == len(checked.data) and catalogue.bytes_used(store, "tok-a") == found.bytes
    assert catalogue.bytes_used(store, "tok-b") == 0
    keys = {info.key for info in store.list("")}
    assert keys == {f"datasets/{mine.id}/{name}" for name in
                    ("manifest.json", "data.zip", "preview/0.png", "preview/1.png",
                     "preview/2.png", "preview/3.png")}
    catalogue.delete(store, mine)
    assert store.list("") == [] and catalogue.list_uploads(store, None) == []


class _FailingStore:
    """Passes everything through but fails the manifest write: the commit itself."""

    def __init__(self, inner: ArtifactStore) -> None:
        self.inner = inner

    def put_bytes(self, key: str, data: bytes, **kwargs: Any) -> Any:
        if key.endswith("manifest.json"):
            raise ArtifactStoreUnavailable("the store went away")
        return self.inner.put_bytes(key, data, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_failed_upload_leaves_nothing_stored(store: ArtifactStore) -> None:
    checked = check_upload(class_zip(), max_unpacked_bytes=LIMIT)
    with pytest.raises(ArtifactStoreUnavailable):
        catalogue.add(_FailingStore(store), checked, name="x", owner=None)  # type: ignore[arg-type]
    assert store.list("") == []
    assert catalogue.list_uploads(store, None) == []


def test_a_worker_fetches_an_image_upload_into_its_cache_once(
        store: ArtifactStore, tmp_path: Path) -> None:
    checked = check_upload(class_zip(per_class=4), max_unpacked_bytes=LIMIT)
    dataset = catalogue.add(store, checked, name="colours", owner=None)
    cache = tmp_path / "cache"
    local = fetch_upload(store, dataset.id, cache)
    assert local == cache / dataset.sha256 / "images"
    x, y, names = read_image_folder(local, 32)
    assert names == ("blue", "red") and x.shape == (8, 32, 32, 3) and list(y).count(0) == 4
    store.delete(f"datasets/{dataset.id}/data.zip")  # a second fetch must not need the data
    assert fetch_upload(store, dataset.id, cache) == local
    assert [p.name for p in cache.iterdir()] == [dataset.sha256]  # no temp folder left


def test_a_worker_fetches_a_text_upload(store: ArtifactStore, tmp_path: Path) -> None:
    dataset = catalogue.add(store, check_upload(labelled_lines(5), max_unpacked_bytes=LIMIT),
                            name="sms", owner="tok")
    texts, labels, names = read_labelled_text(fetch_upload(store, dataset.id, tmp_path))
    assert names == ("ham", "spam") and len(texts) == 10 and labels.sum() == 5


def test_a_job_cannot_name_a_missing_upload(store: ArtifactStore, tmp_path: Path) -> None:
    from onegin.errors import DatasetUnavailable

    with pytest.raises(DatasetUnavailable, match="no such upload"):
        fetch_upload(store, "0123456789abcdef", tmp_path)
