"""The comparison summary that `onegin compare` hands to the report, read into frozen values.

The summary is a JSON-able dict (docs/api.md, "compare"); it may come from a file or a stored
artifact, so every field is checked and every bad one named by its full path
(``arms.health.runs[1].trials[3].holdout.ece``) in one `ConfigErrors`, before any statistics
run. Pure: no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from onegin.errors import ConfigError, ConfigErrors, shown
from onegin.scoring import ScoringWeights

ARMS: tuple[str, ...] = ("accuracy", "health")
ARM_OBJECTIVES: Mapping[str, str] = {"accuracy": "simple", "health": "health"}
MODALITIES: tuple[str, ...] = ("images", "text")


@dataclass(frozen=True)
class Holdout:
    """One model's scores on the untouched holdout split (interface 1 of issue 13)."""

    samples: int
    accuracy: float
    worst_class_accuracy: float
    ece: float
    brier: float
    robustness: Mapping[str, tuple[float, ...]]  # corruption -> accuracy per severity
    robustness_mean: float
    param_count: int
    latency_ms_per_256: float


@dataclass(frozen=True)
class Trial:
    number: int
    status: str
    val_accuracy: float | None
    health: Mapping[str, float] | None
    health_score: float | None
    holdout: Holdout | None


@dataclass(frozen=True)
class Run:
    """One search (one seed) of one arm."""

    seed: int
    job_id: str
    best_trial: int | None
    trials: tuple[Trial, ...]

    def best(self) -> Trial | None:
        return next((t for t in self.trials if t.number == self.best_trial), None)


@dataclass(frozen=True)
class Retrain:
    """The arm's best configuration trained again with new seeds, scored on the holdout."""

    seed: int
    holdout: tuple[Holdout, ...]


@dataclass(frozen=True)
class Arm:
    objective: str
    weights: ScoringWeights  # the job's weights; the defaults where the summary gives none
    runs: tuple[Run, ...]
    retrain: Retrain | None


@dataclass(frozen=True)
class Summary:
    id: str
    dataset: str
    modality: str
    trials_per_arm: int
    seeds: tuple[int, ...]
    epochs: int
    arms: Mapping[str, Arm]  # "accuracy" and "health"


