"""A whole comparison on the embedded default, trained: real local GPU-worker processes,
SQLite, the filesystem broker and local files, through the same path as `onegin
optimize` (`onegin compare` -> `onegin.compare`). One seed, two trials per arm, one
epoch, two retrains.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from onegin.api import ComparisonResult, comparison_result_for
from onegin.artifacts import report_prefix
from onegin.cli import main as cli
from onegin.compare_table import HEADER
from onegin.holdout import HOLDOUT_KEYS
from onegin.records import RecordStore
from onegin.services import Services
from tests.integration.harness import TINY, embedded_settings

SETTINGS = ("home", "offline", "tf_threads", "heartbeat_interval", "heartbeat_timeout")


@dataclass(frozen=True)
class Compared:
    code: int  # the command's exit code
    printed: str  # its standard output
    result: ComparisonResult
    home: Path


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Compared]:
    """`onegin compare` run as a user runs it: a job file with the tiny model, and flags."""
    home = tmp_path_factory.mktemp("compare")
    job = home / "comparison.yaml"
    job.write_text(yaml.safe_dump(TINY))
    settings = embedded_settings(home)
    printed = io.StringIO()
    with redirect_stdout(printed):
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


def test_every_completed_trial_and_retrain_carries_holdout_metrics(
        compared: Compared) -> None:
    summary: dict[str, Any] = compared.result.summary or {}
    reports = []
    for data in summary["arms"].values():
        reports += [t["holdout"] for run in data["runs"] for t in run["trials"]
                    if t["status"] == "completed"]
        assert len(data["retrain"]["holdout"]) == 2
        reports += data["retrain"]["holdout"]
    assert all(set(report) == set(HOLDOUT_KEYS) for report in reports)
    # one seed: every search and retrain of both arms is scored on the same holdout split
    assert len({report["samples"] for report in reports}) == 1


def test_the_report_and_summary_are_stored_as_the_comparisons_artifacts(
        compared: Compared) -> None:
    result, home = compared.result, compared.home
    folder = home / "artifacts" / report_prefix(result.job_id)
    assert json.loads((folder / "summary.json").read_text()) == result.summary
    assert all((folder / name).is_file() and (folder / name).stat().st_size > 0
               for name in ("report.html", "report.pdf", "analysis.json"))
    analysis = json.loads((folder / "analysis.json").read_text())
    assert (analysis["id"], analysis["seeds"]) == (result.job_id, [21])  # of this summary
    assert set(analysis["retrain"]) == {"accuracy", "health"}
    assert result.report_url is not None and result.report_url.startswith("file://")
    assert result.report_url.endswith(f"{result.job_id}/report/report.html")
