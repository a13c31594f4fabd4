"""The search space as data: two named spaces per modality, legal bounds in one place.

A parameter has *legal bounds* (what the builder accepts: the worker validates every
trial against them, whichever space asked) and a *search range* inside them (what the
sampler explores). The ``default`` space searches a practitioner's priors sized to the
data and a compute budget; the ``wide`` space is the original, wide space, kept so a
benchmark can reproduce it. Per-job overrides narrow or fix any parameter within its
legal bounds and are validated here, naming the parameter at fault. Pure logic: no
TensorFlow, no Optuna (the trial is duck-typed).
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

from onegin.errors import ConfigError, ConfigErrors

Modality = Literal["image", "text"]
MODALITIES: tuple[Modality, ...] = ("image", "text")
SPACE_NAMES: tuple[str, ...] = ("default", "wide")

MIN_POOLED_SIDE = 4
"""The builder pools only while both sides are at least this, keeping >= 2x2 maps."""

MAX_PARAMS = 4_000_000
"""Most parameters the largest model of the default space may have (see docs/search.md)."""

MAX_MACS = 60_000_000
"""Most multiply-accumulates per example of the default space's largest forward pass."""


class TrialLike(Protocol):
    """The part of ``optuna.Trial`` the space needs (kept duck-typed: no Optuna import)."""

    def suggest_int(self, name: str, low: int, high: int, *, log: bool = ...) -> int: ...

    def suggest_float(self, name: str, low: float, high: float, *, log: bool = ...) -> float: ...

    def suggest_categorical(self, name: str, choices: Sequence[Any]) -> Any: ...


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    """A finite int or float; an int too large for a float is no usable number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _as_float(value: Any) -> Any:
    """An int as a float (a float parameter's value), anything else unchanged for the check."""
    return float(value) if _is_number(value) and _is_int(value) else value


def _clip(value: Any, low: Any, high: Any) -> Any:
    return min(max(value, low), high)


Condition = tuple[str, tuple[Any, ...]]
"""``(name, values)``: a parameter applies only while parameter ``name`` takes one of
``values`` (a schedule's own settings, the patience of early stopping)."""


@dataclass(frozen=True)
class _Conditioned:
    """A parameter that may apply only under a `Condition` (``when``).

    Where it does not apply it is not asked for (Optuna's documented pattern for
    conditional spaces: suggest inside the branch) and is left out of the configuration.
    """

    when: Condition | None = field(default=None, kw_only=True)

    def applies(self, config: Mapping[str, Any]) -> bool:
        return self.when is None or (
            self.when[0] in config and _member(config[self.when[0]], self.when[1]))

    def _describe_when(self) -> dict[str, Any]:
        return {} if self.when is None else {"applies_when": {self.when[0]: list(self.when[1])}}


@dataclass(frozen=True)
class IntParam(_Conditioned):
    """An integer searched in ``[low, high]``; ``bounds`` are its legal limits."""

    name: str
    low: int
    high: int
    default: int
    log: bool = False
    bounds: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if self.bounds is None:
            object.__setattr__(self, "bounds", (self.low, self.high))

    @property
    def legal_range(self) -> tuple[int, int]:
        return self.bounds if self.bounds is not None else (self.low, self.high)

    @property
    def fixed(self) -> bool:
        return self.low == self.high

    def contains(self, value: Any) -> bool:
        return _is_int(value) and self.low <= value <= self.high

    def legal(self, value: Any) -> bool:
        return _is_int(value) and self.legal_range[0] <= value <= self.legal_range[1]

    def narrow(self, spec: Mapping[str, Any]) -> IntParam:
        low, high = _bounds(self, spec)
        return replace(self, low=low, high=high, default=_clip(self.default, low, high))

    def fix(self, value: Any) -> IntParam:
        _check_legal(self, value)
        return replace(self, low=value, high=value, default=value)

    def suggest(self, trial: TrialLike, config: Mapping[str, Any]) -> int:
        if self.fixed:
            return self.low
        return trial.suggest_int(self.name, self.low, self.high, log=self.log)

    def sample(self, rng: random.Random, config: Mapping[str, Any]) -> int:
        if self.fixed:
            return self.low
        if self.log:
            value = math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
            return _clip(round(value), self.low, self.high)
        return rng.randint(self.low, self.high)

    def project(self, value: Any, config: Mapping[str, Any]) -> int:
        return _clip(value, self.low, self.high) if _is_number(value) else self.default

    def parse(self, text: str) -> int:
        try:
            return int(text)
        except ValueError:
            raise ConfigError(f"params.{self.name}", f"must be an integer, got {text!r}") from None

    def describe(self) -> dict[str, Any]:
        return {"type": "int", "low": self.low, "high": self.high, "log": self.log,
                "default": self.default, "bounds": list(self.legal_range),
                **self._describe_when()}


@dataclass(frozen=True)
class FloatParam(_Conditioned):
    """A float searched in ``[low, high]``; ``bounds`` are its legal limits."""

    name: str
    low: float
    high: float
    default: float
    log: bool = False
    bounds: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if self.bounds is None:
            object.__setattr__(self, "bounds", (self.low, self.high))

    @property
    def legal_range(self) -> tuple[float, float]:
        return self.bounds if self.bounds is not None else (self.low, self.high)

    @property
    def fixed(self) -> bool:
        return self.low == self.high

    def contains(self, value: Any) -> bool:
        return _is_number(value) and self.low <= value <= self.high

    def legal(self, value: Any) -> bool:
        return _is_number(value) and self.legal_range[0] <= value <= self.legal_range[1]

    def narrow(self, spec: Mapping[str, Any]) -> FloatParam:
        low, high = _bounds(self, spec)
        return replace(self, low=float(low), high=float(high),
                       default=_clip(self.default, low, high))

    def fix(self, value: Any) -> FloatParam:
        value = _as_float(value)
        _check_legal(self, value)
        return replace(self, low=value, high=value, default=value)

    def suggest(self, trial: TrialLike, config: Mapping[str, Any]) -> float:
        if self.fixed:
            return self.low
        return trial.suggest_float(self.name, self.low, self.high, log=self.log)

    def sample(self, rng: random.Random, config: Mapping[str, Any]) -> float:
        return _sample_float(rng, self.low, self.high, self.log)

    def project(self, value: Any, config: Mapping[str, Any]) -> float:
        return float(_clip(value, self.low, self.high)) if _is_number(value) else self.default

    def parse(self, text: str) -> float:
        return _parse_float(self.name, text)

    def describe(self) -> dict[str, Any]:
        return {"type": "float", "low": self.low, "high": self.high, "log": self.log,
                "default": self.default, "bounds": list(self.legal_range),
                **self._describe_when()}


@dataclass(frozen=True)
class CategoricalParam(_Conditioned):
    """One of ``choices`` (searched); ``allowed`` are all legal values (default: the choices)."""

    name: str
    choices: tuple[Any, ...]
    default: Any
    allowed: tuple[Any, ...] = ()

    def __post_init__(self) -> None:
        if not self.allowed:
            object.__setattr__(self, "allowed", self.choices)

    @property
    def fixed(self) -> bool:
        return len(self.choices) == 1

    def contains(self, value: Any) -> bool:
        return _member(value, self.choices)

    def legal(self, value: Any) -> bool:
        return _member(value, self.allowed)

    def narrow(self, spec: Mapping[str, Any]) -> CategoricalParam:
        if set(spec) != {"choices"}:
            raise ConfigError(f"params.{self.name}", "narrow a categorical with {'choices': [...]}")
        chosen = spec["choices"]
        if not isinstance(chosen, list | tuple) or not chosen:
            raise ConfigError(f"params.{self.name}", "choices must be a non-empty list")
        for value in chosen:
            _check_legal(self, value)
        default = self.default if _member(self.default, chosen) else chosen[0]
        return replace(self, choices=tuple(dict.fromkeys(chosen)), default=default)

    def fix(self, value: Any) -> CategoricalParam:
        _check_legal(self, value)
        return replace(self, choices=(value,), default=value)

    def suggest(self, trial: TrialLike, config: Mapping[str, Any]) -> Any:
        if self.fixed:
            return self.choices[0]
        return trial.suggest_categorical(self.name, list(self.choices))

    def sample(self, rng: random.Random, config: Mapping[str, Any]) -> Any:
        return rng.choice(self.choices)

    def project(self, value: Any, config: Mapping[str, Any]) -> Any:
        """The value if searched; else the nearest searched number, or the default."""
        if self.contains(value):
            return value
        if _is_number(value) and all(_is_number(c) for c in self.choices):
            return min(self.choices, key=lambda choice: abs(math.log(choice / value)))
        return self.default

    def parse(self, text: str) -> Any:
        for choice in self.allowed:
            if str(choice).lower() == text.strip().lower():
                return choice
        raise ConfigError(f"params.{self.name}", f"{text!r} is not one of {list(self.allowed)}")

    def describe(self) -> dict[str, Any]:
        return {"type": "categorical", "choices": list(self.choices), "default": self.default,
                "allowed": list(self.allowed), **self._describe_when()}


@dataclass(frozen=True)
class ConditionalFloatParam:
    """A float whose search range depends on another categorical (``on``).

    Optuna sees one distinct parameter per branch, ``<name>_<branch>`` (its documented
    pattern for conditional spaces), so TPE never models Adam's and SGD's learning
    rates as one distribution; the configuration always carries plain ``<name>``.
    A branch without a range is one the parameter does not apply to (a decay rate
    under the constant schedule): it is neither asked for nor in the configuration.
    """

    name: str
    on: str
    ranges: Mapping[str, tuple[float, float]]
    defaults: Mapping[str, float] = field(default_factory=dict)
    log: bool = False
    bounds: tuple[float, float] = (1e-6, 1.0)

    @property
    def legal_range(self) -> tuple[float, float]:
        return self.bounds

    @property
    def fixed(self) -> bool:
        return False

    def applies(self, config: Mapping[str, Any]) -> bool:
        return self.on in config and _member(config[self.on], tuple(self.ranges))

    def range_for(self, branch: Any) -> tuple[float, float]:
        """The search range when ``on`` is ``branch`` (a branch it `applies` to)."""
        return self.ranges[branch]

    def default_for(self, branch: Any) -> float:
        low, high = self.range_for(branch)
        default = self.defaults.get(branch, math.sqrt(low * high) if self.log else (low + high) / 2)
        return float(_clip(default, low, high))

    def study_name(self, branch: Any) -> str:
        return f"{self.name}_{branch}"

    def contains(self, value: Any) -> bool:
        return _is_number(value) and any(lo <= value <= hi for lo, hi in self.ranges.values())

    def legal(self, value: Any) -> bool:
        return _is_number(value) and self.bounds[0] <= value <= self.bounds[1]

    def narrow_within(self, spec: Mapping[str, Any]) -> ConditionalFloatParam:
        """A window the user gives is every branch's range: what they ask for wins
        over the priors (fixing the rate fixes it for every branch alike)."""
        low, high = _bounds(self, spec)
        ranges = {branch: (float(low), float(high)) for branch in self.ranges}
        return replace(self, ranges=ranges)

    def fix(self, value: Any) -> FloatParam:
        """A fixed rate holds for every branch: it becomes a plain, fixed float (that still
        applies only to the branches this one does)."""
        value = _as_float(value)
        _check_legal(self, value)
        return FloatParam(self.name, value, value, value, self.log, self.bounds,
                          when=(self.on, tuple(self.ranges)))

    def suggest(self, trial: TrialLike, config: Mapping[str, Any]) -> float:
        branch = config[self.on]
        low, high = self.range_for(branch)
        if low == high:
            return low
        return trial.suggest_float(self.study_name(branch), low, high, log=self.log)

    def sample(self, rng: random.Random, config: Mapping[str, Any]) -> float:
        return _sample_float(rng, *self.range_for(config[self.on]), self.log)

    def project(self, value: Any, config: Mapping[str, Any]) -> float:
        branch = config[self.on]
        if not _is_number(value):
            return self.default_for(branch)
        return float(_clip(value, *self.range_for(branch)))

    def parse(self, text: str) -> float:
        return _parse_float(self.name, text)

    def describe(self) -> dict[str, Any]:
        return {"type": "conditional_float", "on": self.on, "log": self.log,
                "ranges": {k: list(v) for k, v in self.ranges.items()},
                "defaults": {k: self.default_for(k) for k in self.ranges},
                "bounds": list(self.bounds)}


Param = IntParam | FloatParam | CategoricalParam | ConditionalFloatParam


def _member(value: Any, options: Iterable[Any]) -> bool:
    return any(type(value) is type(c) and value == c for c in options)


def _describe_legal(param: Param) -> str:
    if isinstance(param, CategoricalParam):
        return f"one of {list(param.allowed)}"
    low, high = param.legal_range
    kind = "an integer" if isinstance(param, IntParam) else "a number"
    return f"{kind} within [{low}, {high}]"


def _check_legal(param: Param, value: Any) -> None:
    if not param.legal(value):
        raise ConfigError(f"params.{param.name}", f"{value!r} is not {_describe_legal(param)}")


def _condition(param: Param) -> Condition | None:
    if isinstance(param, ConditionalFloatParam):
        return param.on, tuple(param.ranges)
    return param.when


def _condition_text(param: Param, config: Mapping[str, Any]) -> str:
    condition = _condition(param)
    assert condition is not None
    on, values = condition
    now = f"it is {config[on]!r}" if on in config else f"{on} does not apply either"
    return f"applies only when {on} is one of {list(values)}; {now}"


def _searched(param: Param) -> tuple[Any, ...]:
    return param.choices if isinstance(param, CategoricalParam) else ()


def searched_branches(param: Param, space: Mapping[str, Param]) -> tuple[Any, ...] | None:
    """The values searched in ``space`` (parameters by name) of the parameter ``param``
    depends on that let it apply, in the search's order; None when it applies always.
    Empty: it never applies there (a decay rate while the schedule stays constant)."""
    condition = _condition(param)
    if condition is None:
        return None
    return tuple(value for value in _searched(space[condition[0]])
                 if _member(value, condition[1]))


def _unreachable(param: Param, space: Mapping[str, Param]) -> ConfigError | None:
    """An error when no value the space searches for the parameter ``param`` depends on
    lets it apply (a decay rate set while the schedule stays constant)."""
    if searched_branches(param, space) != ():
        return None
    on, values = _condition(param) or ("", ())
    return ConfigError(f"params.{param.name}",
                       f"applies only when {on} is one of {list(values)}, which this job "
                       f"never searches ({list(_searched(space[on]))}): set {on} too")


def _bounds(param: IntParam | FloatParam | ConditionalFloatParam,
            spec: Mapping[str, Any]) -> tuple[Any, Any]:
    field_name = f"params.{param.name}"
    extra = set(spec) - {"low", "high"}
    if extra:
        raise ConfigError(field_name, f"unknown range key {sorted(extra)[0]!r}; use low and high")
    if isinstance(param, ConditionalFloatParam):
        current = (min(lo for lo, _ in param.ranges.values()),
                   max(hi for _, hi in param.ranges.values()))
    else:
        current = (param.low, param.high)
    low, high = spec.get("low", current[0]), spec.get("high", current[1])
    for bound_name, bound in (("low", low), ("high", high)):
        if not param.legal(bound):
            raise ConfigError(f"{field_name}.{bound_name}",
                              f"must be {_describe_legal(param)}, got {bound!r}")
    if low > high:
        raise ConfigError(field_name, f"empty range: low {low} is above high {high}")
    return low, high


def _sample_float(rng: random.Random, low: float, high: float, log: bool) -> float:
    if low == high:
        return low
    if log:
        return math.exp(rng.uniform(math.log(low), math.log(high)))
    return rng.uniform(low, high)


def _parse_float(name: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ConfigError(f"params.{name}", f"must be a number, got {text!r}") from None


@dataclass(frozen=True)
class SearchSpace:
    """An ordered, immutable set of parameters for one modality (``on`` params come first)."""

    modality: Modality
    params: tuple[Param, ...]
    name: str = "default"

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
        """The default configuration (a parameter that does not apply to it left out)."""
        values: dict[str, Any] = {}
        for p in self.params:
            if p.applies(values):
                values[p.name] = (p.default_for(values[p.on])
                                  if isinstance(p, ConditionalFloatParam) else p.default)
        return values

    def with_overrides(self, overrides: Mapping[str, Any] | None) -> SearchSpace:
        """Fix (plain value) or narrow (``{"low","high"}`` / ``{"choices"}``) parameters.

        Applied in the space's order, so an optimizer is narrowed before its learning rate.
        Raises `ConfigErrors` naming every bad parameter at once.
        """
        if overrides is None:
            return self
        if not isinstance(overrides, Mapping):
            raise ConfigErrors([ConfigError(
                "params", "must be a mapping of parameter name to value or range")])
        if not overrides:
            return self
        known = set(self.names())
        errors = [ConfigError(f"params.{name}", f"unknown parameter for {self.modality} models; "
                              f"known: {', '.join(self.names())}")
                  for name in overrides if name not in known]
        updated = {p.name: p for p in self.params}
        for name in self.names():
            if name not in overrides:
                continue
            param, spec = updated[name], overrides[name]
            try:
                if not isinstance(spec, Mapping):
                    updated[name] = param.fix(spec)
                elif isinstance(param, ConditionalFloatParam):
                    updated[name] = param.narrow_within(spec)
                else:
                    updated[name] = param.narrow(spec)
            except ConfigError as exc:
                errors.append(exc)
        named = {error.field for error in errors}
        errors += [error for name in overrides if name in known and f"params.{name}" not in named
                   if (error := _unreachable(updated[name], updated)) is not None]
        if errors:
            raise ConfigErrors(errors)
        return replace(self, params=tuple(updated[n] for n in self.names()))

    def suggest(self, trial: TrialLike) -> dict[str, Any]:
        """Ask a trial for a configuration (configuration names, Optuna names inside);
        a parameter is asked for only where it applies."""
        config: dict[str, Any] = {}
        for p in self.params:
            if p.applies(config):
                config[p.name] = p.suggest(trial, config)
        return config

    def sample(self, rng: random.Random) -> dict[str, Any]:
        config: dict[str, Any] = {}
        for p in self.params:
            if p.applies(config):
                config[p.name] = p.sample(rng, config)
        return config

    def resolve(self, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """A full configuration: the given values, checked against the *legal* bounds,
        over the defaults (a conditional default follows the resolved ``on`` value).

        A parameter that does not apply (`Condition`) is left out; given one, it is
        refused, naming the parameter it depends on.
        """
        given = dict(params or {})
        for name in given:
            self[name]  # an unknown name is refused, naming it
        values: dict[str, Any] = {}
        for p in self.params:
            if not p.applies(values):
                if p.name in given:
                    raise ConfigError(f"params.{p.name}", _condition_text(p, values))
                continue
            if p.name not in given:
                values[p.name] = (p.default_for(values[p.on])
                                  if isinstance(p, ConditionalFloatParam) else p.default)
                continue
            value = given[p.name]
            if isinstance(p, FloatParam | ConditionalFloatParam):
                value = _as_float(value)
            _check_legal(p, value)
            values[p.name] = value
        return values

    def check(self, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Like `resolve`, but every given value must also lie inside this space's search
        range (a user's initial trial in a narrowed job, say); names the field that does not."""
        resolved = self.resolve(params)
        for name in params or {}:
            param, value = self[name], resolved[name]
            if isinstance(param, ConditionalFloatParam):
                low, high = param.range_for(resolved[param.on])
                inside = low <= value <= high
                searched = f"[{low}, {high}] for {param.on} {resolved[param.on]!r}"
            else:
                inside = param.contains(value)
                searched = (f"{list(param.choices)}" if isinstance(param, CategoricalParam)
                            else f"[{param.low}, {param.high}]")
            if not inside:
                raise ConfigError(f"params.{name}", f"{value!r} is outside the searched {searched}")
        return resolved

    def to_study(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """The resolved configuration under Optuna's names (for ``study.enqueue_trial``)."""
        resolved = self.resolve(config)
        return {self._study_name(p, resolved): resolved[p.name] for p in self.params
                if p.name in resolved}

    def from_study(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Optuna's parameter names and values back to a full, resolved configuration."""
        config: dict[str, Any] = {}
        branches: dict[str, Any] = {}
        for key, value in params.items():
            name, branch = self._config_name(key)
            if name in config:
                raise ConfigError(f"params.{name}", f"given twice (as {key!r})")
            config[name] = value
            if branch is not None:
                branches[name] = branch
        resolved = self.resolve(config)
        for name, branch in branches.items():
            param = self[name]
            assert isinstance(param, ConditionalFloatParam)
            on = param.on
            if resolved[on] != branch:
                raise ConfigError(f"params.{name}",
                                  f"suggested for {on} {branch!r}, but {on} is {resolved[on]!r}")
        return resolved

    def project(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """The nearest configuration inside the search ranges: values clipped into ranges,
        choices outside a categorical's replaced by its default, fixed values imposed."""
        values: dict[str, Any] = {}
        for p in self.params:
            if p.applies(values):
                values[p.name] = p.project(config.get(p.name), values)
        return self.resolve(values)

    def warm_starts(self) -> list[dict[str, Any]]:
        """The first models a practitioner writes for this modality, projected, de-duplicated."""
        starts: list[dict[str, Any]] = []
        for seed in WARM_STARTS[self.modality]:
            config = self.project(seed)
            if config not in starts:
                starts.append(config)
        return starts

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

    def _study_name(self, param: Param, config: Mapping[str, Any]) -> str:
        if isinstance(param, ConditionalFloatParam):
            return param.study_name(config[param.on])
        return param.name

    def _config_name(self, key: str) -> tuple[str, Any]:
        for p in self.params:
            if isinstance(p, ConditionalFloatParam) and key.startswith(p.name + "_"):
                on = self[p.on]
                options = on.allowed if isinstance(on, CategoricalParam) else tuple(p.ranges)
                for branch in options:
                    if key == p.study_name(branch):
                        return p.name, branch
        return key, None


# --- the tables ---------------------------------------------------------------------

OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop", "sgd_plain")
"""Every optimizer the builder knows; ``sgd`` has Nesterov momentum 0.9, ``sgd_plain`` none."""

LEARNING_RATE_RANGES: Mapping[str, tuple[float, float]] = {
    # a search trial has a few hundred steps: rates that need thousands are left out
    "adam": (3e-4, 5e-3),
    "adamw": (3e-4, 5e-3),
    "rmsprop": (2e-4, 3e-3),
    "sgd": (1e-2, 1.5e-1),
    "sgd_plain": (2e-2, 3e-1),
}
LEARNING_RATE_DEFAULTS: Mapping[str, float] = {
    "adam": 1e-3, "adamw": 1e-3, "rmsprop": 1e-3, "sgd": 3e-2, "sgd_plain": 1e-1,
}
ACTIVATIONS = ("relu", "elu", "swish", "leaky_relu", "tanh")
BATCH_SIZES = (32, 64, 128, 256)  # the wide space's
LEGAL_BATCH_SIZES = (16, *BATCH_SIZES)
MIN_STEPS_PER_EPOCH = 30  # a trial of a few epochs needs this many optimizer steps in each
LR_BOUNDS = (1e-6, 1.0)

LR_SCHEDULES = ("constant", "cosine", "exponential", "step", "plateau")
"""How the learning rate moves during a trial (`gpu_worker.schedules` builds each from
Keras): ``constant``; ``cosine`` decays it to 0 over the trial (``CosineDecay``);
``exponential`` multiplies it by ``lr_decay_rate`` every epoch, smoothly
(``ExponentialDecay``); ``step`` does so every ``lr_step_epochs`` epochs at once
(``ExponentialDecay``, ``staircase``); ``plateau`` multiplies it by ``lr_decay_rate``
once the validation loss has not improved for ``lr_plateau_patience`` epochs
(``ReduceLROnPlateau``). Opt-in: docs/search.md says why, with the benchmark's figures."""
LR_WARMUP_RANGES: Mapping[str, tuple[float, float]] = {
    # epochs of linear warm-up from 0 to the learning rate, before the schedule starts;
    # a constant rate searched stays constant (narrow lr_warmup to warm it up)
    "constant": (0.0, 0.0), "cosine": (0.0, 0.5), "exponential": (0.0, 0.5),
    "step": (0.0, 0.5), "plateau": (0.0, 0.5),
}
LR_WARMUP_BOUNDS = (0.0, 10.0)
LR_DECAY_RATE_RANGES: Mapping[str, tuple[float, float]] = {
    # exponential: the factor per epoch; step and plateau: the factor of each drop
    "exponential": (0.5, 0.9), "step": (0.2, 0.5), "plateau": (0.2, 0.5),
}
LR_DECAY_RATE_DEFAULTS: Mapping[str, float] = {"exponential": 0.7, "step": 0.5, "plateau": 0.5}
LR_DECAY_RATE_BOUNDS = (0.01, 0.99)  # ReduceLROnPlateau refuses a factor of 1 or more


def _training_params() -> tuple[Param, ...]:
    """The learning-rate schedule and early stopping, in both spaces; opt-in (fixed to a
    constant rate and no early stopping) until the search benchmark says otherwise."""
    return (
        CategoricalParam("lr_schedule", ("constant",), "constant", LR_SCHEDULES),
        ConditionalFloatParam("lr_warmup", on="lr_schedule", ranges=LR_WARMUP_RANGES,
                              defaults=dict.fromkeys(LR_SCHEDULES, 0.0),
                              bounds=LR_WARMUP_BOUNDS),
        ConditionalFloatParam("lr_decay_rate", on="lr_schedule", ranges=LR_DECAY_RATE_RANGES,
                              defaults=LR_DECAY_RATE_DEFAULTS, bounds=LR_DECAY_RATE_BOUNDS),
        # epochs between two drops of the step schedule
        IntParam("lr_step_epochs", 1, 2, 1, bounds=(1, 100), when=("lr_schedule", ("step",))),
        # epochs without a better validation loss before the plateau schedule drops the rate
        IntParam("lr_plateau_patience", 1, 2, 1, bounds=(1, 20),
                 when=("lr_schedule", ("plateau",))),
        # stop a trial once its validation accuracy has not improved for
        # early_stopping_patience epochs, keeping its best epoch's weights
        CategoricalParam("early_stopping", (False,), False, (False, True)),
        IntParam("early_stopping_patience", 1, 3, 2, bounds=(1, 50),
                 when=("early_stopping", (True,))),
    )


def _wide_tables() -> dict[Modality, tuple[Param, ...]]:
    """The original space, unchanged in what it searches; legal bounds as in the default."""
    shared: tuple[Param, ...] = (
        FloatParam("dropout", 0.0, 0.5, 0.2, bounds=(0.0, 0.8)),
        CategoricalParam("optimizer", ("adam", "rmsprop", "sgd"), "adam", OPTIMIZERS),
        FloatParam("learning_rate", 1e-5, 1e-1, 1e-3, log=True, bounds=LR_BOUNDS),
        CategoricalParam("batch_size", BATCH_SIZES, 64, LEGAL_BATCH_SIZES),
        *_training_params(),
    )
    image: tuple[Param, ...] = (
        IntParam("conv_layers", 1, 4, 2, bounds=(1, 4)),
        IntParam("filters", 16, 256, 32, log=True, bounds=(8, 256)),
        CategoricalParam("kernel_size", (3, 5), 3),
        CategoricalParam("activation", ("relu", "leaky_relu", "elu", "swish", "tanh"), "relu"),
        CategoricalParam("batch_norm", (True, False), True),
        CategoricalParam("pooling", ("global", "flatten"), "flatten"),
        IntParam("dense_layers", 0, 4, 1, bounds=(0, 4)),
        IntParam("dense_units", 64, 1024, 128, log=True, bounds=(16, 2048)),
        IntParam("max_filters", 256, 256, 256, bounds=(16, 256)),
        *shared,
    )
    text: tuple[Param, ...] = (
        IntParam("embedding_dim", 16, 256, 64, log=True, bounds=(8, 512)),
        IntParam("lstm_units", 16, 256, 64, log=True, bounds=(8, 512)),
        IntParam("lstm_layers", 1, 3, 1, bounds=(1, 3)),
        CategoricalParam("bidirectional", (True, False), False),
        FloatParam("recurrent_dropout", 0.0, 0.5, 0.0, bounds=(0.0, 0.5)),
        IntParam("dense_layers", 0, 2, 1, bounds=(0, 4)),
        IntParam("dense_units", 32, 512, 64, log=True, bounds=(16, 2048)),
        *shared,
    )
    return {"image": image, "text": text}


def _default_tables() -> dict[Modality, tuple[Param, ...]]:
    """A practitioner's priors; every bound is legal in the wide space too (docs/search.md)."""
    shared: tuple[Param, ...] = (
        FloatParam("dropout", 0.0, 0.4, 0.25, bounds=(0.0, 0.8)),
        CategoricalParam("optimizer", ("adam", "adamw", "sgd", "rmsprop"), "adam", OPTIMIZERS),
        ConditionalFloatParam("learning_rate", on="optimizer", ranges=LEARNING_RATE_RANGES,
                              defaults=LEARNING_RATE_DEFAULTS, log=True, bounds=LR_BOUNDS),
        CategoricalParam("batch_size", (32, 64, 128), 64, LEGAL_BATCH_SIZES),
        *_training_params(),
    )
    image: tuple[Param, ...] = (
        IntParam("conv_layers", 1, 3, 2, bounds=(1, 4)),
        IntParam("filters", 16, 64, 32, log=True, bounds=(8, 256)),
        CategoricalParam("kernel_size", (3,), 3, (3, 5)),
        CategoricalParam("activation", ACTIVATIONS[:4], "relu", ACTIVATIONS),
        CategoricalParam("batch_norm", (True, False), True),
        CategoricalParam("pooling", ("global", "flatten"), "flatten"),
        IntParam("dense_layers", 0, 2, 1, bounds=(0, 4)),
        IntParam("dense_units", 32, 512, 128, log=True, bounds=(16, 2048)),
        IntParam("max_filters", 128, 128, 128, bounds=(16, 256)),
        *shared,
    )
    text: tuple[Param, ...] = (
        IntParam("embedding_dim", 32, 128, 64, log=True, bounds=(8, 512)),
        IntParam("lstm_units", 32, 128, 64, log=True, bounds=(8, 512)),
        IntParam("lstm_layers", 1, 2, 1, bounds=(1, 3)),
        CategoricalParam("bidirectional", (True, False), True),
        FloatParam("recurrent_dropout", 0.0, 0.0, 0.0, bounds=(0.0, 0.5)),
        IntParam("dense_layers", 0, 1, 0, bounds=(0, 4)),
        IntParam("dense_units", 32, 256, 64, log=True, bounds=(16, 2048)),
        *shared,
    )
    return {"image": image, "text": text}


TABLES: Mapping[str, Mapping[Modality, tuple[Param, ...]]] = {
    "default": _default_tables(),
    "wide": _wide_tables(),
}

WARM_STARTS: Mapping[Modality, tuple[Mapping[str, Any], ...]] = {
    "image": (
        # the Keras-tutorial CNN: two 3x3 conv blocks, flatten, one dense layer
        {"conv_layers": 2, "filters": 32, "kernel_size": 3, "activation": "relu",
         "batch_norm": True, "pooling": "flatten", "dense_layers": 1, "dense_units": 128,
         "dropout": 0.25, "optimizer": "adam", "learning_rate": 1e-3, "batch_size": 64,
         "max_filters": 128},
        # a deeper all-conv variant: global average pooling instead of a big flatten
        {"conv_layers": 3, "filters": 32, "kernel_size": 3, "activation": "relu",
         "batch_norm": True, "pooling": "global", "dense_layers": 1, "dense_units": 128,
         "dropout": 0.3, "optimizer": "adamw", "learning_rate": 2e-3, "batch_size": 128,
         "max_filters": 128},
    ),
    "text": (
        {"embedding_dim": 64, "lstm_units": 64, "lstm_layers": 1, "bidirectional": True,
         "recurrent_dropout": 0.0, "dense_layers": 0, "dense_units": 64, "dropout": 0.25,
         "optimizer": "adam", "learning_rate": 2e-3, "batch_size": 64},
        {"embedding_dim": 128, "lstm_units": 64, "lstm_layers": 1, "bidirectional": False,
         "recurrent_dropout": 0.0, "dense_layers": 1, "dense_units": 64, "dropout": 0.3,
         "optimizer": "rmsprop", "learning_rate": 1e-3, "batch_size": 32},
    ),
}


# --- sizing to the data and the compute budget ----------------------------------------

@dataclass(frozen=True)
class DataFacts:
    """What the default space needs to know about the data to size its models."""

    input_shape: tuple[int, ...]
    train_samples: int | None = None
    num_classes: int = 10


@dataclass(frozen=True)
class Cost:
    """Parameters (as keras ``count_params()``) and multiply-accumulates per example."""

    params: int
    macs: int


def estimate_cost(
    config: Mapping[str, Any],
    modality: str,
    input_shape: Sequence[int],
    num_classes: int = 10,
    vocab_size: int | None = None,
) -> Cost:
    """Mirror the builder's layers to count a model without building it.

    ``vocab_size`` defaults to the loaders' cap (``onegin.datasets.VOCAB_CAP``).
    """
    if modality == "image":
        params, macs, features = _image_cost(config, input_shape)
    else:
        if vocab_size is None:
            from onegin.datasets import VOCAB_CAP

            vocab_size = VOCAB_CAP
        params, macs, features = _text_cost(config, input_shape, vocab_size)
    for _ in range(config["dense_layers"]):
        units = config["dense_units"]
        params += features * units + units
        macs += features * units
        features = units
    params += features * num_classes + num_classes
    macs += features * num_classes
    return Cost(params=params, macs=macs)


def conv_filters(config: Mapping[str, Any], layer: int) -> int:
    """Filters of conv layer ``layer`` (1-based): doubling, capped by ``max_filters``
    (the cap never cuts below the first layer's own width)."""
    cap = max(config["filters"], config.get("max_filters", 256))
    return int(min(config["filters"] * 2 ** (layer - 1), cap))


def _image_cost(config: Mapping[str, Any], input_shape: Sequence[int]) -> tuple[int, int, int]:
    height, width, channels = input_shape
    kernel, batch_norm = config["kernel_size"], config["batch_norm"]
    params = macs = 0
    for layer in range(1, config["conv_layers"] + 1):
        filters = conv_filters(config, layer)
        params += kernel * kernel * channels * filters + (4 * filters if batch_norm else filters)
        macs += height * width * kernel * kernel * channels * filters
        channels = filters
        if min(height, width) >= MIN_POOLED_SIDE:
            height, width = height // 2, width // 2
    features = channels if config["pooling"] == "global" else height * width * channels
    return params, macs, features


def _text_cost(config: Mapping[str, Any], input_shape: Sequence[int],
               vocab_size: int) -> tuple[int, int, int]:
    steps, features = input_shape[0], config["embedding_dim"]
    units, directions = config["lstm_units"], 2 if config["bidirectional"] else 1
    params, macs = vocab_size * features, 0
    for _ in range(config["lstm_layers"]):
        params += directions * 4 * ((features + units) * units + units)
        macs += directions * steps * 4 * (features + units) * units
        features = directions * units
    return params, macs, features


_STRUCTURAL = {"conv_layers", "dense_layers", "lstm_layers"}  # cost is not monotone in these
_COST_CHOICES = {"kernel_size", "batch_norm", "pooling", "bidirectional"}


def largest_cost(space: SearchSpace, facts: DataFacts) -> Cost:
    """The most parameters and the most MACs any configuration of ``space`` can reach.

    Widths are monotone (their ``high`` is the worst case); depths and a few choices are
    not (one conv layer before a flatten has the biggest dense layer), so those are
    enumerated: a few dozen cheap evaluations.
    """
    options: list[list[Any]] = []
    defaults = space.defaults()
    for p in space.params:
        if isinstance(p, IntParam):
            options.append(list(range(p.low, p.high + 1)) if p.name in _STRUCTURAL else [p.high])
        elif isinstance(p, CategoricalParam) and p.name in _COST_CHOICES:
            options.append(list(p.choices))
        else:
            options.append([defaults.get(p.name)])  # a training setting: no cost
    names, most_params, most_macs = space.names(), 0, 0
    for values in itertools.product(*options):
        cost = estimate_cost(dict(zip(names, values, strict=True)), space.modality,
                             facts.input_shape, facts.num_classes)
        most_params, most_macs = max(most_params, cost.params), max(most_macs, cost.macs)
    return Cost(params=most_params, macs=most_macs)


_SHRINK_ORDER: Mapping[tuple[str, str], tuple[str, ...]] = {
    ("image", "params"): ("dense_units", "filters"),
    ("image", "macs"): ("filters",),
    ("text", "params"): ("embedding_dim", "dense_units", "lstm_units"),
    ("text", "macs"): ("lstm_units", "embedding_dim"),
}


def fit_budget(space: SearchSpace, facts: DataFacts, keep: Iterable[str] = ()) -> SearchSpace:
    """Lower the highs of the width parameters until the largest model fits the budget.

    Parameters in ``keep`` (the user's own) are never touched; if the rest cannot
    shrink further, the space is returned as small as it got.
    """
    kept = set(keep)
    for _ in range(200):
        cost = largest_cost(space, facts)
        over = [r for r, used, cap in (("params", cost.params, MAX_PARAMS),
                                        ("macs", cost.macs, MAX_MACS)) if used > cap]
        if not over:
            return space
        candidates = [n for r in over for n in _SHRINK_ORDER[(space.modality, r)]]
        for name in candidates:
            param = space[name]
            if name not in kept and isinstance(param, IntParam) and param.high > param.low:
                space = _replace_param(space, _shrunk(param))
                break
        else:
            return space
    return space


def _shrunk(param: IntParam) -> IntParam:
    """About 15% lower, on a multiple of 8 where the range allows it."""
    high = int(param.high * 0.85) // 8 * 8 or int(param.high * 0.85)
    high = max(param.low, min(param.high - 1, high))
    return replace(param, high=high, default=_clip(param.default, param.low, high))


def _replace_param(space: SearchSpace, new: Param) -> SearchSpace:
    return replace(space, params=tuple(new if p.name == new.name else p for p in space.params))


def dense_units_cap(train_samples: int | None) -> int:
    """Widest dense layer worth searching for this many training examples."""
    if train_samples is None or train_samples >= 10_000:
        return 512
    return 128 if train_samples < 1_000 else 256


SMALL_SIDE = 8  # images this small keep their few pooled positions: flatten, never average


def batch_sizes_for(train_samples: int | None) -> tuple[int, ...]:
    """Batch sizes that leave a short trial enough steps: at least `MIN_STEPS_PER_EPOCH`
    per epoch, and 16 too when even 32 leaves fewer than twice that (digits: 34 steps).

    On 1,078 digits, the same CNN ends 3 epochs at 0.93-0.97 with batch 32 or 64 and at
    chance with 128 (9 steps an epoch).
    """
    if train_samples is None:
        return (32, 64, 128)
    sizes = [b for b in (32, 64, 128) if train_samples / b >= MIN_STEPS_PER_EPOCH] or [32]
    if train_samples / 32 < 2 * MIN_STEPS_PER_EPOCH:
        sizes.insert(0, 16)
    return tuple(sizes)


def fit_data(space: SearchSpace, facts: DataFacts) -> SearchSpace:
    """Cap depth by the input's side (and keep flatten for tiny images, whose 2x2 or 4x4
    maps global averaging would blur), dense width by the number of training examples,
    and batch size by the steps an epoch then has."""
    names = space.names()
    if space.modality == "image" and min(facts.input_shape[:2]) <= SMALL_SIDE:
        pooling = space["pooling"]
        assert isinstance(pooling, CategoricalParam)
        space = _replace_param(space, replace(pooling, choices=("flatten",), default="flatten"))
    if "batch_size" in names:
        batch = space["batch_size"]
        assert isinstance(batch, CategoricalParam)
        sizes = batch_sizes_for(facts.train_samples)
        space = _replace_param(space, replace(batch, choices=sizes, default=replace(
            batch, choices=sizes).project(batch.default, {})))
    if space.modality == "image" and "conv_layers" in names:
        conv = space["conv_layers"]
        assert isinstance(conv, IntParam)
        high = max(conv.low, min(conv.high, 2 if min(facts.input_shape[:2]) <= 8 else 3))
        space = _replace_param(space, replace(conv, high=high,
                                              default=_clip(conv.default, conv.low, high)))
    if "dense_units" in names:
        units = space["dense_units"]
        assert isinstance(units, IntParam)
        high = max(units.low, min(units.high, dense_units_cap(facts.train_samples)))
        space = _replace_param(space, replace(units, high=high,
                                              default=_clip(units.default, units.low, high)))
    return space


def space_for(
    modality: str,
    overrides: Mapping[str, Any] | None = None,
    *,
    name: str = "default",
    facts: DataFacts | None = None,
) -> SearchSpace:
    """A named space for a modality, sized to ``facts`` (default space only), then the
    user's overrides (which may leave the priors, within legal bounds), then the budget
    (which never touches what the user set). Without ``facts`` nothing is sized."""
    if modality not in MODALITIES:
        raise ConfigError("modality", f"must be one of {', '.join(MODALITIES)}, got {modality!r}")
    if name not in SPACE_NAMES:
        raise ConfigError("space", f"must be one of {', '.join(SPACE_NAMES)}, got {name!r}")
    chosen: Modality = "image" if modality == "image" else "text"
    space = SearchSpace(chosen, TABLES[name][chosen], name)
    sized = name == "default" and facts is not None
    if sized:
        assert facts is not None
        space = fit_data(space, facts)
    space = space.with_overrides(overrides)
    if sized:
        assert facts is not None
        space = fit_budget(space, facts, keep=overrides or ())
    return space
