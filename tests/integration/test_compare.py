"""A whole comparison on the embedded default, trained: real local GPU-worker processes,
SQLite, the filesystem broker and local files, through the same path as `onegin
optimize` (`onegin.compare`). One seed, two trials per arm, one epoch, two retrains.

The report is rendered by `orchestrator.comparison.report` where it is installed, else
by the stand-in (tests/fixtures/report_stand_in.py); the summary it is given is
checked either way.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

import onegin
from onegin.api import ComparisonResult
from onegin.artifacts import report_prefix
from onegin.records import RecordStore
from onegin.trial_message import TrialSpec
from tests.fixtures.report_stand_in import (
    STAND_IN_FILES,
    StandInRenderer,
    install_stand_in,
    real_renderer_installed,
)
from tests.integration.harness import TINY, embedded_settings

REAL_RENDERER = real_renderer_installed()
# a job's holdout option reaches the workers once it is a trial option too
WORKERS_SCORE_HOLDOUT = "holdout" in {f.name for f in fields(TrialSpec)}
HOLDOUT_KEYS = {"samples", "accuracy", "worst_class_accuracy", "per_class_accuracy", "ece",
                "brier", "robustness", "robustness_mean", "param_count", "latency_ms_per_256"}


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ComparisonResult,
                                                                          Path]]:
    home = tmp_path_factory.mktemp("compare")
    with pytest.MonkeyPatch.context() as patch:
        if not REAL_RENDERER:
            install_stand_in(patch, StandInRenderer())
        config = onegin.CompareConfig.from_dict(
            TINY
            | {"trials": 2, "seeds": 1, "seed": 21, "retrain_seeds": 2, "concurrency": 2})
        yield onegin.compare(config, settings=embedded_settings(home)), home


def test_the_summary_has_both_arms_their_runs_and_retrains(
        compared: tuple[ComparisonResult, Path]) -> None:
    result, home = compared
    assert result.status == "completed", result.error
    summary: dict[str, Any] = result.summary or {}
    assert summary["id"] == result.job_id and summary["dataset"] == "digits"
    assert summary["seeds"] == [21] and summary["trials_per_arm"] == 2
    records = RecordStore(f"sqlite:///{home / 'onegin.db'}")
    for arm, objective in (("accuracy", "simple"), ("health", "health")):
        data = summary["arms"][arm]
        assert data["objective"] == objective
        [run] = data["runs"]
        job = records.get_job(run["job_id"])
        assert job.parent_id == result.job_id and job.status == "completed"
        assert job.config["objective"] == objective and job.config["holdout"] is True
        assert run["best_trial"] == job.best_trial_number is not None
        assert [t["number"] for t in run["trials"]] == [0, 1]
        best = next(t for t in run["trials"] if t["number"] == run["best_trial"])
        assert best["health"] is not None and best["val_accuracy"] is not None
        retrain = data["retrain"]
        assert retrain["seed"] == 21
        assert retrain["params"] == best["params"]
        retrained = records.get_job(retrain["job_id"])
        assert retrained.status == "completed" and retrained.config["data_seed"] == 21
        trials, _ = records.list_trials(retrained.id)
        assert [t.params for t in trials] == [best["params"]] * 2


@pytest.mark.xfail(not WORKERS_SCORE_HOLDOUT, strict=True,
                   reason="per-trial holdout metrics (interface 1) are another change's")
def test_every_completed_trial_and_retrain_carries_holdout_metrics(
        compared: tuple[ComparisonResult, Path]) -> None:
    summary: dict[str, Any] = compared[0].summary or {}
    for data in summary["arms"].values():
        for run in data["runs"]:
            for trial in run["trials"]:
                if trial["status"] == "completed":
                    assert set(trial["holdout"]) >= HOLDOUT_KEYS
        assert len(data["retrain"]["holdout"]) == 2


def test_the_report_and_summary_are_stored_as_the_comparisons_artifacts(
        compared: tuple[ComparisonResult, Path]) -> None:
    result, home = compared
    folder = home / "artifacts" / report_prefix(result.job_id)
    assert json.loads((folder / "summary.json").read_text()) == result.summary
    expected = ("report.html", "report.pdf", "analysis.json") if REAL_RENDERER \
        else STAND_IN_FILES
    assert all((folder / name).is_file() and (folder / name).stat().st_size > 0
               for name in expected)
    assert result.report_url is not None and result.report_url.startswith("file://")
    assert result.report_url.endswith(f"{result.job_id}/report/report.html")
