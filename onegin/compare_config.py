"""A comparison's request: one search under two objectives, same budget, same seeds.

`onegin compare` and ``POST /api/v1/comparisons`` share it. Every field a run shares
with an ordinary job is checked by that job's own check (`onegin.job_config`), so a bad
one is named exactly as ``POST /jobs`` names it; the comparison adds how many seeds and
retrains. The runs' own configurations are built here too, so what a comparison runs
is decided in one pure place: per seed one run per arm (both arms of a seed share it,
so they search the same split), then each arm's best configuration retrained with new
training seeds on the split it was found on (``data_seed``), every run scored on the
holdout split.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from onegin.errors import ConfigError, ConfigErrors
from onegin.job_config import (
    FIELD_CHECKS,
    MAX_NAME,
    MAX_TRIALS,
    SEED_LIMIT,
    FieldCheck,
    OptimizationConfig,
    _int,
    fresh_seed,
    validate_config,
)
from onegin.records import JobRecord
from onegin.scoring import Objective

# arm -> the objective its runs search with: accuracy alone, or accuracy blended with health
ARMS: dict[str, Objective] = {"accuracy": "simple", "health": "health"}
# the job fields every run of a comparison takes as given (the arm sets the objective)
RUN_FIELDS: tuple[str, ...] = (
    "dataset", "trials", "concurrency", "epochs", "weights", "params", "space", "warm_start",
    "hopeless_stop", "pruner", "plot_mode", "max_train_samples", "max_eval_samples")
DEFAULT_TRIALS = 12  # per arm and seed
MAX_SEEDS = 10
MAX_RETRAINS = 10
# a run's training seeds are its seed + trial number, and its retrains' follow them at
# + MAX_TRIALS: runs this far apart never share a training seed
SEED_STRIDE = MAX_TRIALS + MAX_RETRAINS
NAMED_PREFIX = MAX_NAME - 50  # room for " · accuracy · seed 2147483647 · retrain"

COMPARE_CHECKS: dict[str, FieldCheck] = {
    "seeds": _int("seeds", 1, MAX_SEEDS).described(
        "how many seeds (splits); each seed runs one search per arm (default 3)"),
    "seed": FIELD_CHECKS["seed"].described(
        "the first run's seed; the others follow from it (default: a fresh one)"),
    "retrain_seeds": _int("retrain_seeds", 0, MAX_RETRAINS).described(
        "new training seeds each arm's best configuration is retrained with (default 2)"),
    "name": FIELD_CHECKS["name"],
}
REQUEST_FIELDS: tuple[str, ...] = (*RUN_FIELDS, *COMPARE_CHECKS)


@dataclass(frozen=True)
class CompareConfig:
    """What a comparison runs. ``base`` holds the fields every run shares."""

    base: OptimizationConfig = field(
        default_factory=lambda: OptimizationConfig(trials=DEFAULT_TRIALS))
    seeds: int = 3
    seed: int = field(default_factory=fresh_seed)
    retrain_seeds: int = 2
    name: str = ""

    @property
    def run_seeds(self) -> list[int]:
        """One seed per split, both arms of a seed share it."""
        return [(self.seed + i * SEED_STRIDE) % (SEED_LIMIT + 1) for i in range(self.seeds)]

    def to_dict(self) -> dict[str, Any]:
        base = self.base.to_dict()
        return {**{k: base[k] for k in RUN_FIELDS}, "seeds": self.seeds, "seed": self.seed,
                "retrain_seeds": self.retrain_seeds, "name": self.name}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CompareConfig:
        """Validate user input; raises `ConfigErrors` listing every bad field."""
        return validate_compare(data)

    def run(self, arm: str, seed: int, comparison_id: str) -> OptimizationConfig:
        """The search of ``arm`` on seed ``seed``'s split, scored on the holdout too."""
        return replace(self.base, objective=ARMS[arm], seed=seed, holdout=True,
                       name=self._child_name(comparison_id, arm, seed))

    def retrain(self, arm: str, seed: int, params: Mapping[str, Any],
                comparison_id: str) -> OptimizationConfig:
        """``params`` trained again ``retrain_seeds`` times on seed ``seed``'s split, each
        with a new training seed: nothing is searched, pruned or stopped early, so every
        retrain reaches the holdout."""
        count = self.retrain_seeds
        return validate_config({
            **self.base.to_dict(), "objective": ARMS[arm],
            "seed": (seed + MAX_TRIALS) % (SEED_LIMIT + 1), "data_seed": seed,
            "holdout": True, "trials": count, "concurrency": min(self.base.concurrency, count),
            "initial_params": [dict(params)] * count, "warm_start": False, "pruner": "none",
            "hopeless_stop": False, "name": self._child_name(comparison_id, arm, seed)
            + " · retrain"})

    def _child_name(self, comparison_id: str, arm: str, seed: int) -> str:
        named = (self.name or f"comparison {comparison_id}")[:NAMED_PREFIX]
        return f"{named} · {arm} · seed {seed}"


def validate_compare(data: Mapping[str, Any]) -> CompareConfig:
    """Check every field, collect every error, then build the frozen config."""
    if not isinstance(data, Mapping):
        raise ConfigErrors([ConfigError("body", "must be a JSON object")])
    errors = [ConfigError(k, "unknown field")
              for k in sorted(map(str, set(data) - set(REQUEST_FIELDS)))]
    values: dict[str, Any] = {}
    for name, check in COMPARE_CHECKS.items():
        if name in data:
            try:
                values[name] = check(data[name])
            except ConfigError as exc:
                errors.append(exc)
    run = {"trials": DEFAULT_TRIALS} | {k: data[k] for k in RUN_FIELDS if k in data}
    base = None
    try:
        base = validate_config(run | {"seed": 0})
    except ConfigErrors as exc:
        errors.extend(exc.errors)
    if errors or base is None:
        raise ConfigErrors(errors)
    return CompareConfig(base=base, **values)


def arm_of(job: JobRecord) -> str:
    """The arm a comparison's run belongs to, by the objective it searched with."""
    objective = job.config.get("objective")
    return next(arm for arm, searched in ARMS.items() if searched == objective)


def split_seed(job: JobRecord) -> int:
    """The seed of the split a run searched or retrained on (a retrain's ``data_seed``)."""
    config = job.config
    return int(config["seed"] if config.get("data_seed") is None else config["data_seed"])


def is_retrain(job: JobRecord) -> bool:
    """A retrain runs on another run's split (``data_seed``); a search on its own."""
    return job.config.get("data_seed") is not None
