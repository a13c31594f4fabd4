"""The Pareto front over (accuracy, health) and the default best on it, on constructed points."""

from __future__ import annotations

import random
from dataclasses import dataclass

import optuna
import pytest

from onegin.pareto import FrontPoint, best_point, dominates, front_points, pareto_front


def points(*pairs: tuple[float, float], weight: float = 0.7) -> list[FrontPoint]:
    """Trials 0, 1, … at (accuracy, health), totalled with accuracy weight ``weight``."""
    return [FrontPoint(n, a, h, weight * a + (1 - weight) * h) for n, (a, h) in enumerate(pairs)]


def numbers(found: list[FrontPoint]) -> list[int]:
    return [p.number for p in found]


def test_dominated_points_are_left_out() -> None:
    found = pareto_front(points((0.9, 0.5), (0.8, 0.7), (0.7, 0.6), (0.95, 0.4), (0.6, 0.9)))
    assert numbers(found) == [0, 1, 3, 4]  # trial 2 is beaten on both by trial 1


def test_equal_points_are_all_on_the_front() -> None:
    found = pareto_front(points((0.9, 0.5), (0.9, 0.5), (0.8, 0.5)))
    assert numbers(found) == [0, 1]  # neither twin dominates the other; trial 2 trails both


def test_a_tie_in_one_objective_is_settled_by_the_other() -> None:
    assert numbers(pareto_front(points((0.9, 0.5), (0.9, 0.6), (0.7, 0.6)))) == [1]


def test_a_single_point_is_the_front_and_the_best() -> None:
    only = points((0.1, 0.0))
    assert pareto_front(only) == only and best_point(only) == only[0]
    assert pareto_front([]) == [] and best_point([]) is None


@pytest.mark.parametrize("weight", [0.0, 0.3, 0.7, 1.0])
def test_the_front_matches_optunas_best_trials_and_holds_the_best(weight: float) -> None:
    rng = random.Random(13)
    # values on a coarse grid, so ties in one or both objectives are common
    pairs = [(rng.randint(0, 8) / 8, rng.randint(0, 8) / 8) for _ in range(60)]
    scored = points(*pairs, weight=weight)
    study = optuna.create_study(directions=["maximize", "maximize"])
    study.add_trials([optuna.trial.create_trial(values=list(p)) for p in pairs])
    found = pareto_front(scored)
    assert numbers(found) == sorted(t.number for t in study.best_trials)
    assert not any(dominates(a, b) for a in found for b in found)
    best = best_point(scored)
    assert best is not None and best in found
    assert best.total == max(p.total for p in scored)


def test_on_an_equal_total_the_healthier_of_two_as_accurate_trials_is_best() -> None:
    # accuracy weight 1: the totals tie; only the healthier one is on the front
    twins = points((0.9, 0.3), (0.9, 0.6), weight=1.0)
    assert numbers(pareto_front(twins)) == [1]
    assert best_point(twins) == twins[1]


@dataclass(frozen=True)
class Scored:
    """A trial record's scoring fields (`onegin.pareto.ScoredTrial`)."""

    number: int
    status: str
    val_accuracy: float | None
    health_score: float | None
    total_score: float | None


def test_only_completed_trials_with_both_objectives_are_points() -> None:
    trials = [Scored(0, "completed", 0.9, 0.5, 0.8), Scored(1, "pruned", 0.95, None, 0.95),
              Scored(2, "completed", 0.8, None, 0.8), Scored(3, "failed", None, None, None)]
    assert front_points(trials) == [FrontPoint(0, 0.9, 0.5, 0.8)]
