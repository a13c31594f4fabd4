"""Scoring: the one place that holds health components and their weights.

`simple` scores validation accuracy alone; `health` blends accuracy with the
weighted mean of six health components; `pareto` searches accuracy and health as
two objectives and uses the same blend only to pick the default best from the
front. Pure logic: no I/O, no TensorFlow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal, cast

from onegin.errors import ConfigError, ConfigErrors, shown

Objective = Literal["simple", "health", "pareto"]
OBJECTIVES: tuple[Objective, ...] = ("simple", "health", "pareto")
# the objectives whose trials must measure health: their score or their study needs it
HEALTH_OBJECTIVES: frozenset[Objective] = frozenset({"health", "pareto"})

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


def _weight_error(name: str, value: Any) -> ConfigError | None:
    """Why ``value`` is no weight (a number from 0 to 1), or None when it is one."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return ConfigError(name, f"must be a number, got {shown(value)}")
    if not 0 <= value <= 1:  # also refuses NaN; ints of any size compare without overflow
        return ConfigError(name, f"must be between 0 and 1, got {shown(value)}")
    return None


def weight_errors(accuracy: Any, health: Any) -> list[ConfigError]:
    """Every reason ``accuracy`` and ``health`` are not valid weights (empty: they are)."""
    errors = [e for e in [_weight_error("weights.accuracy", accuracy)] if e]
    if not isinstance(health, Mapping):
        return [*errors, ConfigError("weights.health", "must be a mapping of health component "
                                     f"to weight, got {shown(health)}")]
    known = ", ".join(HEALTH_COMPONENTS)
    errors += [ConfigError(f"weights.health.{name}", f"unknown health component; known: {known}")
               for name in sorted(map(str, set(health) - set(HEALTH_COMPONENTS)))]
    errors += [ConfigError(f"weights.health.{name}", "is missing")
               for name in HEALTH_COMPONENTS if name not in health]
    bad = [e for name in HEALTH_COMPONENTS if name in health
           if (e := _weight_error(f"weights.health.{name}", health[name]))]
    errors += bad
    if not errors:
        total = sum(float(health[name]) for name in HEALTH_COMPONENTS)
        if abs(total - 1.0) > _SUM_TOLERANCE:
            errors.append(ConfigError("weights.health", f"must sum to 1, got {total:.6g}"))
    return errors


@dataclass(frozen=True)
class ScoringWeights:
    """Validated weights: accuracy vs health, and the six health proportions."""

    accuracy: float = DEFAULT_ACCURACY_WEIGHT
    health: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_HEALTH_WEIGHTS))

    def __post_init__(self) -> None:
        errors = weight_errors(self.accuracy, self.health)
        if errors:
            raise ConfigErrors(errors)
        object.__setattr__(self, "accuracy", float(self.accuracy))
        object.__setattr__(self, "health", MappingProxyType(
            {name: float(self.health[name]) for name in HEALTH_COMPONENTS}))

    @classmethod
    def from_mapping(cls, data: Any) -> ScoringWeights:
        """Build from user input such as ``{"accuracy": 0.6, "health": {...}}``; raises
        `ConfigErrors` naming every bad part at once."""
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise ConfigErrors([ConfigError(
                "weights", f"must be a mapping with accuracy and/or health, got {shown(data)}")])
        unknown = [ConfigError(f"weights.{name}", "unknown field; use accuracy or health")
                   for name in sorted(map(str, set(data) - {"accuracy", "health"}))]
        accuracy = data.get("accuracy", DEFAULT_ACCURACY_WEIGHT)
        health = data.get("health", dict(DEFAULT_HEALTH_WEIGHTS))
        errors = unknown + weight_errors(accuracy, health)
        if errors:
            raise ConfigErrors(errors)
        return cls(accuracy=accuracy, health=health)

    def to_dict(self) -> dict[str, Any]:
        return {"accuracy": self.accuracy, "health": dict(self.health)}


def validate_objective(objective: Any) -> Objective:
    if not isinstance(objective, str) or objective not in OBJECTIVES:
        raise ConfigError("objective",
                          f"must be one of {', '.join(OBJECTIVES)}, got {shown(objective)}")
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
    """The number the search maximises; in pareto mode, the one that picks the default
    best from the front (the search itself maximises `pareto_values`)."""
    if objective == "simple":
        return float(accuracy)
    if components is None:
        raise ValueError(f"the {objective} objective needs health components")
    a = weights.accuracy
    return a * float(accuracy) + (1.0 - a) * health_score(components, weights)


def pareto_values(accuracy: float, components: Mapping[str, float] | None,
                  weights: ScoringWeights) -> tuple[float, float]:
    """A trial's point in pareto mode: (validation accuracy, health score), both maximised."""
    if components is None:
        raise ValueError("the pareto objective needs health components")
    return float(accuracy), health_score(components, weights)


def describe_formula(weights: ScoringWeights) -> str:
    """Human-readable formula, shown next to the best total score."""
    parts = " + ".join(f"{weights.health[n]:.2f}·{n}" for n in HEALTH_COMPONENTS)
    return f"{weights.accuracy:.2f}·accuracy + {1 - weights.accuracy:.2f}·({parts})"
