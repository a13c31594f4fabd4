"""A comparison moved on look by look: its searches, its retrains, its report, a cancel.

The real `ComparisonRunner` on real records (SQLite), control store, events and
artifacts of the embedded backends; its runs are never trained here: each test writes
the records a finished run would have, so every stage is checked on its own. The
report's renderer is the stand-in (tests/fixtures/report_stand_in.py); the whole
path, trained, is tests/integration/test_compare.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from onegin.artifacts import report_prefix
from onegin.compare_config import CompareConfig, arm_of, is_retrain
from onegin.job_kinds import JobKind
from onegin.records import JobRecord
from onegin.services import Services, use_services
from onegin.settings import load_settings
from onegin.submission import cancel_job, create_comparison
from orchestrator.compare_runner import ComparisonRunner
from orchestrator.tasks import COMPARISON_LOOKS, run_job_task
from tests.fixtures.report_stand_in import STAND_IN_FILES, StandInRenderer, stand_in_report

__all__ = ["stand_in_report"]  # the fixture, used by name below
HOLDOUT = {"samples": 60, "accuracy": 0.8, "worst_class_accuracy": 0.5,
           "per_class_accuracy": [0.9, 0.5], "ece": 0.05, "brier": 0.3,
           "robustness": {"gaussian_noise": [0.7, 0.6, 0.5]}, "robustness_mean": 0.6,
           "param_count": 1000, "latency_ms_per_256": 2.0}


@pytest.fixture
def services(tmp_path: Path) -> Services:
    return Services(load_settings(env={}, overrides={"home": str(tmp_path), "offline": True}))


class Comparison:
    """A comparison in the records, its runner, and the ids its runner started."""

    def __init__(self, services: Services, **fields: Any) -> None:
        self.services = services
        self.config = CompareConfig.from_dict({"trials": 2, "seeds": 2, "seed": 3,
                                               "epochs": 1} | fields)
        self.job = create_comparison(services.records, self.config, owner="me")
        self.started: list[str] = []
        self.runner = ComparisonRunner(self.job.id, services, self.started.append)

    def runs(self) -> list[JobRecord]:
        return self.services.records.list_children(self.job.id)

    def finish_run(self, run: JobRecord, accuracies: list[float | None]) -> None:
        """Write what a run's orchestrator would: its trials, its best, its end."""
        records = self.services.records
        records.update_job(run.id, status="running")
        for number, accuracy in enumerate(accuracies):
            status = "failed" if accuracy is None else "completed"
            records.upsert_trial(
                run.id, number, status=status, params={"filters": 16 * (number + 1)},
                val_accuracy=accuracy, total_score=accuracy,
                health={"neuron_utilization": 0.5} if accuracy is not None else None,
                metrics=None if accuracy is None else {"test_accuracy": accuracy - 0.01},
                holdout=None if accuracy is None else HOLDOUT | {"accuracy": accuracy})
        completed = [(accuracy, n) for n, accuracy in enumerate(accuracies)
                     if accuracy is not None]
        if not completed:
            records.update_job(run.id, status="failed", error="no trial completed")
            return
        score, best = max(completed)
        records.update_job(run.id, status="completed", best_trial_number=best,
                           best_score=score, best_accuracy=score)


def test_it_starts_one_search_per_arm_and_seed_once(services: Services) -> None:
    comparison = Comparison(services)
    assert comparison.runner.advance().status == "running"
    runs = comparison.runs()
    assert comparison.started == [r.id for r in runs]
    assert sorted((arm_of(r), r.config["seed"]) for r in runs) == sorted(
        (arm, seed) for arm in ("accuracy", "health") for seed in comparison.config.run_seeds)
    assert all(r.parent_id == comparison.job.id and r.kind == JobKind.SEARCH and r.owner == "me"
               and r.config["holdout"] is True and r.config["trials"] == 2 for r in runs)
    comparison.runner.advance()  # a second look while they run starts nothing more
    assert len(comparison.runs()) == 4 and len(comparison.started) == 4


