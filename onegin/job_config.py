"""A job's whole configuration, validated at once so every bad field is named.

Pure: the API, the CLI and the orchestrator share it; the dataset registry it
consults is static data. Each request field's check carries the JSON Schema of
what it accepts (`FieldCheck`), so the API document states the bounds the server
enforces without spelling them again.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal

from onegin.errors import ConfigError, ConfigErrors, shown
from onegin.scoring import OBJECTIVES, Objective, ScoringWeights, validate_objective
from onegin.search_space import SPACE_NAMES, SearchSpace, space_for

Pruner = Literal["none", "median", "successive_halving", "hyperband"]
PRUNERS: tuple[Pruner, ...] = ("none", "median", "successive_halving", "hyperband")
# which trials render plots; "best": only those that reach the job's best score so far
PlotMode = Literal["all", "best", "none"]
PLOT_MODES: tuple[PlotMode, ...] = ("all", "best", "none")
MAX_TRIALS = 10_000
MAX_EPOCHS = 1000
MAX_CONCURRENCY = 256
MAX_INITIAL = 100  # starting configurations a job may give
SEED_LIMIT = 2**31 - 1  # numpy's and TensorFlow's seeds take 32-bit values
MAX_SAMPLES = 2**31 - 1  # far beyond every dataset; keeps the value a plain 32-bit integer
MAX_TIME_LIMIT = 10 * 365 * 86400.0  # ten years: past it a limit means nothing
MAX_NAME = 200
# no control characters (PostgreSQL refuses NUL) nor lone surrogates (not UTF-8)
NAME_PATTERN = re.compile(r"[^\x00-\x1f\x7f\ud800-\udfff]*")
JOB_ID_PATTERN = re.compile(r"[0-9A-Za-z_-]{1,32}")


def fresh_seed() -> int:
    """A job without a seed gets one of its own, recorded with it, so repeated jobs
    explore differently and any one of them can be replayed."""
    return secrets.randbelow(SEED_LIMIT)


@dataclass(frozen=True)
class OptimizationConfig:
    """What a person asks for: dataset, objective, budget and search-space tweaks."""

    dataset: str = "digits"
    trials: int = 8
    concurrency: int = 2
    epochs: int = 3
    objective: Objective = "health"
    weights: ScoringWeights = field(default_factory=ScoringWeights)
    params: Mapping[str, Any] = field(default_factory=dict)
    space_name: str = "default"
    warm_start: bool = True
    initial_params: tuple[Mapping[str, Any], ...] = ()
    continue_from: str | None = None
    hopeless_stop: bool = True
    holdout: bool = False
    pruner: Pruner = "median"
    seed: int = field(default_factory=fresh_seed)
    data_seed: int | None = None
    plot_mode: PlotMode = "best"
    max_train_samples: int | None = None
    max_eval_samples: int | None = None
    time_limit: float | None = None
    name: str = ""

    def __post_init__(self) -> None:
        error = pruner_error(self.objective, self.pruner)
        if error is not None:
            raise ConfigErrors([error])

    def space(self) -> SearchSpace:
        return _space(self.dataset, self.params, self.space_name, self.max_train_samples)

    def to_dict(self) -> dict[str, Any]:
        data = {_FIELD_NAMES.get(f.name, f.name): getattr(self, f.name) for f in fields(self)}
        data["weights"] = self.weights.to_dict()
        data["params"] = dict(self.params)
        data["initial_params"] = [dict(p) for p in self.initial_params]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OptimizationConfig:
        """Validate user input; raises `ConfigErrors` listing every bad field."""
        return validate_config(data)


def pruner_error(objective: str, pruner: str) -> ConfigError | None:
    """Why ``pruner`` cannot serve ``objective``: Optuna's pruners judge one value per
    step, and a multi-objective study takes none (``Trial.report`` refuses it)."""
    if objective == "pareto" and pruner != "none":
        return ConfigError("pruner", f"must be none when the objective is pareto, got "
                           f"{shown(pruner)}: Optuna's pruners do not support multi-objective "
                           "studies (hopeless_stop still stops diverged, chance-level and "
                           "too-slow trials)")
    return None


def _space(dataset: str, params: Mapping[str, Any] | None, name: str,
           max_train_samples: int | None) -> SearchSpace:
    from onegin.datasets import facts_for, get_spec

    return space_for(get_spec(dataset).modality, params, name=name,
                     facts=facts_for(dataset, max_train_samples))


# the request's word for a field, where the attribute needs another (``space`` is a method)
_FIELD_NAMES = {"space_name": "space"}
REQUEST_FIELDS: tuple[str, ...] = tuple(_FIELD_NAMES.get(f.name, f.name)
                                        for f in fields(OptimizationConfig))
LEGACY_FIELDS = {"initial_trials": "initial_params"}  # stored jobs from before the rename


@dataclass(frozen=True)
class FieldCheck:
    """A request field's check and the JSON Schema of the values it lets through.

    ``schema`` is stated next to the check that enforces it, so the API document
    (webapp/openapi.py), built from these, cannot drift from the server.
    """

    check: Callable[[Any], Any]
    schema: Mapping[str, Any]

    def __call__(self, value: Any) -> Any:
        return self.check(value)

    def described(self, text: str) -> FieldCheck:
        """The same check; its schema says what the field is for."""
        return replace(self, schema={**self.schema, "description": text})


def _int(name: str, low: int, high: int) -> FieldCheck:
    def check(value: Any) -> int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # JSON has one number type: 8.0 is the integer 8
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(name, f"must be an integer, got {shown(value)}")
        if not low <= value <= high:
            raise ConfigError(name, f"must be between {low} and {high}, got {shown(value)}")
        return value
    return FieldCheck(check, {"type": "integer", "minimum": low, "maximum": high})


def _optional(inner: FieldCheck) -> FieldCheck:
    """``inner``, or null (the field's default)."""
    return FieldCheck(lambda value: None if value is None else inner(value),
                      {**inner.schema, "type": [inner.schema["type"], "null"]})


def _choice(name: str, choices: tuple[str, ...]) -> FieldCheck:
    def check(value: Any) -> str:
        if not isinstance(value, str) or value not in choices:
            raise ConfigError(name, f"must be one of {', '.join(choices)}, got {shown(value)}")
        return value
    return FieldCheck(check, {"enum": list(choices)})


def _time_limit(value: Any) -> float:
    if (isinstance(value, bool) or not isinstance(value, int | float)
            or not 0 < value <= MAX_TIME_LIMIT):
        raise ConfigError("time_limit", "must be a positive number of seconds, at most "
                          f"{MAX_TIME_LIMIT:g}, got {shown(value)}")
    return float(value)


def _bool(name: str) -> FieldCheck:
    def check(value: Any) -> bool:
        if not isinstance(value, bool):
            raise ConfigError(name, f"must be true or false, got {shown(value)}")
        return value
    return FieldCheck(check, {"type": "boolean"})


def _job_id(value: Any) -> str:
    if not isinstance(value, str) or not JOB_ID_PATTERN.fullmatch(value.strip()):
        raise ConfigError("continue_from", f"must be the id of an earlier job, got {shown(value)}")
    return value.strip()


def _name(value: Any) -> str:
    if not isinstance(value, str) or len(value) > MAX_NAME or not NAME_PATTERN.fullmatch(value):
        raise ConfigError("name", f"must be a string of at most {MAX_NAME} characters "
                                  "without control characters")
    return value


def _dataset(value: Any) -> str:
    from onegin.datasets import get_spec

    if not isinstance(value, str) or not value:
        raise ConfigError("dataset", f"must be a dataset name, got {shown(value)}")
    get_spec(value)
    return value


def _weights(value: Any) -> ScoringWeights:
    return value if isinstance(value, ScoringWeights) else ScoringWeights.from_mapping(value)


# one check per request field (``params`` and ``initial_params`` are checked against the
# job's search space, `_check_space`); `onegin.trial_message` reuses those a trial shares
FIELD_CHECKS: dict[str, FieldCheck] = {
    "dataset": FieldCheck(_dataset, {"type": "string", "minLength": 1}),
    "trials": _int("trials", 1, MAX_TRIALS),
    "concurrency": _int("concurrency", 1, MAX_CONCURRENCY),
    "epochs": _int("epochs", 1, MAX_EPOCHS),
    "objective": FieldCheck(validate_objective, {"enum": list(OBJECTIVES)}),
    "weights": FieldCheck(_weights, {"type": ["object", "null"]}),
    "space": _choice("space", SPACE_NAMES).described(
        "default: a practitioner's priors; wide: every option"),
    "warm_start": _bool("warm_start").described(
        "run known-good configurations first (default true)"),
    "continue_from": _optional(FieldCheck(
        _job_id, {"type": "string", "pattern": f"^{JOB_ID_PATTERN.pattern}$"})).described(
        "the id of a finished job of the caller's on the same dataset and space, whose "
        "trials seed this study"),
    "hopeless_stop": _bool("hopeless_stop").described(
        "stop diverged, chance-level and far-too-slow trials early (default true)"),
    "holdout": _bool("holdout").described(
        "also score each completed trial on the holdout split (accuracy, worst class, "
        "calibration, robustness, size, latency); reported only, never used by the search "
        "(default false)"),
    "pruner": _choice("pruner", PRUNERS).described(
        "stops trials that trail their peers (default median); with objective pareto only "
        "none (its default): Optuna's pruners do not support multi-objective studies"),
    "seed": _int("seed", 0, SEED_LIMIT).described(
        "default: a fresh random seed, recorded with the job"),
    "data_seed": _optional(_int("data_seed", 0, SEED_LIMIT)).described(
        "the seed of the train/validation/test/holdout split; default: seed. Trials still "
        "train with seed + their number, so a job may retrain configurations on another "
        "job's split with new training seeds"),
    "plot_mode": _choice("plot_mode", PLOT_MODES),
    "max_train_samples": _optional(_int("max_train_samples", 1, MAX_SAMPLES)),
    "max_eval_samples": _optional(_int("max_eval_samples", 1, MAX_SAMPLES)),
    "time_limit": _optional(FieldCheck(
        _time_limit, {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_TIME_LIMIT}
    )).described("seconds; no new trial after it (the first always runs)"),
    "name": FieldCheck(_name, {"type": "string", "maxLength": MAX_NAME,
                               "pattern": "^[^\\u0000-\\u001f\\u007f]*$"}).described(
        "shown in lists; no control characters"),
}


def validate_config(data: Mapping[str, Any]) -> OptimizationConfig:
    """Check every field, collect every error, then build the frozen config."""
    if not isinstance(data, Mapping):
        raise ConfigErrors([ConfigError("body", "must be a JSON object")])
    errors = [ConfigError(old, f"is the old name of {new}: give only {new}")
              for old, new in LEGACY_FIELDS.items() if old in data and new in data]
    data = {LEGACY_FIELDS.get(k, k): v for k, v in data.items()}
    errors += [ConfigError(k, "unknown field")
               for k in sorted(map(str, set(data) - set(REQUEST_FIELDS)))]
    values: dict[str, Any] = {}
    for name, check in FIELD_CHECKS.items():
        if name in data:
            try:
                values[name] = check(data[name])
            except ConfigError as exc:
                errors.append(exc)
            except ConfigErrors as exc:
                errors.extend(exc.errors)
    if not any(e.field in ("dataset", "space") for e in errors):
        _check_space(data, values, errors)
    if values.get("objective") == "pareto":
        values.setdefault("pruner", "none")  # the default pruner cannot judge two objectives
        if error := pruner_error("pareto", values["pruner"]):
            errors.append(error)
    if errors:
        raise ConfigErrors(errors)
    attributes = {k: v for k, v in values.items() if k not in _FIELD_NAMES.values()}
    if "space" in values:
        attributes["space_name"] = values["space"]
    return OptimizationConfig(**attributes)


def _check_space(data: Mapping[str, Any], values: dict[str, Any],
                 errors: list[ConfigError]) -> None:
    """The params narrow the job's space; every starting configuration must lie in it."""
    params = data.get("params")
    params = {} if params is None else params
    try:
        space = _space(values.get("dataset", "digits"), params,
                       values.get("space", "default"), values.get("max_train_samples"))
    except ConfigError as exc:
        errors.append(exc)
        return
    except ConfigErrors as exc:
        errors.extend(exc.errors)
        return
    values["params"] = dict(params)
    initial = data.get("initial_params")
    initial = [] if initial is None else initial
    if not isinstance(initial, list | tuple) or len(initial) > MAX_INITIAL:
        errors.append(ConfigError(
            "initial_params", f"must be a list of at most {MAX_INITIAL} parameter mappings"))
        return
    checked = []
    for i, one in enumerate(initial):
        try:
            if not isinstance(one, Mapping):
                raise ConfigError("", "must be a mapping of parameter name to value")
            checked.append(space.check(one))
        except ConfigError as exc:
            errors.append(ConfigError(f"initial_params[{i}].{exc.field}".rstrip("."),
                                      exc.reason))
    values["initial_params"] = tuple(checked)
