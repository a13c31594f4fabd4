"""Jobs: submission to the orchestrator queue, validation, limits, paging, cancel, delete."""

from __future__ import annotations

import json
from typing import Any

import pytest

from onegin.artifacts import job_prefix, trial_prefix
from onegin.celery_app import ORCHESTRATOR_QUEUE, RUN_JOB
from onegin.events import make_event
from onegin.records import TRIAL_STATUSES
from tests.webapp.conftest import Web, WebFactory, body
from tests.webapp.schema import assert_documented

JOB_KEYS = {"id", "kind", "parent_id", "name", "status", "config", "created_at", "started_at",
            "finished_at", "best_trial_number", "best_score", "best_accuracy", "error", "waiting",
            "counts", "budget"}


def queued_job_ids(web: Web) -> list[str]:
    """The job ids of the run_job messages waiting on the orchestrator queue (consumed)."""
    ids = []
    with web.state.celery.connection_for_read() as connection:
        queue = connection.SimpleQueue(ORCHESTRATOR_QUEUE)
        while True:
            try:
                message = queue.get(block=False)
            except queue.Empty:
                break
            assert message.headers["task"] == RUN_JOB
            ids.append(message.decode()[0][0])
            message.ack()
        queue.close()
    return ids


def test_submit_stores_the_job_and_queues_it_for_the_orchestrator(web: Web) -> None:
    _, secret = web.token()
    response = web.client.post("/api/v1/jobs", headers=web.bearer(secret), json={
        "name": "digits sweep", "dataset": "digits", "trials": 3, "concurrency": 2,
        "epochs": 2, "objective": "simple", "params": {"conv_layers": {"low": 1, "high": 2}},
        "pruner": "none", "seed": 7})
    assert response.status_code == 201
    job = body(response)
    assert_documented("/api/v1/jobs", "POST", 201, job)
    assert set(job) == JOB_KEYS and (job["kind"], job["parent_id"]) == ("search", None)
    assert response.headers["Location"] == f"/api/v1/jobs/{job['id']}"
    assert job["status"] == "queued" and job["name"] == "digits sweep" and job["budget"] == 3
    assert job["counts"] == dict.fromkeys(TRIAL_STATUSES, 0)
    assert job["config"]["params"] == {"conv_layers": {"low": 1, "high": 2}}
    assert job["config"]["seed"] == 7 and job["config"]["weights"]["accuracy"] == 0.7
    assert job["id"] in queued_job_ids(web)
    assert web.records.get_job(job["id"]).config == job["config"]


def test_every_bad_field_is_named_at_once(web: Web) -> None:
    _, secret = web.token()
    response = web.client.post("/api/v1/jobs", headers=web.bearer(secret), json={
        "dataset": "digits", "trials": 0, "concurrency": "two", "epochs": -1,
        "objective": "fast", "pruner": "sometimes", "seed": -3, "plot_mode": "few",
        "weights": {"accuracy": 2}, "params": {"warp_drive": 1}, "time_limit": 0,
        "colour": "red"})
    assert response.status_code == 422
    data = body(response)
    assert_documented("/api/v1/jobs", "POST", 422, data)
    assert data["error"] == "validation failed"
    assert set(data["fields"]) == {"trials", "concurrency", "epochs", "objective", "pruner",
                                   "seed", "plot_mode", "weights.accuracy", "params.warp_drive",
                                   "time_limit", "colour"}
    assert "between 1 and" in data["fields"]["trials"]
    assert data["fields"]["colour"] == "unknown field"
    assert queued_job_ids(web) == []


def test_continuing_names_the_field_and_hides_other_callers_jobs(web: Web) -> None:
    _, mine = web.token("me")
    _, theirs = web.token("them")
    their_job = web.submit(theirs)["id"]
    web.records.update_job(their_job, status="running")
    web.records.update_job(their_job, status="completed")
    for job_id, reason in (("nosuchjob", "no job 'nosuchjob'"),
                           (their_job, f"no job {their_job!r}")):
        response = web.client.post("/api/v1/jobs", headers=web.bearer(mine),
                                   json={"dataset": "digits", "continue_from": job_id})
        assert response.status_code == 422
        assert body(response)["fields"] == {"continue_from": reason}
    my_job = web.submit(mine)["id"]  # still queued: nothing finished to continue from
    response = web.client.post("/api/v1/jobs", headers=web.bearer(mine),
                               json={"dataset": "digits", "continue_from": my_job})
    assert response.status_code == 422 and "still queued" in body(response)["fields"][
        "continue_from"]
    ours = web.client.post("/api/v1/jobs", headers=web.bearer(theirs),
                           json={"dataset": "digits", "continue_from": their_job})
    assert ours.status_code == 201
    assert body(ours)["config"]["continue_from"] == their_job
    assert isinstance(body(ours)["config"]["seed"], int)  # drawn and recorded


