"""A whole comparison on the embedded default, trained: real local GPU-worker processes,
SQLite, the filesystem broker and local files, through the same path as `onegin
optimize` (`onegin compare` -> `onegin.compare`). One seed, two trials per arm, one
epoch, two retrains.

The report is rendered by `orchestrator.comparison.report` where it is installed, else
by the stand-in (tests/fixtures/report_stand_in.py); the summary it is given is
checked either way.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import redirect_stdout
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import pytest
import yaml

from onegin.api import ComparisonResult, comparison_result_for
from onegin.artifacts import report_prefix
from onegin.cli import main as cli
from onegin.compare_table import HEADER
from onegin.records import RecordStore
from onegin.services import Services
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
SETTINGS = ("home", "offline", "tf_threads", "heartbeat_interval", "heartbeat_timeout")
HOLDOUT_KEYS = {"samples", "accuracy", "worst_class_accuracy", "per_class_accuracy", "ece",
                "brier", "robustness", "robustness_mean", "param_count", "latency_ms_per_256"}


@dataclass(frozen=True)
class Compared:
    code: int  # the command's exit code
    printed: str  # its standard output
    result: ComparisonResult
    home: Path


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Compared]:
    """`onegin compare` run as a user runs it (in this process, so the stand-in renderer
    can be put in place): a job file with the tiny model, and flags."""
    home = tmp_path_factory.mktemp("compare")
    job = home / "comparison.yaml"
    job.write_text(yaml.safe_dump(TINY))
    settings = embedded_settings(home)
    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, redirect_stdout(printed):
        if not REAL_RENDERER:
            install_stand_in(patch, StandInRenderer())
        code = cli(["compare", "--job", str(job), "--trials", "2", "--seeds", "1",
                    "--seed", "21", "--retrain-seeds", "2", "--concurrency", "2",
                    "--weights", "{accuracy: 0.6}",
                    *[f"--set={k}={getattr(settings, k)}" for k in SETTINGS]])
    comparison_id = printed.getvalue().splitlines()[0]
    yield Compared(code, printed.getvalue(),
                   comparison_result_for(Services(settings), comparison_id), home)


def test_the_command_prints_its_id_then_the_table_and_the_report(compared: Compared) -> None:
    result = compared.result
    assert compared.code == 0, compared.printed
    lines = compared.printed.splitlines()
    assert lines[0] == result.job_id
    assert lines[1].split() == list(HEADER[:4]) + [w for h in HEADER[4:] for w in h.split()]
    summary: dict[str, Any] = result.summary or {}
    for arm, row in zip(("accuracy", "health"), lines[2:4], strict=True):
        [run] = summary["arms"][arm]["runs"]
        assert row.split()[:4] == [arm, "21", run["job_id"], str(run["best_trial"])]
    assert lines[-1] == f"report: {result.report_url}"


def test_the_summary_has_both_arms_their_runs_and_retrains(compared: Compared) -> None:
    result, home = compared.result, compared.home
    assert result.status == "completed", result.error
    summary: dict[str, Any] = result.summary or {}
    assert summary["id"] == result.job_id and summary["dataset"] == "digits"
    assert summary["seeds"] == [21] and summary["trials_per_arm"] == 2
    assert summary["arms"]["health"]["weights"]["accuracy"] == 0.6
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
        compared: Compared) -> None:
    summary: dict[str, Any] = compared.result.summary or {}
    for data in summary["arms"].values():
        for run in data["runs"]:
            for trial in run["trials"]:
                if trial["status"] == "completed":
                    assert set(trial["holdout"]) >= HOLDOUT_KEYS
        assert len(data["retrain"]["holdout"]) == 2


def test_the_report_and_summary_are_stored_as_the_comparisons_artifacts(
        compared: Compared) -> None:
    result, home = compared.result, compared.home
    folder = home / "artifacts" / report_prefix(result.job_id)
    assert json.loads((folder / "summary.json").read_text()) == result.summary
    expected = ("report.html", "report.pdf", "analysis.json") if REAL_RENDERER \
        else STAND_IN_FILES
    assert all((folder / name).is_file() and (folder / name).stat().st_size > 0
               for name in expected)
    assert result.report_url is not None and result.report_url.startswith("file://")
    assert result.report_url.endswith(f"{result.job_id}/report/report.html")