class _Reader:
    """Reads typed fields out of one JSON object, noting each bad one under its full path.

    A bad field reads as a stand-in (0, "", None) so that reading goes on and every error is
    found; `parse_summary` raises before any stand-in leaves this module.
    """

    def __init__(self, data: Any, path: str, errors: list[ConfigError]) -> None:
        self.path, self.errors = path, errors
        self.data: Mapping[str, Any] = data if isinstance(data, Mapping) else {}
        if not isinstance(data, Mapping):
            self.fail(f"must be an object, got {shown(data)}")

    def at(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def fail(self, reason: str, name: str | None = None) -> None:
        self.errors.append(ConfigError(self.at(name) if name else self.path or "summary", reason))

    def value(self, name: str, nullable: bool = False) -> Any:
        if name not in self.data:
            self.fail("is missing", name)
            return None
        value = self.data[name]
        if value is None and not nullable:
            self.fail("must not be null", name)
        return value

    def text(self, name: str) -> str:
        value = self.value(name)
        if value is not None and not isinstance(value, str):
            self.fail(f"must be a string, got {shown(value)}", name)
        return value if isinstance(value, str) else ""

    def optional_integer(self, name: str, nullable: bool = True) -> int | None:
        value = self.value(name, nullable)
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        self.fail(f"must be an integer, got {shown(value)}", name)
        return None

    def integer(self, name: str) -> int:
        return self.optional_integer(name, nullable=False) or 0

    def optional_number(self, name: str, nullable: bool = True) -> float | None:
        return _number(self.value(name, nullable), self.at(name), self.errors)

    def number(self, name: str) -> float:
        return self.optional_number(name, nullable=False) or 0.0

    def items(self, name: str) -> list[Any]:
        value = self.value(name)
        if value is not None and not isinstance(value, list):
            self.fail(f"must be a list, got {shown(value)}", name)
        return value if isinstance(value, list) else []


def _number(value: Any, path: str, errors: list[ConfigError]) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        errors.append(ConfigError(path, f"must be a finite number, got {shown(value)}"))
        return None
    return float(value)


def _holdout(data: Any, path: str, errors: list[ConfigError]) -> Holdout:
    r = _Reader(data, path, errors)
    robustness: dict[str, tuple[float, ...]] = {}
    corruptions = r.value("robustness")
    if isinstance(corruptions, Mapping):
        for name, accuracies in corruptions.items():
            where = r.at(f"robustness.{name}")
            if not isinstance(accuracies, list) or not accuracies:
                errors.append(ConfigError(where, "must be a non-empty list of accuracies, "
                                                 f"got {shown(accuracies)}"))
                continue
            robustness[str(name)] = tuple(_number(a, f"{where}[{i}]", errors) or 0.0
                                          for i, a in enumerate(accuracies))
    elif corruptions is not None:
        r.fail(f"must be an object of corruption -> accuracies, got {shown(corruptions)}",
               "robustness")
    return Holdout(samples=r.integer("samples"), accuracy=r.number("accuracy"),
                   worst_class_accuracy=r.number("worst_class_accuracy"), ece=r.number("ece"),
                   brier=r.number("brier"), robustness=robustness,
                   robustness_mean=r.number("robustness_mean"),
                   param_count=r.integer("param_count"),
                   latency_ms_per_256=r.number("latency_ms_per_256"))


def _trial(data: Any, path: str, errors: list[ConfigError]) -> Trial:
    r = _Reader(data, path, errors)
    health: dict[str, float] | None = None
    components = r.value("health", nullable=True)
    if isinstance(components, Mapping):
        health = {str(k): _number(c, r.at(f"health.{k}"), errors) or 0.0
                  for k, c in components.items()}
    elif components is not None:
        r.fail(f"must be an object of component -> score, got {shown(components)}", "health")
    raw_holdout = r.value("holdout", nullable=True)
    return Trial(number=r.integer("number"), status=r.text("status"),
                 val_accuracy=r.optional_number("val_accuracy"), health=health,
                 health_score=r.optional_number("health_score"),
                 holdout=None if raw_holdout is None else _holdout(raw_holdout, r.at("holdout"),
                                                                    errors))


def _run(data: Any, path: str, errors: list[ConfigError]) -> Run:
    r = _Reader(data, path, errors)
    run = Run(seed=r.integer("seed"), job_id=r.text("job_id"),
              best_trial=r.optional_integer("best_trial"),
              trials=tuple(_trial(t, r.at(f"trials[{i}]"), errors)
                           for i, t in enumerate(r.items("trials"))))
    if run.best_trial is not None and run.best() is None:
        r.fail(f"names trial {run.best_trial}, which is not among the run's trials",
               "best_trial")
    return run


def _retrain(data: Any, path: str, errors: list[ConfigError]) -> Retrain:
    r = _Reader(data, path, errors)
    return Retrain(seed=r.integer("seed"),
                   holdout=tuple(_holdout(h, r.at(f"holdout[{i}]"), errors)
                                 for i, h in enumerate(r.items("holdout"))))


def _arm(name: str, data: Any, seeds: tuple[int, ...], errors: list[ConfigError]) -> Arm:
    r = _Reader(data, f"arms.{name}", errors)
    objective = r.text("objective")
    if objective and objective != ARM_OBJECTIVES[name]:
        r.fail(f"must be {ARM_OBJECTIVES[name]!r} for the {name} arm, got {shown(objective)}",
               "objective")
    weights = ScoringWeights()
    try:
        weights = ScoringWeights.from_mapping(r.value("weights", nullable=True))
    except ConfigErrors as bad:
        errors += [ConfigError(r.at(e.field), e.reason) for e in bad.errors]
    runs = tuple(_run(x, r.at(f"runs[{i}]"), errors) for i, x in enumerate(r.items("runs")))
    for i, run in enumerate(runs):
        if run.seed not in seeds or [x.seed for x in runs].count(run.seed) > 1:
            r.fail(f"seed {run.seed} is repeated or not among the summary's seeds",
                   f"runs[{i}].seed")
    raw_retrain = r.value("retrain", nullable=True)
    return Arm(objective=objective, weights=weights, runs=runs,
               retrain=None if raw_retrain is None else _retrain(raw_retrain, r.at("retrain"),
                                                                  errors))


def parse_summary(data: Any) -> Summary:
    """The checked summary; raises `ConfigErrors` naming every bad field at once."""
    errors: list[ConfigError] = []
    r = _Reader(data, "", errors)
    modality = r.text("modality")
    if modality and modality not in MODALITIES:
        r.fail(f"must be one of {', '.join(MODALITIES)}, got {shown(modality)}", "modality")
    raw_seeds = r.items("seeds")
    seeds = tuple(s for s in raw_seeds if isinstance(s, int) and not isinstance(s, bool))
    if "seeds" in r.data and (len(seeds) != len(raw_seeds) or not seeds):
        r.fail(f"must be a non-empty list of integers, got {shown(raw_seeds)}", "seeds")
    arms: dict[str, Arm] = {}
    raw_arms = r.value("arms")
    if isinstance(raw_arms, Mapping):
        for name in sorted(map(str, set(raw_arms) - set(ARMS))):
            r.fail("unknown arm; the arms are accuracy and health", f"arms.{name}")
        for name in ARMS:
            if name in raw_arms:
                arms[name] = _arm(name, raw_arms[name], seeds, errors)
            else:
                r.fail("is missing", f"arms.{name}")
    elif raw_arms is not None:
        r.fail(f"must be an object with the arms accuracy and health, got {shown(raw_arms)}",
               "arms")
    summary = Summary(id=r.text("id"), dataset=r.text("dataset"), modality=modality,
                      trials_per_arm=r.integer("trials_per_arm"), seeds=seeds,
                      epochs=r.integer("epochs"), arms=arms)
    if errors:
        raise ConfigErrors(errors)
    return summary
