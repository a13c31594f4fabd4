"""The study endpoint reads the job's Optuna study straight from the database."""

from __future__ import annotations

import optuna

from onegin.job_config import OptimizationConfig
from orchestrator.study import open_study
from tests.webapp.conftest import Web, body
from tests.webapp.schema import assert_documented


def test_empty_before_the_orchestrator_starts(web: Web) -> None:
    _, secret = web.token()
    job_id = web.submit(secret)["id"]
    data = body(web.client.get(f"/api/v1/jobs/{job_id}/study", headers=web.bearer(secret)))
    assert data == {"history": [], "importances": {}, "importance_trials": 0}


def test_history_and_importances(web: Web) -> None:
    _, secret = web.token()
    job_id = web.submit(secret)["id"]
    url = f"/api/v1/jobs/{job_id}/study"
    config = OptimizationConfig.from_dict({"dataset": "digits", "seed": 3})
    study = open_study(job_id, config, web.services.settings.database_url)
    space = config.space()

    first = study.ask()
    space.suggest(first)
    study.tell(first, 0.4)
    data = body(web.client.get(url, headers=web.bearer(secret)))
    assert data == {"history": [{"number": 0, "value": 0.4, "state": "COMPLETE"}],
                    "importances": {}, "importance_trials": 0}  # one is not enough

    for value in (0.6, None, 0.9, 0.7):
        trial = study.ask()
        params = space.suggest(trial)
        if value is None:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        else:
            study.tell(trial, value + params["dropout"] / 100)
    running = study.ask()
    space.suggest(running)
    data = body(web.client.get(url, headers=web.bearer(secret)))
    assert_documented("/api/v1/jobs/{job_id}/study", "GET", 200, data)
    assert [(h["number"], h["state"]) for h in data["history"]] == [
        (0, "COMPLETE"), (1, "COMPLETE"), (2, "PRUNED"), (3, "COMPLETE"), (4, "COMPLETE"),
        (5, "RUNNING")]
    assert data["history"][2]["value"] is None and data["history"][5]["value"] is None
    importances = data["importances"]
    assert data["importance_trials"] == 4  # the first ranking is computed at once
    assert importances and set(importances) <= set(space.names())
    assert "learning_rate" in importances  # its per-optimizer branches, ranked as one
    assert abs(sum(importances.values()) - 1.0) < 1e-6
    again = body(web.client.get(url, headers=web.bearer(secret)))
    assert again["importances"] == importances  # seeded, and cached
    study.tell(running, 0.95)  # the kept study reads the trial it saw running again
    last = body(web.client.get(url, headers=web.bearer(secret)))
    assert last["history"][5] == {"number": 5, "value": 0.95, "state": "COMPLETE"}
    assert last["importance_trials"] == 4  # the job is not over: the last ranking, at once


def test_a_pareto_study_has_no_single_values_and_ranks_by_accuracy(web: Web) -> None:
    _, secret = web.token()
    job_id = web.submit(secret, objective="pareto")["id"]
    config = OptimizationConfig.from_dict({"dataset": "digits", "seed": 3,
                                           "objective": "pareto"})
    study = open_study(job_id, config, web.services.settings.database_url)
    space = config.space()
    for accuracy in (0.6, 0.9, 0.7, 0.8):
        trial = study.ask()
        params = space.suggest(trial)
        study.tell(trial, [accuracy + params["dropout"] / 100, 1 - accuracy])
    data = body(web.client.get(f"/api/v1/jobs/{job_id}/study", headers=web.bearer(secret)))
    assert_documented("/api/v1/jobs/{job_id}/study", "GET", 200, data)
    assert [h["value"] for h in data["history"]] == [None] * 4  # two values: no one number
    assert data["importance_trials"] == 4 and data["importances"]  # by the first objective
