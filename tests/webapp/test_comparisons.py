"""Comparisons over HTTP: every bad field named (422), within the caller's limits, read
with their runs and report links, cancelled with their runs, and their report served."""

from __future__ import annotations

import pytest

from onegin.artifacts import report_prefix
from onegin.compare_config import COMPARE_CHECKS, CompareConfig
from onegin.compare_config import REQUEST_FIELDS as COMPARE_FIELDS
from onegin.errors import ConfigErrors
from onegin.job_kinds import JobKind
from tests.webapp.conftest import Web, WebFactory, body
from tests.webapp.schema import assert_documented
from tests.webapp.test_jobs import queued_job_ids
from webapp.openapi import document

URL = "/api/v1/comparisons"


def test_a_comparison_is_stored_as_a_compare_job_and_queued(web: Web) -> None:
    _, secret = web.token()
    response = web.client.post(URL, headers=web.bearer(secret), json={
        "dataset": "digits", "trials": 4, "seeds": 2, "seed": 9, "epochs": 1,
        "weights": {"accuracy": 0.6}, "params": {"conv_layers": 1}, "name": "does health help?"})
    assert response.status_code == 201, body(response)
    data = body(response)
    assert_documented(URL, "POST", 201, data)
    job = data["job"]
    assert response.headers["Location"] == f"{URL}/{job['id']}"
    assert (job["kind"], job["status"], job["name"]) == ("compare", "queued", "does health help?")
    assert job["config"]["seeds"] == 2 and job["config"]["weights"]["accuracy"] == 0.6
    assert data["runs"] == []  # its orchestrator makes them
    assert data["report"]["html"] is None and data["report"]["files"] == []
    assert job["id"] in queued_job_ids(web)
    stored = web.records.get_job(job["id"])
    assert stored.kind == JobKind.COMPARE
    assert CompareConfig.from_dict(stored.config).run_seeds[0] == 9
    listed = body(web.client.get("/api/v1/jobs", headers=web.bearer(secret)))["jobs"]
    assert [(j["id"], j["kind"]) for j in listed] == [(job["id"], "compare")]


def test_every_bad_field_is_named_at_once(web: Web) -> None:
    _, secret = web.token()
    response = web.client.post(URL, headers=web.bearer(secret), json={
        "dataset": "digits", "trials": 0, "seeds": 11, "retrain_seeds": "two", "epochs": -1,
        "objective": "simple", "weights": {"accuracy": 2}, "params": {"warp_drive": 1},
        "continue_from": "abc"})
    assert response.status_code == 422
    data = body(response)
    assert_documented(URL, "POST", 422, data)
    assert set(data["fields"]) == {"trials", "seeds", "retrain_seeds", "epochs", "objective",
                                   "weights.accuracy", "params.warp_drive", "continue_from"}
    assert data["fields"]["objective"] == "unknown field"
    assert queued_job_ids(web) == []


@pytest.mark.parametrize("dataset", ["tsv:/etc/passwd", "mnist-ish"])
def test_only_registered_datasets_are_accepted(web: Web, dataset: str) -> None:
    _, secret = web.token()
    response = web.client.post(URL, headers=web.bearer(secret), json={"dataset": dataset})
    assert response.status_code == 422
    assert body(response)["fields"]["dataset"].startswith(f"unknown dataset {dataset!r}")


def test_each_run_is_held_to_the_callers_job_limits(web_factory: WebFactory) -> None:
    web = web_factory(limit_max_trials=20, limit_max_epochs=5, limit_max_concurrency=4)
    _, small = web.token("small", max_trials=10)
    over = web.client.post(URL, headers=web.bearer(small), json={"epochs": 6})
    assert over.status_code == 422
    data = body(over)  # the default of 12 trials per run is over this token's 10
    assert data["limits"] == {"trials": 10, "epochs": 5}
    assert web.client.post(URL, headers=web.bearer(small),
                           json={"trials": 10, "epochs": 5}).status_code == 201


