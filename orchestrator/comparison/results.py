"""The results of one comparison, as frozen values that serialize to analysis.json.

Kept apart from the statistics (analysis.py) and the words (learner.py) that both use them.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

TOTAL_HEALTH = "total_health"
CONFIDENCE = 0.95  # of every interval
ALPHA = 1 - CONFIDENCE  # the p-value a test must beat, for verdicts and for correlations
# n paired seeds give an exact sign-flip p of at least 2/2ⁿ: fewer than this never beat ALPHA
MIN_SEEDS_FOR_VERDICT = math.ceil(math.log2(2 / ALPHA))


@dataclass(frozen=True)
class BestModel:
    """One arm's best model of one seed, with its holdout metrics (None: none scored)."""

    seed: int
    job_id: str
    trial: int | None
    values: dict[str, float] | None


@dataclass(frozen=True)
class Difference:
    """Health − accuracy for one metric, paired over the seeds where both arms have a value."""

    metric: str
    n: int
    seeds: list[int]  # the paired seeds, in order
    per_seed: list[float]  # health − accuracy on each of them
    accuracy_mean: float | None
    health_mean: float | None
    mean: float | None
    low: float | None  # the bootstrap interval; None with fewer than 2 seeds
    high: float | None
    p_value: float | None  # exact paired sign-flip permutation test
    established: bool
    note: str  # why there is no verdict, or ""


@dataclass(frozen=True)
class RetrainSpread:
    accuracies: tuple[float, ...]
    spread: float | None  # largest − smallest holdout accuracy; None with fewer than 2


@dataclass(frozen=True)
class Correlation:
    """Kendall τ between one health score (a component or total) and one column."""

    component: str
    column: str
    n: int
    tau: float | None
    p_value: float | None
    undefined: str | None  # why τ is undefined, or None

    @property
    def significant(self) -> bool:
        return self.p_value is not None and self.p_value < ALPHA


@dataclass(frozen=True)
class TrialPoint:
    """One completed trial with health and holdout scores, as the correlations saw it."""

    arm: str
    seed: int
    number: int
    best: bool
    health: dict[str, float]  # the components and total health
    columns: dict[str, float]


@dataclass(frozen=True)
class LearnerNote:
    """One metric explained: what it means, what was found, and what carried it."""

    metric: str
    label: str
    meaning: str
    finding: str
    carried_by: str | None
    reason: str


@dataclass(frozen=True)
class Analysis:
    id: str
    dataset: str
    modality: str
    seeds: list[int]
    trials_per_arm: int
    epochs: int
    formulas: dict[str, str]  # arm -> what its search maximised
    metrics: list[dict[str, Any]]  # key, label, lower_is_better, decimals
    best: dict[str, list[BestModel]]
    differences: list[Difference]
    retrain: dict[str, RetrainSpread | None]
    correlations: list[Correlation]
    points: list[TrialPoint]
    verdicts: list[str]
    learner: list[LearnerNote]
    correlation_findings: list[str]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
