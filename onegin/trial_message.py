"""The orchestrator -> GPU worker message (`TrialSpec`) and the answer (`TrialResult`).

Both sides use these two dataclasses, so the message is spelled once. It crosses
Celery, the event bus and the control store as JSON: `to_dict` writes it and
`from_dict` reads it, refusing a bad or unknown-version message with a `ConfigError`
naming the field. That is the only check on the way: the job's configuration was
validated at submission (`onegin.job_config`), and the worker trusts a message
that reads (the model builder still checks the parameters it builds from).
Pure: no TensorFlow, no role imports.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal, cast

from onegin.errors import ConfigError, ConfigErrors, shown
from onegin.job_config import FIELD_CHECKS, OptimizationConfig, PlotMode
from onegin.scoring import HEALTH_OBJECTIVES, Objective, ScoringWeights

MESSAGE_VERSION = 1  # a message without a version predates versioning: it reads as 1
KNOWN_VERSIONS = frozenset({1})
ResultStatus = Literal["completed", "pruned", "failed", "cancelled"]
RESULT_STATUSES: tuple[ResultStatus, ...] = ("completed", "pruned", "failed", "cancelled")
TRAINED: frozenset[str] = frozenset({"completed", "pruned"})  # statuses that carry metrics

Check = Callable[[Any], Any]


def _version(data: Mapping[str, Any]) -> int:
    version = data.get("version", MESSAGE_VERSION)
    if isinstance(version, bool) or version not in KNOWN_VERSIONS:
        known = ", ".join(map(str, sorted(KNOWN_VERSIONS)))
        raise ConfigError("version", f"unknown message version {shown(version)}; "
                                     f"this side reads version {known}")
    return int(version)


def _first(check: Check, name: str) -> Check:
    """``check`` raising one `ConfigError` under ``name``, even where it lists several."""
    def one(value: Any) -> Any:
        try:
            return check(value)
        except ConfigErrors as exc:
            first = exc.errors[0]
            raise ConfigError(first.field or name, first.reason) from exc
    return one


def _count(name: str) -> Check:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError(name, f"must be a non-negative integer, got {shown(value)}")
        return value
    return check


def _kind(name: str, kinds: type, what: str, *, optional: bool = True) -> Check:
    def check(value: Any) -> Any:
        if (value is None and optional) or isinstance(value, kinds):
            return value
        raise ConfigError(name, f"must be {what}{' or null' if optional else ''}, "
                                f"got {shown(value)}")
    return check


def _number(name: str, *, optional: bool = True) -> Check:
    def check(value: Any) -> float | None:
        if value is None and optional:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) \
                or not math.isfinite(value):
            raise ConfigError(name, f"must be a finite number, got {shown(value)}")
        return float(value)
    return check


def _read(cls: type, data: Any, checks: Mapping[str, Check],
          required: tuple[str, ...] = ()) -> dict[str, Any]:
    """The checked values of a message: a mapping of known fields, a known version."""
    if not isinstance(data, Mapping):
        raise ConfigError("message", f"must be a mapping, got {shown(data)}")
    _version(data)
    unknown = sorted(map(str, set(data) - {f.name for f in fields(cls)}))
    if unknown:
        raise ConfigError(unknown[0], f"unknown field of a {cls.__name__} message")
    for name in required:
        if name not in data:
            raise ConfigError(name, "is missing")
    values = {name: checks[name](value) for name, value in data.items() if name in checks}
    return values | {"version": MESSAGE_VERSION}


@dataclass(frozen=True)
class TrialSpec:
    """Dataset, hyperparameters and what to measure and keep for one trial.

    ``plot_mode="best"`` renders plots only when the trial's total score reaches
    ``plot_threshold`` (the job's best score when the trial was sent), so the
    final best trial always has plots without rendering them for every trial.
    ``hopeless_stop`` prunes a diverged or chance-level trial at once and lets the
    stop flag act after any batch; off, a trial behaves as before those stops existed
    (divergence fails it after fit, the flag is read at epoch ends) for benchmark arms.
    ``holdout`` scores a completed trial on the holdout split too (`onegin.holdout`).
    """

    dataset: str = "digits"
    params: Mapping[str, Any] = field(default_factory=dict)
    epochs: int = 3
    seed: int = 0
    # the split's seed: one per job, so every trial is scored on the same validation set
    # (and a worker's cached dataset serves them all); None: ``seed``
    data_seed: int | None = None
    max_train_samples: int | None = None
    max_eval_samples: int | None = None
    objective: Objective = "health"
    weights: ScoringWeights = field(default_factory=ScoringWeights)
    health: bool = True
    plot_mode: PlotMode = "all"
    plot_threshold: float | None = None
    tensorboard: bool = True
    data_dir: str | None = None
    hopeless_stop: bool = True
    holdout: bool = False
    version: int = MESSAGE_VERSION

    @property
    def split_seed(self) -> int:
        """The seed of the data split (and of the holdout's corruptions)."""
        return self.seed if self.data_seed is None else self.data_seed

    @classmethod
    def for_trial(cls, config: OptimizationConfig, number: int, params: Mapping[str, Any], *,
                  plot_threshold: float | None, data_dir: str | None) -> TrialSpec:
        """Trial ``number`` of a job with ``params``: its options are the job's."""
        return cls(
            **{name: getattr(config, name) for name in FROM_JOB},
            params=dict(params), seed=config.seed + number,
            data_seed=config.seed if config.data_seed is None else config.data_seed,
            plot_threshold=plot_threshold, data_dir=data_dir,
        )

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        return data | {"params": dict(self.params), "weights": self.weights.to_dict()}

    @classmethod
    def from_dict(cls, data: Any) -> TrialSpec:
        """Read a message; `ConfigError` names the first bad field."""
        spec = cls(**_read(cls, data, _SPEC_CHECKS))
        if spec.objective in HEALTH_OBJECTIVES and not spec.health:
            raise ConfigError("health", f"cannot be off when the objective is {spec.objective!r}")
        return spec

    def renders_plots(self, total_score: float) -> bool:
        if self.plot_mode == "all":
            return True
        if self.plot_mode == "none":
            return False
        return self.plot_threshold is None or total_score >= self.plot_threshold


def _params(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigError("params", "must be a mapping of parameter name to value")
    return dict(value)


# A trial's options that are its job's, as they are: a field of both `TrialSpec` and
# `OptimizationConfig` (``params``, ``seed`` and ``data_seed`` mean something else in a
# trial). A new job option a worker needs is a field of both, and nothing more here.
FROM_JOB: tuple[str, ...] = tuple(
    f.name for f in fields(TrialSpec)
    if f.name in {c.name for c in fields(OptimizationConfig)} - {"params", "seed", "data_seed"})

# the options a trial takes from its job are checked as the job's are
_SPEC_CHECKS: dict[str, Check] = {
    **{name: _first(FIELD_CHECKS[name], name) for name in FROM_JOB},
    "params": _params,
    "seed": _count("seed"),
    "data_seed": lambda v: None if v is None else _count("data_seed")(v),
    "health": _kind("health", bool, "true or false", optional=False),
    "plot_threshold": _number("plot_threshold"),
    "tensorboard": _kind("tensorboard", bool, "true or false", optional=False),
    "data_dir": _kind("data_dir", str, "a directory"),
}


@dataclass(frozen=True)
class TrialResult:
    """What became of a trial: the worker's small JSON summary; artifacts stay stored.

    A trained trial (completed or pruned) carries its metrics; validation metrics are
    None when not finite (a diverged trial: JSON has no NaN). A pruned trial has a
    ``prune_reason`` and ``prune_evidence``; a completed one that early stopping ended
    before its last epoch, the (1-based) ``stopped_epoch``, and the validation metrics
    of the best epoch, whose weights it kept. A completed trial of a job with ``holdout``
    on carries its holdout report (keys `onegin.holdout.HOLDOUT_KEYS`), else None. A
    failed or cancelled trial carries only its ``error`` (and ``cause``). ``history``
    stays in the trainer's output, out of the message; ``artifact_prefix`` and
    ``worker`` are added once it is uploaded.
    """

    status: ResultStatus
    params: dict[str, Any] | None = None
    dataset: dict[str, Any] | None = None
    epochs_run: int | None = None
    val_accuracy: float | None = None
    val_loss: float | None = None
    test_accuracy: float | None = None
    test_loss: float | None = None
    health: dict[str, float] | None = None
    health_score: float | None = None
    total_score: float | None = None
    objective: str | None = None
    param_count: int | None = None
    architecture_summary: str | None = None
    timings: dict[str, float] | None = None
    plots: list[str] | None = None
    artifacts: list[str] | None = None
    pruned_at_epoch: int | None = None
    prune_reason: str | None = None
    prune_evidence: dict[str, Any] | None = None
    holdout: dict[str, Any] | None = None
    stopped_epoch: int | None = None
    history: dict[str, list[float | None]] | None = None
    error: str | None = None
    cause: str | None = None
    artifact_prefix: str | None = None
    worker: str | None = None
    version: int = MESSAGE_VERSION

    @property
    def trained(self) -> bool:
        return self.status in TRAINED

    @property
    def score(self) -> float:
        """A trained trial's total score (`from_dict` refuses one without)."""
        if self.total_score is None:
            raise ConfigError("total_score", f"a {self.status} trial has no score")
        return self.total_score

    def to_dict(self) -> dict[str, Any]:
        """Every metric of a trained trial (None included); the rest only when set."""
        data = asdict(self)
        return {k: v for k, v in data.items()
                if k in _ALWAYS or (self.trained and k in _METRICS) or v is not None}

    @classmethod
    def from_dict(cls, data: Any) -> TrialResult:
        """Read a message; `ConfigError` names the first bad field."""
        values = _read(cls, data, _RESULT_CHECKS, required=("status",))
        if values["status"] in TRAINED and values.get("total_score") is None:
            raise ConfigError("total_score", f"a {values['status']} trial needs its score")
        return cls(**values)


_ALWAYS = frozenset({"status", "version"})
_METRICS = frozenset(f.name for f in fields(TrialResult)) - _ALWAYS - {
    "history", "error", "cause", "artifact_prefix", "worker"}


def _status(value: Any) -> ResultStatus:
    if value not in RESULT_STATUSES:
        raise ConfigError("status", f"must be one of {', '.join(RESULT_STATUSES)}, "
                                    f"got {shown(value)}")
    return cast(ResultStatus, value)


_RESULT_CHECKS: dict[str, Check] = {
    "status": _status,
    **{name: _number(name) for name in ("val_accuracy", "val_loss", "test_accuracy",
                                        "test_loss", "health_score", "total_score")},
    **{name: (lambda n: lambda v: None if v is None else _count(n)(v))(name)
       for name in ("epochs_run", "param_count", "pruned_at_epoch", "stopped_epoch")},
    **{name: _kind(name, dict, "a mapping")
       for name in ("params", "dataset", "health", "timings", "prune_evidence", "holdout",
                    "history")},
    **{name: _kind(name, list, "a list") for name in ("plots", "artifacts")},
    **{name: _kind(name, str, "a string")
       for name in ("objective", "architecture_summary", "prune_reason", "error", "cause",
                    "artifact_prefix", "worker")},
}
