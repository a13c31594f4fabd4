"""Trials: paging and filters, one trial, its artifacts, and path safety of downloads."""

from __future__ import annotations

import pytest

from onegin.artifacts import best_prefix, trial_prefix
from tests.webapp.conftest import Web, body
from tests.webapp.schema import assert_documented

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def job(web: Web) -> tuple[Web, str, str]:
    """A job of five trials, trial 1 with artifacts, and a secret that may see it."""
    _, secret = web.token()
    job_id = web.submit(secret, trials=5)["id"]
    for number, status in enumerate(["completed", "pruned", "completed", "failed", "running"]):
        web.records.upsert_trial(job_id, number, status=status, params={"filters": 16 + number},
                                 val_accuracy=0.5 + number / 10 if status == "completed"
                                 else None)
    store = web.services.artifacts
    prefix = trial_prefix(job_id, 1)
    store.put_bytes(prefix + "plots/history.png", PNG)
    store.put_bytes(prefix + "metrics.json", b'{"val_accuracy": 0.6}')
    store.put_bytes(prefix + "model.keras", b"model bytes")
    store.put_bytes(trial_prefix(job_id, 2) + "secret.json", b'{"other": "trial"}')
    store.put_bytes(best_prefix(job_id) + "metrics.json", b'{"best": true}')
    return web, job_id, secret


def test_trials_page_by_number_and_filter_by_status(job: tuple[Web, str, str]) -> None:
    web, job_id, secret = job
    url = f"/api/v1/jobs/{job_id}/trials"
    data = body(web.client.get(f"{url}?per_page=2&page=2", headers=web.bearer(secret)))
    assert_documented("/api/v1/jobs/{job_id}/trials", "GET", 200, data)
    assert [t["number"] for t in data["trials"]] == [2, 3]
    assert (data["total"], data["page"], data["per_page"]) == (5, 2, 2)
    completed = body(web.client.get(f"{url}?status=completed", headers=web.bearer(secret)))
    assert [t["number"] for t in completed["trials"]] == [0, 2] and completed["total"] == 2
    trial = completed["trials"][0]
    assert trial == web.records.get_trial(job_id, 0).to_dict()
    bad = web.client.get(f"{url}?status=sleeping&per_page=x", headers=web.bearer(secret))
    assert bad.status_code == 422 and set(body(bad)["fields"]) == {"status", "per_page"}


def test_one_trial(job: tuple[Web, str, str]) -> None:
    web, job_id, secret = job
    data = body(web.client.get(f"/api/v1/jobs/{job_id}/trials/1", headers=web.bearer(secret)))
    assert_documented("/api/v1/jobs/{job_id}/trials/{number}", "GET", 200, data)
    assert data["number"] == 1 and data["status"] == "pruned" and data["params"] == \
        {"filters": 17}
    missing = web.client.get(f"/api/v1/jobs/{job_id}/trials/99", headers=web.bearer(secret))
    assert missing.status_code == 404 and body(missing) == {"error": "trial not found"}
    negative = web.client.get(f"/api/v1/jobs/{job_id}/trials/-1", headers=web.bearer(secret))
    assert negative.status_code == 404


def test_a_trial_carries_its_holdout_report_as_documented(job: tuple[Web, str, str]) -> None:
    web, job_id, secret = job
    report = {
        "samples": 180, "accuracy": 0.9, "worst_class_accuracy": 0.7,
        "per_class_accuracy": [0.9, 0.7, None], "ece": 0.05, "brier": 0.2,
        "robustness": {"token_dropout": [0.9, 0.8, 0.5], "char_typos": [0.8, 0.6, 0.4]},
        "robustness_mean": 0.67, "param_count": 1234, "latency_ms_per_256": 3.5,
    }
    web.records.upsert_trial(job_id, 0, holdout=report)
    url = f"/api/v1/jobs/{job_id}/trials"
    one = body(web.client.get(f"{url}/0", headers=web.bearer(secret)))
    assert_documented("/api/v1/jobs/{job_id}/trials/{number}", "GET", 200, one)
    assert one["holdout"] == report
    page = body(web.client.get(url, headers=web.bearer(secret)))
    assert_documented("/api/v1/jobs/{job_id}/trials", "GET", 200, page)
    assert [t["holdout"] for t in page["trials"]] == [report, None, None, None, None]


def test_artifact_listing_and_download(job: tuple[Web, str, str]) -> None:
    web, job_id, secret = job
    base = f"/api/v1/jobs/{job_id}/trials/1/artifacts"
    listing = body(web.client.get(base, headers=web.bearer(secret)))
    assert_documented("/api/v1/jobs/{job_id}/trials/{number}/artifacts", "GET", 200, listing)
    assert listing == {"artifacts": [
        {"name": "metrics.json", "size": len(b'{"val_accuracy": 0.6}')},
        {"name": "model.keras", "size": len(b"model bytes")},
        {"name": "plots/history.png", "size": len(PNG)},
    ]}
    plot = web.client.get(f"{base}/plots/history.png", headers=web.bearer(secret))
    assert plot.status_code == 200 and plot.content_type == "image/png"
    assert plot.get_data() == PNG
    assert plot.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in plot.headers["Content-Security-Policy"]
    metrics = web.client.get(f"{base}/metrics.json", headers=web.bearer(secret))
    assert metrics.content_type == "application/json" and metrics.get_json() == \
        {"val_accuracy": 0.6}
    empty = body(web.client.get(f"/api/v1/jobs/{job_id}/trials/4/artifacts",
                                headers=web.bearer(secret)))
    assert empty == {"artifacts": []}
    no_trial = web.client.get(f"/api/v1/jobs/{job_id}/trials/42/artifacts",
                              headers=web.bearer(secret))
    assert no_trial.status_code == 404


@pytest.mark.parametrize("name", [
    "../2/secret.json",  # another trial's file
    "..%2F2%2Fsecret.json",
    "%2e%2e/2/secret.json",
    "%2E%2E/%2E%2E/best/metrics.json",  # the job's best folder
    "../../../../etc/passwd",
    "plots/../../2/secret.json",
    "./metrics.json",
    "//etc/passwd",
    "%2Fetc%2Fpasswd",  # absolute
    "plots//history.png",
    "nothing-here.json",
    "plots",  # a folder, not a file
    "metrics.json%00.png",
    "..%5C2%5Csecret.json",  # backslashes
])
def test_path_safety(job: tuple[Web, str, str], name: str) -> None:
    web, job_id, secret = job
    response = web.client.get(f"/api/v1/jobs/{job_id}/trials/1/artifacts/{name}",
                              headers=web.bearer(secret))
    assert response.status_code == 404, name
    assert body(response)["error"].endswith("not found")


def test_another_jobs_files_are_out_of_reach(job: tuple[Web, str, str]) -> None:
    web, job_id, secret = job
    other_id = web.submit(secret)["id"]
    web.records.upsert_trial(other_id, 1, status="completed")
    response = web.client.get(
        f"/api/v1/jobs/{other_id}/trials/1/artifacts/../../../{job_id}/trials/1/metrics.json",
        headers=web.bearer(secret))
    assert response.status_code == 404