@pytest.mark.parametrize("dataset", ["tsv:/etc/passwd", "images:/", "nonsense"])
def test_only_registered_datasets_are_accepted(web: Web, dataset: str) -> None:
    _, secret = web.token()
    response = web.client.post("/api/v1/jobs", headers=web.bearer(secret),
                               json={"dataset": dataset, "trials": 0})
    assert response.status_code == 422
    fields = body(response)["fields"]
    assert "unknown dataset" in fields["dataset"] and "digits" in fields["dataset"]
    assert "trials" in fields  # the other fields are still checked


def test_limits_from_settings_and_per_token(web_factory: WebFactory) -> None:
    web = web_factory(limit_max_trials=20, limit_max_epochs=5, limit_max_concurrency=4)
    _, default = web.token("default")
    _, small = web.token("small", max_trials=2, max_concurrency=1)
    assert web.client.post("/api/v1/jobs", headers=web.bearer(default),
                           json={"trials": 20, "epochs": 5, "concurrency": 4}).status_code == 201
    over = web.client.post("/api/v1/jobs", headers=web.bearer(default),
                           json={"trials": 21, "epochs": 6, "concurrency": 5})
    assert over.status_code == 422
    data = body(over)
    assert data["limits"] == {"trials": 20, "epochs": 5, "concurrency": 4}
    assert data["fields"]["trials"].startswith("must be at most 20")

    tight = web.client.post("/api/v1/jobs", headers=web.bearer(small), json={"epochs": 5})
    assert tight.status_code == 422  # the defaults (8 trials, 2 at once) exceed this token
    data = body(tight)
    assert data["limits"] == {"trials": 2, "concurrency": 1}
    assert "the default is 8" in data["fields"]["trials"]
    assert web.client.post("/api/v1/jobs", headers=web.bearer(small),
                           json={"trials": 2, "concurrency": 1, "epochs": 5}).status_code == 201
    session = body(web.client.get("/api/v1/session", headers=web.bearer(small)))
    assert session["limits"] == {"max_trials": 2, "max_epochs": 5, "max_concurrency": 1}


def test_body_errors(web_factory: WebFactory) -> None:
    web = web_factory(max_request_bytes=2048)
    _, secret = web.token()
    big = web.client.post("/api/v1/jobs", headers=web.bearer(secret),
                          json={"name": "x" * 4096})
    assert big.status_code == 413
    assert body(big) == {"error": "request body too large", "limit_bytes": 2048}
    assert_documented("/api/v1/jobs", "POST", 413, body(big))
    job_id = web.submit(secret, trials=1)["id"]
    ignored_body = web.client.post(f"/api/v1/jobs/{job_id}/cancel", headers=web.bearer(secret),
                                   data="x" * 4096)
    assert ignored_body.status_code == 413  # refused even where the view reads no body
    assert web.records.get_job(job_id).status == "queued"
    broken = web.client.post("/api/v1/jobs", headers=web.bearer(secret) |
                             {"Content-Type": "application/json"}, data="{not json")
    assert broken.status_code == 400 and "not valid JSON" in body(broken)["error"]
    listed = web.client.post("/api/v1/jobs", headers=web.bearer(secret), json=[1, 2])
    assert listed.status_code == 422 and body(listed)["fields"] == {
        "body": "must be a JSON object, got an array"}


