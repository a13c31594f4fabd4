"""The search space as data: one table per modality, defaults in one place.

A parameter knows its legal range, its default, how to narrow or fix itself, and
how to ask an Optuna-like trial for a value. Per-job overrides narrow or fix
parameters and are validated here, naming the parameter at fault. Pure logic.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol

from onegin.errors import ConfigError

Modality = Literal["image", "text"]
MODALITIES: tuple[Modality, ...] = ("image", "text")


class TrialLike(Protocol):
    """The part of ``optuna.Trial`` the space needs (kept duck-typed: no Optuna import)."""

    def suggest_int(self, name: str, low: int, high: int, *, log: bool = ...) -> int: ...

    def suggest_float(self, name: str, low: float, high: float, *, log: bool = ...) -> float: ...

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any: ...


@dataclass(frozen=True)
class IntParam:
    name: str
    low: int
    high: int
    default: int
    log: bool = False

    def contains(self, value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and (
            self.low <= value <= self.high
        )

    def narrow(self, spec: Mapping[str, Any]) -> IntParam:
        low, high = _bounds(self, spec, int)
        return replace(self, low=low, high=high, default=min(max(self.default, low), high))

    def suggest(self, trial: TrialLike) -> int:
        if self.low == self.high:
            return self.low
        return trial.suggest_int(self.name, self.low, self.high, log=self.log)

    def sample(self, rng: random.Random) -> int:
        if self.low == self.high:
            return self.low
        if self.log:
            value = math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
            return min(self.high, max(self.low, round(value)))
        return rng.randint(self.low, self.high)

    def parse(self, text: str) -> int:
        try:
            return int(text)
        except ValueError:
            raise ConfigError(f"params.{self.name}", f"must be an integer, got {text!r}") from None

    def describe(self) -> dict[str, Any]:
        return {"type": "int", "low": self.low, "high": self.high, "log": self.log,
                "default": self.default}


@dataclass(frozen=True)
class FloatParam:
    name: str
    low: float
    high: float
    default: float
    log: bool = False

    def contains(self, value: Any) -> bool:
        return (isinstance(value, int | float) and not isinstance(value, bool)
                and math.isfinite(value) and self.low <= value <= self.high)

    def narrow(self, spec: Mapping[str, Any]) -> FloatParam:
        low, high = _bounds(self, spec, float)
        return replace(self, low=low, high=high, default=min(max(self.default, low), high))

    def suggest(self, trial: TrialLike) -> float:
        if self.low == self.high:
            return self.low
        return trial.suggest_float(self.name, self.low, self.high, log=self.log)

    def sample(self, rng: random.Random) -> float:
        if self.low == self.high:
            return self.low
        if self.log:
            return math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        return rng.uniform(self.low, self.high)

    def parse(self, text: str) -> float:
        try:
            return float(text)
        except ValueError:
            raise ConfigError(f"params.{self.name}", f"must be a number, got {text!r}") from None

    def describe(self) -> dict[str, Any]:
        return {"type": "float", "low": self.low, "high": self.high, "log": self.log,
                "default": self.default}


@dataclass(frozen=True)
class CategoricalParam:
    name: str
    choices: tuple[Any, ...]
    default: Any

    def contains(self, value: Any) -> bool:
        return any(type(value) is type(c) and value == c for c in self.choices)

    def narrow(self, spec: Mapping[str, Any]) -> CategoricalParam:
        if set(spec) != {"choices"}:
            raise ConfigError(f"params.{self.name}", "narrow a categorical with {'choices': [...]}")
        chosen = spec["choices"]
        if not isinstance(chosen, list | tuple) or not chosen:
            raise ConfigError(f"params.{self.name}", "choices must be a non-empty list")
        for value in chosen:
            if not self.contains(value):
                raise ConfigError(
                    f"params.{self.name}", f"{value!r} is not one of {list(self.choices)}"
                )
        default = self.default if self.default in chosen else chosen[0]
        return replace(self, choices=tuple(chosen), default=default)

    def suggest(self, trial: TrialLike) -> Any:
        if len(self.choices) == 1:
            return self.choices[0]
        return trial.suggest_categorical(self.name, list(self.choices))

    def sample(self, rng: random.Random) -> Any:
        return rng.choice(self.choices)

    def parse(self, text: str) -> Any:
        for choice in self.choices:
            if str(choice).lower() == text.strip().lower():
                return choice
        raise ConfigError(f"params.{self.name}", f"{text!r} is not one of {list(self.choices)}")

    def describe(self) -> dict[str, Any]:
        return {"type": "categorical", "choices": list(self.choices), "default": self.default}


Param = IntParam | FloatParam | CategoricalParam


def _bounds(param: IntParam | FloatParam, spec: Mapping[str, Any], kind: type) -> tuple[Any, Any]:
    field = f"params.{param.name}"
    extra = set(spec) - {"low", "high"}
    if extra:
        raise ConfigError(field, f"unknown range key {sorted(extra)[0]!r}; use low and high")
    low, high = spec.get("low", param.low), spec.get("high", param.high)
    for bound_name, bound in (("low", low), ("high", high)):
        if not param.contains(bound):
            raise ConfigError(
                f"{field}.{bound_name}",
                f"must be a {kind.__name__} within [{param.low}, {param.high}], got {bound!r}",
            )
    if low > high:
        raise ConfigError(field, f"empty range: low {low} is above high {high}")
    return low, high


_OPTIMIZERS = ("adam", "rmsprop", "sgd")
_BATCH_SIZES = (32, 64, 128, 256)
_SHARED: tuple[Param, ...] = (
    FloatParam("dropout", 0.0, 0.5, 0.2),
    CategoricalParam("optimizer", _OPTIMIZERS, "adam"),
    FloatParam("learning_rate", 1e-5, 1e-1, 1e-3, log=True),
    CategoricalParam("batch_size", _BATCH_SIZES, 64),
)

IMAGE_PARAMS: tuple[Param, ...] = (
    IntParam("conv_layers", 1, 4, 2),
    IntParam("filters", 16, 256, 32, log=True),
    CategoricalParam("kernel_size", (3, 5), 3),
    CategoricalParam("activation", ("relu", "leaky_relu", "elu", "swish", "tanh"), "relu"),
    CategoricalParam("batch_norm", (True, False), True),
    CategoricalParam("pooling", ("global", "flatten"), "flatten"),
    IntParam("dense_layers", 0, 4, 1),
    IntParam("dense_units", 64, 1024, 128, log=True),
    *_SHARED,
)

TEXT_PARAMS: tuple[Param, ...] = (
    IntParam("embedding_dim", 16, 256, 64, log=True),
    IntParam("lstm_units", 16, 256, 64, log=True),
    IntParam("lstm_layers", 1, 3, 1),
    CategoricalParam("bidirectional", (True, False), False),
    FloatParam("recurrent_dropout", 0.0, 0.5, 0.0),
    IntParam("dense_layers", 0, 2, 1),
    IntParam("dense_units", 32, 512, 64, log=True),
    *_SHARED,
)


@dataclass(frozen=True)
class SearchSpace:
    """An ordered, immutable set of parameters for one modality."""

    modality: Modality
    params: tuple[Param, ...]

    def __getitem__(self, name: str) -> Param:
        for param in self.params:
            if param.name == name:
                return param
        raise ConfigError(
            f"params.{name}",
            f"unknown parameter for {self.modality} models; known: {', '.join(self.names())}",
        )

    def names(self) -> list[str]:
        return [p.name for p in self.params]

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def with_overrides(self, overrides: Mapping[str, Any] | None) -> SearchSpace:
        """Fix (plain value) or narrow (``{"low","high"}`` / ``{"choices"}``) parameters."""
        if not overrides:
            return self
        if not isinstance(overrides, Mapping):
            raise ConfigError("params", "must be a mapping of parameter name to value or range")
        updated = {p.name: p for p in self.params}
        for name, spec in overrides.items():
            param = self[name]
            if isinstance(spec, Mapping):
                updated[name] = param.narrow(spec)
            else:
                updated[name] = _fix(param, spec)
        return replace(self, params=tuple(updated[p.name] for p in self.params))

    def suggest(self, trial: TrialLike) -> dict[str, Any]:
        return {p.name: p.suggest(trial) for p in self.params}

    def sample(self, rng: random.Random) -> dict[str, Any]:
        return {p.name: p.sample(rng) for p in self.params}

    def resolve(self, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """A full configuration: the given values (validated) over the defaults."""
        values = self.defaults()
        for name, value in (params or {}).items():
            param = self[name]
            if not param.contains(value):
                raise ConfigError(f"params.{name}", f"{value!r} is outside {param.describe()}")
            values[name] = value
        return values

    def parse_assignments(self, assignments: Sequence[str]) -> dict[str, Any]:
        """Parse CLI ``name=value`` strings into typed values."""
        parsed: dict[str, Any] = {}
        for text in assignments:
            name, sep, raw = text.partition("=")
            if not sep or not name.strip():
                raise ConfigError("params", f"expected name=value, got {text!r}")
            parsed[name.strip()] = self[name.strip()].parse(raw)
        return parsed

    def describe(self) -> dict[str, Any]:
        return {p.name: p.describe() for p in self.params}


def _fix(param: Param, value: Any) -> Param:
    if isinstance(param, FloatParam) and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not param.contains(value):
        raise ConfigError(f"params.{param.name}", f"{value!r} is outside {param.describe()}")
    if isinstance(param, CategoricalParam):
        return replace(param, choices=(value,), default=value)
    return replace(param, low=value, high=value, default=value)


def space_for(modality: str, overrides: Mapping[str, Any] | None = None) -> SearchSpace:
    """The default space for a modality, with per-job overrides applied."""
    if modality == "image":
        base = SearchSpace("image", IMAGE_PARAMS)
    elif modality == "text":
        base = SearchSpace("text", TEXT_PARAMS)
    else:
        raise ConfigError("modality", f"must be one of {', '.join(MODALITIES)}, got {modality!r}")
    return base.with_overrides(overrides)