def test_each_arms_best_is_retrained_on_its_split_then_the_report_is_stored(
        services: Services, stand_in_report: StandInRenderer) -> None:
    comparison = Comparison(services)
    comparison.runner.advance()
    searches = comparison.runs()
    scores = {("accuracy", 0): [0.7, 0.9], ("accuracy", 1): [0.8, 0.6],
              ("health", 0): [0.5, 0.6], ("health", 1): [0.95, None]}
    seeds = comparison.config.run_seeds
    for run in searches[:-1]:
        comparison.finish_run(run, scores[arm_of(run), seeds.index(run.config["seed"])])
    assert comparison.runner.advance().status == "running"
    assert len(comparison.runs()) == 4  # no retrain before every search has ended
    last = searches[-1]
    comparison.finish_run(last, scores[arm_of(last), seeds.index(last.config["seed"])])
    comparison.runner.advance()
    retrains = [r for r in comparison.runs() if is_retrain(r)]
    by_arm = {arm_of(r): r for r in retrains}
    assert set(by_arm) == {"accuracy", "health"} and comparison.started[-2:] == [
        r.id for r in retrains]
    # accuracy: 0.9 on seed 0 (trial 1); health: 0.95 on seed 1 (trial 0)
    for arm, seed, filters in (("accuracy", seeds[0], 32), ("health", seeds[1], 16)):
        config = by_arm[arm].config
        first, second = config["initial_params"]
        assert config["data_seed"] == seed and first == second and first["filters"] == filters
    assert stand_in_report.summaries == []
    for run in retrains:
        comparison.finish_run(run, [0.85, 0.83])
    job = comparison.runner.advance()
    assert job.status == "completed", job.error
    [summary] = stand_in_report.summaries
    assert summary["id"] == job.id and summary["seeds"] == seeds
    assert summary["modality"] == "images" and summary["trials_per_arm"] == 2
    for arm, objective in (("accuracy", "simple"), ("health", "health")):
        data = summary["arms"][arm]
        assert data["objective"] == objective
        assert [r["seed"] for r in data["runs"]] == seeds
        assert all(len(r["trials"]) == 2 for r in data["runs"])
        assert data["retrain"]["holdout"] == [HOLDOUT | {"accuracy": 0.85},
                                              HOLDOUT | {"accuracy": 0.83}]
    assert summary["arms"]["health"]["weights"]["accuracy"] == 0.7
    assert summary["arms"]["accuracy"]["weights"] is None
    assert summary["arms"]["health"]["retrain"]["seed"] == seeds[1]
    store = services.artifacts
    prefix = report_prefix(job.id)
    assert json.loads(store.get_bytes(prefix + "summary.json")) == summary
    assert all(store.exists(prefix + name) for name in STAND_IN_FILES)


def test_no_retrain_when_asked_for_none(services: Services,
                                        stand_in_report: StandInRenderer) -> None:
    comparison = Comparison(services, seeds=1, retrain_seeds=0)
    comparison.runner.advance()
    for run in comparison.runs():
        comparison.finish_run(run, [0.6, 0.7])
    assert comparison.runner.advance().status == "completed"
    assert len(comparison.runs()) == 2
    assert [s["arms"]["health"]["retrain"] for s in stand_in_report.summaries] == [None]


def test_a_comparison_whose_searches_all_failed_fails_without_retrains(
        services: Services, stand_in_report: StandInRenderer) -> None:
    comparison = Comparison(services, seeds=1)
    comparison.runner.advance()
    for run in comparison.runs():
        comparison.finish_run(run, [None, None])
    job = comparison.runner.advance()
    assert job.status == "failed" and "no search" in (job.error or "")
    assert len(comparison.runs()) == 2 and stand_in_report.summaries == []
    assert services.artifacts.exists(report_prefix(job.id) + "summary.json")


def test_a_report_that_cannot_be_rendered_fails_the_comparison_keeping_the_summary(
        services: Services, stand_in_report: StandInRenderer) -> None:
    stand_in_report.error = RuntimeError("no fonts")
    comparison = Comparison(services, seeds=1, retrain_seeds=0)
    comparison.runner.advance()
    for run in comparison.runs():
        comparison.finish_run(run, [0.6])
    job = comparison.runner.advance()
    assert job.status == "failed" and "no fonts" in (job.error or "")
    assert services.artifacts.exists(report_prefix(job.id) + "summary.json")


def test_a_cancel_reaches_every_run_and_ends_the_comparison(services: Services) -> None:
    comparison = Comparison(services)
    comparison.runner.advance()
    first, *others = comparison.runs()
    services.records.update_job(first.id, status="running")  # one run has started
    job = cancel_job(services.records, services.events, comparison.job.id)
    assert job.status == "cancelling"
    runs = {r.id: r.status for r in comparison.runs()}
    assert runs[first.id] == "cancelling"  # its orchestrator stops its trials
    assert {runs[r.id] for r in others} == {"cancelled"}  # nobody had started them
    assert comparison.runner.advance().status == "cancelling"  # the started run still ends
    services.records.update_job(first.id, status="cancelled")
    assert comparison.runner.advance().status == "cancelled"
    assert len(comparison.runs()) == 4  # nothing was started after the cancel


def test_a_comparison_cancelled_before_it_started_starts_nothing(services: Services) -> None:
    comparison = Comparison(services)
    assert cancel_job(services.records, services.events, comparison.job.id).status == "cancelled"
    assert comparison.runner.advance().status == "cancelled"
    assert comparison.runs() == [] and comparison.started == []


def test_a_second_message_for_a_comparison_leaves_it_to_the_first(services: Services) -> None:
    """An orchestrator that starts re-sends every unfinished job; a comparison already has
    a message looking at it again and again, so the new one must not start a second loop."""
    use_services(services)
    comparison = Comparison(services)
    services.control.claim(comparison.job.id, COMPARISON_LOOKS, "the-first-message", ttl=60)
    looked = run_job_task.apply(args=[comparison.job.id], task_id="a-second-message")
    assert looked.get() == "queued"
    assert services.records.get_job(comparison.job.id).status == "queued"
    assert comparison.runs() == []
