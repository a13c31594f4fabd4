"""Scoring: the one place that holds health components and their weights.

`simple` scores validation accuracy alone; `health` blends accuracy with the
weighted mean of six health components. Pure logic: no I/O, no TensorFlow.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, cast

from onegin.errors import ConfigError

Objective = Literal["simple", "health"]
OBJECTIVES: tuple[Objective, ...] = ("simple", "health")

HEALTH_COMPONENTS: tuple[str, ...] = (
    "neuron_utilization",
    "parameter_efficiency",
    "training_stability",
    "gradient_health",
    "convergence_quality",
    "accuracy_consistency",
)

DEFAULT_HEALTH_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {
        "neuron_utilization": 0.25,
        "parameter_efficiency": 0.15,
        "training_stability": 0.20,
        "gradient_health": 0.15,
        "convergence_quality": 0.15,
        "accuracy_consistency": 0.10,
    }
)
DEFAULT_ACCURACY_WEIGHT = 0.70
_SUM_TOLERANCE = 1e-6


def _check_weight(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(name, f"must be a number, got {value!r}")
    if not math.isfinite(value) or value < 0 or value > 1:
        raise ConfigError(name, f"must be between 0 and 1, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class ScoringWeights:
    """Validated weights: accuracy vs health, and the six health proportions."""

    accuracy: float = DEFAULT_ACCURACY_WEIGHT
    health: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_HEALTH_WEIGHTS))

    def __post_init__(self) -> None:
        _check_weight("weights.accuracy", self.accuracy)
        if not isinstance(self.health, Mapping):
            raise ConfigError("weights.health", "must be a mapping of component to weight")
        unknown = sorted(set(self.health) - set(HEALTH_COMPONENTS))
        if unknown:
            raise ConfigError(
                f"weights.health.{unknown[0]}",
                f"unknown health component; known: {', '.join(HEALTH_COMPONENTS)}",
            )
        missing = [name for name in HEALTH_COMPONENTS if name not in self.health]
        if missing:
            raise ConfigError(f"weights.health.{missing[0]}", "is missing")
        total = sum(_check_weight(f"weights.health.{k}", v) for k, v in self.health.items())
        if abs(total - 1.0) > _SUM_TOLERANCE:
            raise ConfigError("weights.health", f"must sum to 1, got {total:.6g}")
        object.__setattr__(self, "health", MappingProxyType(dict(self.health)))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> ScoringWeights:
        """Build from user input such as ``{"accuracy": 0.6, "health": {...}}``."""
        if data is None:
            return cls()
        unknown = sorted(set(data) - {"accuracy", "health"})
        if unknown:
            raise ConfigError(f"weights.{unknown[0]}", "unknown field; use accuracy or health")
        return cls(
            accuracy=data.get("accuracy", DEFAULT_ACCURACY_WEIGHT),
            health=data.get("health", dict(DEFAULT_HEALTH_WEIGHTS)),
        )

    def to_dict(self) -> dict[str, Any]:
        return {"accuracy": self.accuracy, "health": dict(self.health)}


def validate_objective(objective: str) -> Objective:
    if objective not in OBJECTIVES:
        raise ConfigError("objective", f"must be one of {', '.join(OBJECTIVES)}, got {objective!r}")
    return cast(Objective, objective)


def health_score(components: Mapping[str, float], weights: ScoringWeights) -> float:
    """Weighted mean of the six components (each in [0, 1])."""
    missing = [name for name in HEALTH_COMPONENTS if name not in components]
    if missing:
        raise ValueError(f"health component {missing[0]!r} was not measured")
    return sum(weights.health[name] * float(components[name]) for name in HEALTH_COMPONENTS)


def total_score(
    objective: Objective,
    accuracy: float,
    components: Mapping[str, float] | None,
    weights: ScoringWeights,
) -> float:
    """The number the search maximises."""
    if objective == "simple":
        return float(accuracy)
    if components is None:
        raise ValueError("the health objective needs health components")
    a = weights.accuracy
    return a * float(accuracy) + (1.0 - a) * health_score(components, weights)


def describe_formula(weights: ScoringWeights) -> str:
    """Human-readable formula, shown next to the best total score."""
    parts = " + ".join(f"{weights.health[n]:.2f}·{n}" for n in HEALTH_COMPONENTS)
    return f"{weights.accuracy:.2f}·accuracy + {1 - weights.accuracy:.2f}·({parts})"
