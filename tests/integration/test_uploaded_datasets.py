"""An uploaded dataset trains on a GPU worker that has only the broker and the artifact
store: the upload goes into S3 (moto's server), and a worker in another process fetches
it into its cache, keyed by content hash, before the existing loaders read it."""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from onegin.celery_app import GPU_QUEUE, create_celery
from onegin.job_config import OptimizationConfig
from onegin.services import Services, use_services
from onegin.uploads import catalogue
from onegin.uploads.checked import check_upload
from orchestrator.runner import JobRunner
from orchestrator.tasks import CeleryDispatcher
from tests.fixtures.upload_files import class_zip, labelled_lines
from tests.integration.harness import TINY_MODEL, Process, cluster_settings


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, postgres_url: str, redis_url: str,
            s3_endpoint: str) -> Iterator[tuple[Services, Path]]:
    os.environ.update({"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"})
    home = tmp_path_factory.mktemp("uploads-cluster")
    settings = cluster_settings(home, postgres_url, redis_url, s3_endpoint,
                                f"onegin-{uuid.uuid4().hex[:8]}")
    services = Services(settings)
    use_services(services)
    from onegin.records.migrate import upgrade

    upgrade(settings.database_url)
    worker = Process(settings, GPU_QUEUE, f"gpu-up-{uuid.uuid4().hex[:4]}", home / "gpu.log")
    yield services, settings.upload_cache_dir
    worker.kill(signal.SIGTERM)


def train_on(services: Services, data: bytes, **config: object) -> tuple[str, str]:
    checked = check_upload(data, max_unpacked_bytes=10**8)
    upload = catalogue.add(services.artifacts, checked, name="mine", owner=None)
    job_config = OptimizationConfig.from_dict({
        "dataset": upload.dataset, "trials": 1, "concurrency": 1, "epochs": 1,
        "pruner": "none", "hopeless_stop": False, "plot_mode": "none", **config})
    job = services.records.create_job(job_config.to_dict())
    runner = JobRunner(job.id, services, CeleryDispatcher(create_celery(services.settings)))
    assert runner.run().status == "completed", services.records.get_job(job.id).error
    return job.id, upload.sha256


@pytest.mark.timeout(600)
def test_a_job_trains_on_an_uploaded_image_zip_fetched_from_s3(
        cluster: tuple[Services, Path]) -> None:
    services, cache = cluster
    job_id, sha256 = train_on(services, class_zip(per_class=40), params=TINY_MODEL)
    [trial], _ = services.records.list_trials(job_id)
    assert trial.status == "completed", trial.error
    summary = trial.metrics["dataset"]
    assert summary["class_names"] == ["blue", "red"] and summary["input_shape"] == [32, 32, 3]
    assert summary["source"].startswith("upload:")
    assert sum(summary["splits"].values()) == 80
    assert (cache / sha256 / "images" / "red").is_dir()  # the worker's cache, by content


@pytest.mark.timeout(600)
def test_a_job_trains_on_an_uploaded_text_file_fetched_from_s3(
        cluster: tuple[Services, Path]) -> None:
    services, cache = cluster
    job_id, sha256 = train_on(services, labelled_lines(per_class=60))
    [trial], _ = services.records.list_trials(job_id)
    assert trial.status == "completed", trial.error
    summary = trial.metrics["dataset"]
    assert summary["class_names"] == ["ham", "spam"] and summary["input_shape"] == [64]
    assert (cache / sha256 / "data.tsv").is_file()
