"""The best model's endpoints, with artifacts put by the test into a local folder and into
S3 (moto's server): summary, downloads, bundle, files, and errors."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from typing import Any

import pytest
import yaml

from onegin.artifacts import best_prefix, trial_prefix
from tests.webapp.conftest import Web, WebFactory, body
from tests.webapp.schema import assert_documented

ARCHITECTURE = {"layers": [{"name": "input", "type": "InputLayer", "params": 0},
                           {"name": "dense", "type": "Dense", "units": 10, "params": 650}],
                "edges": [{"source": "input", "target": "dense", "shape": [None, 64]}],
                "total_params": 650, "trainable_params": 650}
HEALTH = {"neuron_utilization": 0.9, "parameter_efficiency": 0.8, "training_stability": 0.7,
          "gradient_health": 0.6, "convergence_quality": 0.5, "accuracy_consistency": 0.4}
FILES = {
    "model.keras": b"PK\x03\x04 a keras zip",
    "metrics.json": json.dumps({"val_accuracy": 0.93, "test_accuracy": 0.91}).encode(),
    "architecture.json": json.dumps(ARCHITECTURE).encode(),
    "history.json": b'{"loss": [1.0, 0.5]}',
    "plots/history.png": b"\x89PNG history",
    "plots/confusion_matrix.png": b"\x89PNG confusion",
    "tensorboard/train/events.out": b"tensorboard stuff",
}


def finish_job(web: Web, secret: str, *, best: bool = True) -> str:
    """A completed job whose trial 1 is best, with best/ laid out as the orchestrator does."""
    job_id = web.submit(secret)["id"]
    web.records.upsert_trial(job_id, 0, status="completed", total_score=0.5, val_accuracy=0.6)
    web.records.upsert_trial(job_id, 1, status="completed", params={"filters": 32},
                             total_score=0.88, val_accuracy=0.93, health=HEALTH,
                             health_score=0.7, metrics={"test_accuracy": 0.91})
    web.records.update_job(job_id, status="running")
    web.records.update_job(job_id, status="completed", best_trial_number=1, best_score=0.88,
                           best_accuracy=0.93)
    store = web.services.artifacts
    for name, data in FILES.items():
        store.put_bytes(trial_prefix(job_id, 1) + name, data)
    if best:
        store.copy(trial_prefix(job_id, 1), best_prefix(job_id))
        document = {"job_id": job_id, "trial": 1, "hyperparameters": {"filters": 32}}
        store.put_bytes(best_prefix(job_id) + "best_hyperparameters.yaml",
                        yaml.safe_dump(document).encode(), content_type="application/yaml")
    return job_id


def check_best_endpoints(web: Web) -> None:
    _, secret = web.token()
    job_id = finish_job(web, secret)
    base = f"/api/v1/jobs/{job_id}/best"
    auth = web.bearer(secret)

    data: dict[str, Any] = body(web.client.get(base, headers=auth))
    assert_documented("/api/v1/jobs/{job_id}/best", "GET", 200, data)
    assert data == {"trial": 1, "params": {"filters": 32}, "metrics": {"test_accuracy": 0.91},
                    "health": HEALTH, "health_score": 0.7, "total_score": 0.88,
                    "val_accuracy": 0.93,
                    "architecture": ARCHITECTURE}

    model = web.client.get(f"{base}/model.keras", headers=auth)
    assert model.status_code == 200 and model.get_data() == FILES["model.keras"]
    assert model.headers["Content-Disposition"] == \
        f"attachment; filename=onegin-{job_id}-model.keras"

    params = web.client.get(f"{base}/best_hyperparameters.yaml", headers=auth)
    assert params.status_code == 200 and params.content_type == "application/yaml"
    assert "attachment" in params.headers["Content-Disposition"]
    assert yaml.safe_load(params.get_data())["hyperparameters"] == {"filters": 32}

    bundle = web.client.get(f"{base}/bundle.zip", headers=auth)
    assert bundle.status_code == 200 and bundle.content_type == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(bundle.get_data()))
    assert sorted(archive.namelist()) == ["architecture.json", "best_hyperparameters.yaml",
                                          "history.json", "metrics.json", "model.keras",
                                          "plots/confusion_matrix.png", "plots/history.png"]
    assert archive.read("model.keras") == FILES["model.keras"]
    assert archive.testzip() is None

    listing = body(web.client.get(f"{base}/artifacts", headers=auth))
    names = [a["name"] for a in listing["artifacts"]]
    assert "plots/history.png" in names and "best_hyperparameters.yaml" in names
    plot = web.client.get(f"{base}/artifacts/plots/history.png", headers=auth)
    assert plot.status_code == 200 and plot.content_type == "image/png"
    assert plot.get_data() == FILES["plots/history.png"]
    for name in ("../trials/0/metrics.json", "%2e%2e/trials/1/model.keras", "missing.png",
                 "%2Fetc%2Fpasswd"):
        escaped = web.client.get(f"{base}/artifacts/{name}", headers=auth)
        assert escaped.status_code == 404, name


def test_best_endpoints_on_a_local_folder(web: Web) -> None:
    check_best_endpoints(web)


def test_best_endpoints_on_s3(web_factory: WebFactory, s3_endpoint: str,
                              s3_credentials: None) -> None:
    web = web_factory(artifacts_url=f"s3://onegin-web-{uuid.uuid4().hex[:8]}/runs",
                      s3_endpoint_url=s3_endpoint)
    check_best_endpoints(web)


@pytest.mark.parametrize("suffix", ["", "/model.keras", "/best_hyperparameters.yaml",
                                    "/bundle.zip", "/artifacts", "/artifacts/metrics.json"])
def test_no_best_model_yet(web: Web, suffix: str) -> None:
    _, secret = web.token()
    job_id = finish_job(web, secret, best=False)
    response = web.client.get(f"/api/v1/jobs/{job_id}/best{suffix}", headers=web.bearer(secret))
    assert response.status_code == 404
    assert body(response) == {"error": "no best model yet"}


def test_a_broken_artifact_is_a_500_without_details(web: Web,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    _, secret = web.token()
    job_id = finish_job(web, secret)
    web.services.artifacts.put_bytes(best_prefix(job_id) + "architecture.json", b"{not json")
    response = web.client.get(f"/api/v1/jobs/{job_id}/best", headers=web.bearer(secret))
    assert response.status_code == 500
    assert body(response) == {"error": "internal server error"}
    assert "JSONDecodeError" in caplog.text  # the details went to the log
