"""The Pareto front over (validation accuracy, health score), and the default best on it.

Pure: points in, points out. A point dominates another when it is at least as good
in both objectives and better in one; the front is every completed trial that no
other dominates. Equal points do not dominate each other, so all of them are on
the front, as in Optuna's ``study.best_trials``.

The job's default best is the trial with the highest `best_key`: the highest
weighted total score, then the more accurate, then the healthier, then the
earlier. That trial is always on the front: one that dominated it would have a
total at least as high (the weights are not negative) and, on an equal total, a
higher accuracy or health. So the weights pick the best without the front being
computed, and the runner can keep it as trials complete.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import groupby
from typing import Protocol

from onegin.statuses import TrialStatus


@dataclass(frozen=True)
class FrontPoint:
    """A completed trial as the front sees it: its two objectives and its total score."""

    number: int
    accuracy: float
    health: float
    total: float


class ScoredTrial(Protocol):
    """What a trial record offers the front (`onegin.records.TrialRecord` is one)."""

    @property
    def number(self) -> int: ...
    @property
    def status(self) -> str: ...
    @property
    def val_accuracy(self) -> float | None: ...
    @property
    def health_score(self) -> float | None: ...
    @property
    def total_score(self) -> float | None: ...


def best_key(total: float, accuracy: float | None, health: float | None,
             number: int) -> tuple[float, float, float, int]:
    """Order of preference for the job's best: the highest is best (see the module)."""
    return (total, -math.inf if accuracy is None else accuracy,
            -math.inf if health is None else health, -number)


def dominates(a: FrontPoint, b: FrontPoint) -> bool:
    return (a.accuracy >= b.accuracy and a.health >= b.health
            and (a.accuracy > b.accuracy or a.health > b.health))


def pareto_front(points: Iterable[FrontPoint]) -> list[FrontPoint]:
    """The non-dominated points, by trial number; O(n log n).

    Swept from the most accurate down: within one accuracy only the healthiest can be
    on the front, and only when it is healthier than every more accurate point.
    """
    ordered = sorted(points, key=lambda p: (-p.accuracy, -p.health))
    front: list[FrontPoint] = []
    healthiest_above = -math.inf  # the best health among more accurate points
    for _, group in groupby(ordered, key=lambda p: p.accuracy):
        same_accuracy = list(group)
        top = same_accuracy[0].health
        if top > healthiest_above:
            front += [p for p in same_accuracy if p.health == top]
            healthiest_above = top
    return sorted(front, key=lambda p: p.number)


def front_points(trials: Iterable[ScoredTrial]) -> list[FrontPoint]:
    """The completed trials that have both objectives and a total score."""
    return [FrontPoint(t.number, t.val_accuracy, t.health_score, t.total_score)
            for t in trials
            if t.status == TrialStatus.COMPLETED and t.val_accuracy is not None
            and t.health_score is not None and t.total_score is not None]


def best_point(points: Iterable[FrontPoint]) -> FrontPoint | None:
    """The job's default best: the highest `best_key` (always on the front)."""
    return max(points, key=lambda p: best_key(p.total, p.accuracy, p.health, p.number),
               default=None)
