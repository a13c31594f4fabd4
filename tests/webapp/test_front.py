"""GET /jobs/<id>/front: a job's Pareto front from its records, each member's model linked."""

from __future__ import annotations

from onegin.artifacts import trial_prefix
from tests.webapp.conftest import Web, body
from tests.webapp.schema import assert_documented

# trial -> (status, accuracy, health, total)
TRIALS = {
    0: ("completed", 0.90, 0.50, 0.70),
    1: ("completed", 0.80, 0.70, 0.75),  # the best: highest total
    2: ("completed", 0.70, 0.60, 0.65),  # beaten on both by trial 1
    3: ("completed", 0.80, 0.70, 0.75),  # trial 1's twin: also on the front
    4: ("pruned", 0.95, None, 0.95),  # no health: not a point
}


def pareto_job(web: Web, secret: str) -> str:
    job_id = web.submit(secret, objective="pareto")["id"]
    assert web.records.get_job(job_id).config["pruner"] == "none"
    for number, (status, accuracy, health, total) in TRIALS.items():
        web.records.upsert_trial(job_id, number, status=status, params={"filters": 8 * number},
                                 val_accuracy=accuracy, health_score=health, total_score=total)
    web.records.update_job(job_id, status="running")
    web.records.update_job(job_id, status="completed", best_trial_number=1, best_score=0.75,
                           best_accuracy=0.8)
    return job_id


def test_the_front_lists_its_members_with_their_models_and_the_dominated_trials(
        web: Web) -> None:
    _, secret = web.token()
    job_id = pareto_job(web, secret)
    web.services.artifacts.put_bytes(trial_prefix(job_id, 3) + "model.keras", b"PK model 3")
    auth = web.bearer(secret)
    front = body(web.client.get(f"/api/v1/jobs/{job_id}/front", headers=auth))
    assert_documented("/api/v1/jobs/{job_id}/front", "GET", 200, front)
    assert front["objectives"] == ["val_accuracy", "health_score"]
    assert front["best_trial"] == 1
    assert [m["number"] for m in front["front"]] == [0, 1, 3]
    assert front["front"][0] == {
        "number": 0, "val_accuracy": 0.9, "health_score": 0.5, "total_score": 0.7,
        "params": {"filters": 0},
        "model_url": f"/api/v1/jobs/{job_id}/trials/0/artifacts/model.keras"}
    assert front["dominated"] == [
        {"number": 2, "val_accuracy": 0.7, "health_score": 0.6, "total_score": 0.65}]
    model = web.client.get(front["front"][2]["model_url"], headers=auth)
    assert model.status_code == 200 and model.get_data() == b"PK model 3"


def test_a_job_without_completed_trials_has_an_empty_front_and_others_see_none(
        web: Web) -> None:
    _, secret = web.token()
    job_id = web.submit(secret)["id"]
    front = body(web.client.get(f"/api/v1/jobs/{job_id}/front", headers=web.bearer(secret)))
    assert (front["front"], front["dominated"], front["best_trial"]) == ([], [], None)
    _, other = web.token("someone else")
    response = web.client.get(f"/api/v1/jobs/{job_id}/front", headers=web.bearer(other))
    assert response.status_code == 404


def test_a_pareto_job_with_a_pruner_is_refused_naming_the_field(web: Web) -> None:
    _, secret = web.token()
    response = web.client.post("/api/v1/jobs", json={"objective": "pareto", "pruner": "median"},
                               headers=web.bearer(secret))
    assert response.status_code == 422
    assert "multi-objective" in body(response)["fields"]["pruner"]
