"""The logs' cache against both artifact backends (a local folder, moto's S3 server): it
fetches only what changed, and trusts what it fetched once a trial had ended."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from onegin.artifacts import ArtifactStore, open_artifact_store, tensorboard_prefix
from onegin.tensorboard.cache import LogCache, Synced, cache_root

JOB = "0123456789ab"
LOGS = {"train/events.out.tfevents.1.host.1.0.v2": b"train epochs",
        "validation/events.out.tfevents.1.host.1.1.v2": b"validation epochs"}


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ArtifactStore:
    if request.param == "local":
        return open_artifact_store(f"file://{tmp_path}/store")
    request.getfixturevalue("s3_credentials")
    return open_artifact_store(f"s3://onegin-cache-{uuid.uuid4().hex[:8]}/runs",
                               endpoint_url=request.getfixturevalue("s3_endpoint"))


def put(store: ArtifactStore, number: int, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        store.put_bytes(tensorboard_prefix(JOB, number) + name, data)


def contents(folder: Path | None) -> dict[str, bytes]:
    assert folder is not None
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in folder.rglob("*") if p.is_file()}


def test_a_running_trial_is_fetched_again_only_where_it_changed(store: ArtifactStore,
                                                                tmp_path: Path) -> None:
    cache = LogCache(tmp_path / "cache", store)
    put(store, 3, LOGS)
    first = cache.sync(JOB, 3, ended=False)
    assert (first.fetched, first.fetched_bytes, first.cached) == (2, 29, 0)
    assert contents(first.folder) == LOGS
    assert cache.sync(JOB, 3, ended=False) == Synced(first.folder, cached=2)

    changed = {"train/events.out.tfevents.1.host.1.0.v2": b"train epochs, and one more",
               "train/events.out.tfevents.2.host.1.0.v2": b"a second file"}
    store.delete(tensorboard_prefix(JOB, 3) + "validation/events.out.tfevents.1.host.1.1.v2")
    put(store, 3, changed)
    again = cache.sync(JOB, 3, ended=False)
    assert (again.fetched, again.cached) == (2, 0)
    assert contents(again.folder) == changed

    (tmp_path / "cache" / JOB / "3" / "logs" / "train" / "events.out.tfevents.2.host.1.0.v2"
     ).unlink()  # a file gone from the cache is fetched again
    assert cache.sync(JOB, 3, ended=False).fetched == 1


def test_an_ended_trials_logs_are_final(store: ArtifactStore, tmp_path: Path) -> None:
    cache = LogCache(tmp_path / "cache", store)
    put(store, 0, LOGS)
    assert cache.sync(JOB, 0, ended=True).fetched == 2
    store.delete(tensorboard_prefix(JOB, 0))  # the store is not asked again
    kept = cache.sync(JOB, 0, ended=True)
    assert (kept.fetched, kept.cached) == (0, 2) and contents(kept.folder) == LOGS


def test_a_trial_without_logs_is_looked_for_until_it_ends(store: ArtifactStore,
                                                          tmp_path: Path) -> None:
    cache = LogCache(tmp_path / "cache", store)
    assert cache.sync(JOB, 1, ended=False) == Synced(None)
    put(store, 1, LOGS)
    assert cache.sync(JOB, 1, ended=True).fetched == 2
    assert cache.sync(JOB, 2, ended=True) == Synced(None)
    put(store, 2, LOGS)  # too late: it had ended without logs
    assert cache.sync(JOB, 2, ended=True) == Synced(None)


def test_each_store_has_a_cache_of_its_own(tmp_path: Path) -> None:
    local = cache_root(tmp_path, "file:///data/artifacts", None)
    assert local.parent == tmp_path / "tensorboard"
    assert local != cache_root(tmp_path, "s3://bucket/runs", None)
    assert cache_root(tmp_path, "s3://bucket/runs", "http://minio:9000") != \
        cache_root(tmp_path, "s3://bucket/runs", "http://other:9000")
