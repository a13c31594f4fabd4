"""The search benchmark's pure summary: target, time to target, chance share, medians, verdicts."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.search import (
    SCHEDULE_ARMS,
    Bench,
    RunResult,
    TrialPoint,
    assign_targets,
    best_val,
    chance_level,
    median_or_none,
    near_chance,
    onegin_config,
    summarize,
    target,
    time_to_target,
    verdicts,
)
from onegin.search_space import CategoricalParam


def point(val: float | None, end: float | None = None, seconds: float | None = 1.0,
          completed: bool = True) -> TrialPoint:
    return TrialPoint(val, end, seconds, completed)


def run(arm: str, trials: list[TrialPoint], *, seed: int = 0, chance: float = 0.1,
        dataset: str = "digits", budget: int = 12) -> RunResult:
    return RunResult(arm, dataset, budget, seed, trials, best_val(trials), 0.9, None,
                     chance, 10.0)


def test_chance_is_the_majority_class_share() -> None:
    assert chance_level([0, 1, 1, 1]) == 0.75
    assert chance_level([2, 0, 1, 3]) == 0.25


def test_best_val_counts_completed_trials_only() -> None:
    trials = [point(0.5), point(0.99, completed=False), point(None), point(0.7)]
    assert best_val(trials) == 0.7
    assert best_val([point(0.9, completed=False)]) is None


def test_target_is_a_share_of_the_best_of_any_run() -> None:
    assert target([0.8, None, 0.9]) == pytest.approx(0.8955)
    assert target([None]) is None


def test_time_to_target_is_the_first_completed_trial_to_end_at_or_above_it() -> None:
    trials = [point(0.95, end=30.0), point(0.90, end=5.0), point(0.97, end=12.0),
              point(0.99, end=3.0, completed=False)]
    assert time_to_target(trials, 0.95) == 12.0
    assert time_to_target(trials, 0.90) == 5.0
    assert time_to_target(trials, 0.98) is None
    assert time_to_target(trials, None) is None


def test_near_chance_counts_pruned_trials_and_skips_unscored_ones() -> None:
    trials = [point(0.15), point(0.2, completed=False), point(0.21), point(None), point(0.9)]
    assert near_chance(trials, chance=0.1) == (2, 4)


def test_median_treats_never_as_infinite() -> None:
    assert median_or_none([3.0, None, 1.0]) == 3.0
    assert median_or_none([3.0, None, None]) is None
    assert median_or_none([2.0, 4.0]) == 3.0
    assert median_or_none([]) is None


def test_assign_targets_sets_each_runs_time_per_dataset_and_budget() -> None:
    ours = run("onegin", [point(0.8, end=2.0), point(1.0, end=9.0)])
    script = run("optuna-tpe", [point(0.996, end=4.0)])
    other = run("onegin", [point(0.5, end=1.0)], budget=30)
    goals = assign_targets([ours, script, other])
    assert goals == {("digits", 12): pytest.approx(0.995), ("digits", 30): pytest.approx(0.4975)}
    assert (ours.time_to_target_s, script.time_to_target_s, other.time_to_target_s) == (
        9.0, 4.0, 1.0)


def test_summary_pools_seeds() -> None:
    runs = [run("onegin", [point(0.15, seconds=2.0), point(0.9, end=5.0, seconds=4.0)], seed=0),
            run("onegin", [point(0.95, end=7.0, seconds=8.0)], seed=1)]
    for r, t in zip(runs, (5.0, None), strict=True):
        r.time_to_target_s = t
    row = summarize(runs)
    assert row["best_val"] == pytest.approx(0.925)
    assert row["time_to_target_s"] is None  # one seed of two never got there
    assert (row["reached_target"], row["near_chance"], row["scored_trials"]) == (1, 1, 3)
    assert (row["trial_s_median"], row["trial_s_worst"]) == (4.0, 8.0)


def arm_row(best: float | None, ttt: float | None, near: int = 0, scored: int = 12) -> dict:
    return {"best_val": best, "time_to_target_s": ttt, "near_chance": near,
            "scored_trials": scored}


def test_verdict_one_needs_half_the_time_and_no_worse_best() -> None:
    assert verdicts({"onegin": arm_row(0.9, 5.0), "optuna-tpe": arm_row(0.9, 10.0)})[
        "faster_and_as_good_as_tpe"] is True
    assert verdicts({"onegin": arm_row(0.9, 5.1), "optuna-tpe": arm_row(0.9, 10.0)})[
        "faster_and_as_good_as_tpe"] is False
    assert verdicts({"onegin": arm_row(0.89, 1.0), "optuna-tpe": arm_row(0.9, 10.0)})[
        "faster_and_as_good_as_tpe"] is False
    assert verdicts({"onegin": arm_row(0.9, 5.0), "optuna-tpe": arm_row(0.8, None)})[
        "faster_and_as_good_as_tpe"] is True
    assert verdicts({"onegin": arm_row(0.9, None), "optuna-tpe": arm_row(0.8, None)})[
        "faster_and_as_good_as_tpe"] is False
    assert verdicts({"onegin": arm_row(0.9, 5.0)})["faster_and_as_good_as_tpe"] is None


def test_verdict_two_allows_one_near_chance_trial_in_twelve() -> None:
    assert verdicts({"onegin": arm_row(0.9, 1.0, near=1, scored=12)})[
        "at_most_1_in_12_near_chance"] is True
    assert verdicts({"onegin": arm_row(0.9, 1.0, near=2, scored=12)})[
        "at_most_1_in_12_near_chance"] is False
    assert verdicts({"onegin": arm_row(0.9, 1.0, near=2, scored=36)})[
        "at_most_1_in_12_near_chance"] is True
    assert verdicts({"optuna-tpe": arm_row(0.9, 1.0)})["at_most_1_in_12_near_chance"] is None


@pytest.mark.parametrize("arm", SCHEDULE_ARMS)
def test_schedule_arms_are_valid_jobs_that_search_them(arm: str, tmp_path: Path) -> None:
    space = onegin_config(arm, "digits", 12, 0, Bench(3, None, None, tmp_path)).space()
    schedule, early = space["lr_schedule"], space["early_stopping"]
    assert isinstance(schedule, CategoricalParam) and isinstance(early, CategoricalParam)
    assert (len(schedule.choices) == 5) == ("schedules" in arm)
    assert (len(early.choices) == 2) == ("early-stopping" in arm)
