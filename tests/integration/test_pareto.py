"""A pareto job on `digits`, embedded (SQLite, local workers, local files): its result is
the Pareto front over (accuracy, health), every member's model downloads over HTTP, and
the user's weights pick the best from the front."""

from __future__ import annotations

import urllib.request
from pathlib import Path
from typing import Any

import optuna
import pytest
import yaml

import onegin
from onegin.artifacts import best_prefix, trial_prefix
from onegin.cli import _print_result
from onegin.study_storage import study_name
from tests.faults.web import get_json, serving_web
from tests.integration.harness import embedded_settings, tiny_config


def beaten(point: dict[str, Any], by: dict[str, Any]) -> bool:
    """``by`` is at least as accurate and as healthy as ``point``, and better in one."""
    a, h = point["val_accuracy"], point["health_score"]
    return (by["val_accuracy"] >= a and by["health_score"] >= h
            and (by["val_accuracy"] > a or by["health_score"] > h))


def test_a_pareto_job_returns_its_front_with_every_model_downloadable(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = embedded_settings(tmp_path)
    config = tiny_config(objective="pareto", trials=4, concurrency=2, seed=7,
                         weights={"accuracy": 0.5})
    assert config.pruner == "none"
    result = onegin.optimize(config, settings=settings)
    assert result.status == "completed", result.error
    completed = [t for t in result.trials if t["status"] == "completed"]
    assert completed and all(t["health_score"] is not None for t in completed)

    with serving_web(settings) as url:
        status, front = get_json(f"{url}/api/v1/jobs/{result.job_id}/front")
        assert status == 200
        members, dominated = front["front"], front["dominated"]
        assert {t["number"] for t in members + dominated} == {t["number"] for t in completed}
        assert members and not any(beaten(m, t) for m in members for t in completed)
        assert all(any(beaten(d, m) for m in members) for d in dominated)
        for member in members:
            with urllib.request.urlopen(url + member["model_url"], timeout=20) as response:
                assert response.status == 200
                stored = settings.home / "artifacts" / trial_prefix(result.job_id,
                                                                     member["number"])
                assert response.read() == (stored / "model.keras").read_bytes()

    # the study searched both objectives, and agrees on the front
    study = optuna.load_study(study_name=study_name(result.job_id),
                              storage=settings.database_url)
    assert len(study.directions) == 2
    assert sorted(t.number for t in study.best_trials) == [m["number"] for m in members]
    for trial in completed:
        told = study.trials[trial["number"]].values
        assert told == [trial["val_accuracy"], trial["health_score"]]

    # the weights pick the best from the front: the member with the highest total score
    best = max(members, key=lambda m: m["total_score"])
    assert result.best_trial == front["best_trial"] == best["number"]
    document = yaml.safe_load((settings.home / "artifacts" / best_prefix(result.job_id)
                               / "best_hyperparameters.yaml").read_text())
    assert document["trial"] == best["number"]
    assert document["pareto_front"] == [m["number"] for m in members]
    assert result.pareto_front == document["pareto_front"]
    assert _print_result(result) == 0  # what `onegin optimize` prints names the front
    front_line = "Pareto front (accuracy vs health): trials " + ", ".join(
        str(m["number"]) for m in members)
    assert front_line in capsys.readouterr().out
