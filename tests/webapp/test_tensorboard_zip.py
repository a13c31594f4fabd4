"""The trials' TensorBoard logs as one zip (`GET /jobs/<id>/tensorboard.zip`): a folder
per trial named as `onegin tensorboard` names its runs, the trials chosen, the errors."""

from __future__ import annotations

import io
import uuid
import zipfile

import pytest

from tests.fixtures.tensorboard_logs import event_files, store_logs
from tests.webapp.conftest import Web, WebFactory, body
from tests.webapp.schema import assert_documented

PATH = "/api/v1/jobs/{job_id}/tensorboard.zip"
PARAMS = {0: {"filters": 16, "dropout": 0.25}, 1: {"filters": 32, "dropout": 0.25},
          2: {"filters": 64, "dropout": 0.5}, 3: {"filters": 8, "dropout": 0.5}}


Files = dict[int, dict[str, bytes]]


@pytest.fixture(scope="module")
def files() -> Files:
    return event_files({0: [1.0], 1: [0.8, 0.4], 2: [2.0]})


def logged_job(web: Web, secret: str, files: Files) -> str:
    """A job of 4 trials: 0–2 with logs (2 pruned), 3 failed without."""
    job_id: str = web.submit(secret)["id"]
    for number, status in enumerate(["completed", "completed", "pruned", "failed"]):
        web.records.upsert_trial(job_id, number, status=status, params=PARAMS[number])
    store_logs(web.services.artifacts, job_id, files)
    return job_id


def zip_of(web: Web, secret: str, job_id: str, query: str = "") -> zipfile.ZipFile:
    response = web.client.get(PATH.format(job_id=job_id) + query, headers=web.bearer(secret))
    assert response.status_code == 200, response.get_data()
    assert response.content_type == "application/zip"
    assert response.headers["Content-Disposition"] == \
        f"attachment; filename=onegin-{job_id}-tensorboard.zip"
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    assert archive.testzip() is None
    return archive


def check_logs_zip(web: Web, files: Files) -> None:
    _, secret = web.token()
    job_id = logged_job(web, secret, files)
    whole = zip_of(web, secret, job_id)
    runs = {"trial-000 · dropout=0.25 filters=16": 0, "trial-001 · dropout=0.25 filters=32": 1,
            "trial-002 · dropout=0.5 filters=64": 2}
    assert sorted(whole.namelist()) == sorted(f"{run}/{name}" for run, number in runs.items()
                                              for name in files[number])
    for run, number in runs.items():
        for name, data in files[number].items():
            assert whole.read(f"{run}/{name}") == data

    some = zip_of(web, secret, job_id, "?trials=2,0")
    assert sorted({name.split("/")[0] for name in some.namelist()}) == [
        "trial-000 · dropout=0.25 filters=16", "trial-002 · dropout=0.5 filters=64"]
    one = zip_of(web, secret, job_id, "?trials=1")
    assert {name.split("/")[0] for name in one.namelist()} == {"trial-001"}


def test_logs_zip_on_a_local_folder(web: Web, files: Files) -> None:
    check_logs_zip(web, files)


def test_logs_zip_on_s3(web_factory: WebFactory, s3_endpoint: str, s3_credentials: None,
                        files: Files) -> None:
    check_logs_zip(web_factory(artifacts_url=f"s3://onegin-tb-{uuid.uuid4().hex[:8]}/runs",
                               s3_endpoint_url=s3_endpoint), files)


@pytest.mark.parametrize(("query", "status", "error"), [
    ("?trials=1,7,9", 404, "job {job} has no trial 7, 9 (its trials are 0–3)"),
    ("?trials=1;2", 422, {"trials": "must be trial numbers separated by commas, e.g. 1,4,7; "
                                    "got '1;2'"}),
    ("?trials=", 422, {"trials": "must be trial numbers separated by commas, e.g. 1,4,7; "
                                 "got ''"}),
    ("?trials=1,3", 404, "no TensorBoard logs for trial 3 (failed)"),
])
def test_bad_choices_are_named(web: Web, files: Files, query: str, status: int,
                               error: dict[str, str] | str) -> None:
    _, secret = web.token()
    job_id = logged_job(web, secret, files)
    response = web.client.get(PATH.format(job_id=job_id) + query, headers=web.bearer(secret))
    assert response.status_code == status
    data = body(response)
    assert_documented("/api/v1/jobs/{job_id}/tensorboard.zip", "GET", status, data)
    if isinstance(error, dict):
        assert data["fields"] == {k: v.format(job=job_id) for k, v in error.items()}
    else:
        assert data == {"error": error.format(job=job_id)}


def test_a_job_without_logs_or_not_the_callers_is_404(web: Web) -> None:
    _, secret = web.token()
    job_id = web.submit(secret)["id"]
    web.records.upsert_trial(job_id, 0, status="running", params={})
    response = web.client.get(PATH.format(job_id=job_id), headers=web.bearer(secret))
    assert (response.status_code, body(response)) == (404, {
        "error": f"job {job_id} has no TensorBoard logs yet: trial 0 (running: its logs are "
                 "stored when it ends)"})
    _, stranger = web.token("stranger")
    response = web.client.get(PATH.format(job_id=job_id), headers=web.bearer(stranger))
    assert (response.status_code, body(response)) == (404, {"error": "job not found"})
    assert web.client.get(PATH.format(job_id=job_id)).status_code == 401