def test_list_pages_newest_first(web: Web) -> None:
    _, secret = web.token()
    ids = [web.submit(secret, name=f"job {i}")["id"] for i in range(3)]
    page1 = body(web.client.get("/api/v1/jobs?page=1&per_page=2", headers=web.bearer(secret)))
    assert_documented("/api/v1/jobs", "GET", 200, page1)
    assert [j["id"] for j in page1["jobs"]] == [ids[2], ids[1]]
    assert (page1["total"], page1["page"], page1["per_page"]) == (3, 1, 2)
    page2 = body(web.client.get("/api/v1/jobs?page=2&per_page=2", headers=web.bearer(secret)))
    assert [j["id"] for j in page2["jobs"]] == [ids[0]]
    default = body(web.client.get("/api/v1/jobs", headers=web.bearer(secret)))
    assert default["per_page"] == 20 and default["total"] == 3
    bad = web.client.get("/api/v1/jobs?page=0&per_page=100000", headers=web.bearer(secret))
    assert bad.status_code == 422 and set(body(bad)["fields"]) == {"page", "per_page"}


def _listed(web: Web, secret: str, query: str) -> list[str]:
    response = web.client.get(f"/api/v1/jobs?{query}", headers=web.bearer(secret))
    data = body(response)
    assert response.status_code == 200, data
    assert_documented("/api/v1/jobs", "GET", 200, data)
    return [job["id"] for job in data["jobs"]]


@pytest.mark.parametrize("which", ["web", "sqlite_web"])
def test_list_searches_and_filters_and_names_each_bad_parameter(
        which: str, request: pytest.FixtureRequest) -> None:
    web: Web = request.getfixturevalue(which)
    _, secret = web.token()
    health = web.submit(secret, name="Night run")["id"]
    simple = web.submit(secret, objective="simple", dataset="mnist")["id"]
    web.records.update_job(simple, status="cancelled")
    compared = body(web.client.post("/api/v1/comparisons", json={"seeds": 1},
                                    headers=web.bearer(secret)))["job"]["id"]
    assert _listed(web, secret, "q=night") == [health]
    assert _listed(web, secret, f"q={simple[:5]}") == [simple]
    assert _listed(web, secret, "status=cancelled") == [simple]
    assert _listed(web, secret, "objective=simple,health") == [simple, health]
    assert _listed(web, secret, "kind=compare") == [compared]
    assert _listed(web, secret, "dataset=digits&status=queued&kind=search") == [health]
    assert _listed(web, secret, "dataset=mnist,cifar10") == [simple]
    assert _listed(web, secret, "q=") == [compared, simple, health]
    bad = web.client.get("/api/v1/jobs?status=done&objective=best&kind=x&dataset=a,,b"
                         "&q=" + "x" * 201 + "&sort=name", headers=web.bearer(secret))
    assert bad.status_code == 422
    fields = body(bad)["fields"]
    assert_documented("/api/v1/jobs", "GET", 422, body(bad))
    assert set(fields) == {"status", "objective", "kind", "dataset", "q", "sort"}
    assert fields["status"].startswith("must be one of queued, running")
    assert fields["objective"] == ("must be one of simple, health, pareto, or several "
                                   "separated by commas; got 'best'")
    assert "q, status, dataset, objective, kind" in fields["sort"]


def test_get_job_with_counts(web: Web) -> None:
    _, secret = web.token()
    job = web.submit(secret)
    web.records.upsert_trial(job["id"], 0, status="completed")
    web.records.upsert_trial(job["id"], 1, status="running")
    response = web.client.get(f"/api/v1/jobs/{job['id']}", headers=web.bearer(secret))
    data = body(response)
    assert_documented("/api/v1/jobs/{job_id}", "GET", 200, data)
    assert data["counts"]["completed"] == 1 and data["counts"]["running"] == 1
    listed = body(web.client.get("/api/v1/jobs", headers=web.bearer(secret)))["jobs"][0]
    assert listed == data
    missing = web.client.get("/api/v1/jobs/000000000000", headers=web.bearer(secret))
    assert missing.status_code == 404 and body(missing) == {"error": "job not found"}


def test_cancel_of_a_queued_job_ends_it_at_once(web: Web) -> None:
    """No orchestrator needed: nobody started it, so nobody else has to stop it."""
    _, secret = web.token()
    job = web.submit(secret)
    response = web.client.post(f"/api/v1/jobs/{job['id']}/cancel", headers=web.bearer(secret))
    assert response.status_code == 200
    assert_documented("/api/v1/jobs/{job_id}/cancel", "POST", 200, body(response))
    assert body(response)["status"] == "cancelled" and body(response)["finished_at"]
    events, _ = web.services.events.read(job["id"])
    assert [e["type"] for e in events][-1] == "job_finished"
    assert events[-1]["data"]["status"] == "cancelled"
    done = web.client.post(f"/api/v1/jobs/{job['id']}/cancel", headers=web.bearer(secret))
    assert done.status_code == 409
    assert body(done) == {"error": "job is already cancelled", "job_status": "cancelled"}