def test_read_with_its_runs_and_report_links_and_served_files(web: Web) -> None:
    _, secret = web.token()
    headers = web.bearer(secret)
    job_id = body(web.client.post(URL, headers=headers, json={"seeds": 1}))["job"]["id"]
    run = web.records.create_job({"objective": "health", "seed": 4}, owner=web.records.get_job(
        job_id).owner, parent_id=job_id)
    prefix = report_prefix(job_id)
    web.services.artifacts.put_bytes(prefix + "report.html", b"<h1>report</h1>")
    web.services.artifacts.put_bytes(prefix + "plots/gap.png", b"\x89PNG")
    response = web.client.get(f"{URL}/{job_id}", headers=headers)
    assert response.status_code == 200
    data = body(response)
    assert_documented(f"{URL}/{{job_id}}", "GET", 200, data)
    assert [(r["id"], r["objective"], r["seed"]) for r in data["runs"]] == [
        (run.id, "health", 4)]
    assert data["report"]["html"] == f"{URL}/{job_id}/report/report.html"
    assert data["report"]["pdf"] is None
    assert {f["name"] for f in data["report"]["files"]} == {"report.html", "plots/gap.png"}
    page = web.client.get(data["report"]["html"], headers=headers)
    assert page.status_code == 200 and page.data == b"<h1>report</h1>"
    assert page.content_type.startswith("text/html")
    policy = page.headers["Content-Security-Policy"]  # its styles and plots, never a script
    assert policy.startswith("sandbox;") and "img-src 'self' data:" in policy
    assert "script" not in policy and "default-src 'none'" in policy
    assert web.client.get(f"{URL}/{job_id}/report/report.pdf",
                          headers=headers).status_code == 404
    assert web.client.get(f"{URL}/{job_id}/report/../../x", headers=headers).status_code == 404


def test_a_search_job_or_another_callers_comparison_is_not_found(web: Web) -> None:
    _, mine = web.token("mine")
    _, theirs = web.token("theirs")
    search = web.submit(mine)["id"]
    comparison = body(web.client.post(URL, headers=web.bearer(mine), json={}))["job"]["id"]
    assert web.client.get(f"{URL}/{search}", headers=web.bearer(mine)).status_code == 404
    assert web.client.get(f"{URL}/{comparison}", headers=web.bearer(theirs)).status_code == 404
    assert web.client.get(f"{URL}/{comparison}/report/report.html",
                          headers=web.bearer(theirs)).status_code == 404


def test_cancelling_a_comparison_cancels_its_runs(web: Web) -> None:
    _, secret = web.token()
    headers = web.bearer(secret)
    job_id = body(web.client.post(URL, headers=headers, json={"seeds": 1}))["job"]["id"]
    owner = web.records.get_job(job_id).owner
    web.records.update_job(job_id, status="running")
    started = web.records.create_job({"objective": "simple"}, owner=owner, parent_id=job_id)
    web.records.update_job(started.id, status="running")
    waiting = web.records.create_job({"objective": "health"}, owner=owner, parent_id=job_id)
    response = web.client.post(f"/api/v1/jobs/{job_id}/cancel", headers=headers)
    assert response.status_code == 202 and body(response)["status"] == "cancelling"
    runs = {r["id"]: r["status"] for r in body(web.client.get(f"{URL}/{job_id}",
                                                              headers=headers))["runs"]}
    assert runs == {started.id: "cancelling", waiting.id: "cancelled"}


def test_the_request_documents_exactly_the_fields_a_comparison_takes() -> None:
    request = document()["components"]["schemas"]["ComparisonRequest"]["properties"]
    assert set(request) == set(COMPARE_FIELDS)


@pytest.mark.parametrize("name", sorted(COMPARE_CHECKS))
def test_a_comparison_fields_documented_bounds_are_its_checks(name: str) -> None:
    """A value just past a documented bound is refused, naming the field."""
    schema = COMPARE_CHECKS[name].schema
    for value in [b for b in (schema.get("maximum"), schema.get("minimum")) if b is not None]:
        with pytest.raises(ConfigErrors) as refused:
            CompareConfig.from_dict({name: value + (1 if value == schema.get("maximum") else -1)})
        assert name in refused.value.as_dict()