def test_cancel_of_a_running_job_asks_its_orchestrator(web: Web) -> None:
    _, secret = web.token()
    job = web.submit(secret)
    web.records.update_job(job["id"], status="running")
    response = web.client.post(f"/api/v1/jobs/{job['id']}/cancel", headers=web.bearer(secret))
    assert response.status_code == 202
    assert_documented("/api/v1/jobs/{job_id}/cancel", "POST", 202, body(response))
    assert body(response)["status"] == "cancelling"
    again = web.client.post(f"/api/v1/jobs/{job['id']}/cancel", headers=web.bearer(secret))
    assert again.status_code == 202  # still on its way out
    web.records.update_job(job["id"], status="cancelled")
    done = web.client.post(f"/api/v1/jobs/{job['id']}/cancel", headers=web.bearer(secret))
    assert done.status_code == 409


def test_delete_removes_records_study_artifacts_events_and_control(web: Web) -> None:
    _, secret = web.token()
    job = web.submit(secret)
    job_id = job["id"]
    services = web.services
    services.records.upsert_trial(job_id, 0, status="completed")
    services.artifacts.put_bytes(trial_prefix(job_id, 0) + "metrics.json", b"{}")
    services.artifacts.put_bytes(job_prefix(job_id) + "best/model.keras", b"model")
    services.events.publish(make_event("job_status", job_id, status="running"))
    services.control.request_stop(job_id, None, "cancel")
    _make_study(web, job_id)

    active = web.client.delete(f"/api/v1/jobs/{job_id}", headers=web.bearer(secret))
    assert active.status_code == 409 and body(active)["job_status"] == "queued"
    assert_documented("/api/v1/jobs/{job_id}", "DELETE", 409, body(active))

    web.records.update_job(job_id, status="failed")
    response = web.client.delete(f"/api/v1/jobs/{job_id}", headers=web.bearer(secret))
    assert response.status_code == 204 and response.get_data() == b""
    assert web.client.get(f"/api/v1/jobs/{job_id}", headers=web.bearer(secret)) \
        .status_code == 404
    assert services.artifacts.list(job_prefix(job_id)) == []
    assert services.events.read(job_id)[0] == []
    assert services.control.stop_reason(job_id, 0) is None
    import optuna

    with pytest.raises(KeyError):
        optuna.load_study(study_name=f"job-{job_id}", storage=web.state.studies.storage)


def _make_study(web: Web, job_id: str) -> None:
    from onegin.job_config import OptimizationConfig
    from orchestrator.study import open_study

    study = open_study(job_id, OptimizationConfig(), web.services.settings.database_url)
    trial = study.ask()
    study.tell(trial, 0.5)


def test_the_same_flow_on_sqlite(sqlite_web: Web) -> None:
    web = sqlite_web
    _, secret = web.token()
    job = web.submit(secret)
    assert [j["id"] for j in body(web.client.get("/api/v1/jobs",
                                                  headers=web.bearer(secret)))["jobs"]] \
        == [job["id"]]
    assert web.client.post(f"/api/v1/jobs/{job['id']}/cancel",
                           headers=web.bearer(secret)).status_code == 200
    assert web.client.delete(f"/api/v1/jobs/{job['id']}",
                             headers=web.bearer(secret)).status_code == 204
    assert web.records.list_jobs()[1] == 0


def test_broker_down_fails_the_job_with_503(web_factory: WebFactory) -> None:
    from tests.fixtures.services import free_port

    web = web_factory(broker_url=f"redis://127.0.0.1:{free_port()}/0")
    _, secret = web.token()
    response = web.client.post("/api/v1/jobs", headers=web.bearer(secret), json={"trials": 1})
    assert response.status_code == 503
    data: dict[str, Any] = body(response)
    assert data["error"].startswith("task queue unavailable")
    assert web.records.get_job(data["job_id"]).status == "failed"
    assert json.dumps(data).find("Traceback") == -1
