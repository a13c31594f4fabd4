"""What one trial should do, validated up front so training never starts on bad input."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from onegin.datasets import get_spec
from onegin.errors import ConfigError
from onegin.scoring import Objective, ScoringWeights, validate_objective
from onegin.search_space import space_for

PlotMode = Literal["all", "best", "none"]
PLOT_MODES: tuple[PlotMode, ...] = ("all", "best", "none")
MAX_EPOCHS = 1000


def _positive_int(field_name: str, value: Any, upper: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(field_name, f"must be a positive integer, got {value!r}")
    if upper is not None and value > upper:
        raise ConfigError(field_name, f"must be at most {upper}, got {value}")


@dataclass(frozen=True)
class TrialSpec:
    """Dataset, hyperparameters and what to measure and keep for one trial.

    ``plot_mode="best"`` renders plots only when the trial's total score reaches
    ``plot_threshold`` (the job's best score when the trial was sent), so the
    final best trial always has plots without rendering them for every trial.
    ``hopeless_stop`` prunes a diverged or chance-level trial at once and lets the
    stop flag act after any batch; off, a trial behaves as before those stops existed
    (divergence fails it after fit, the flag is read at epoch ends) for benchmark arms.
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

    def __post_init__(self) -> None:
        if not isinstance(self.dataset, str) or not self.dataset:
            raise ConfigError("dataset", "must be a dataset name")
        _positive_int("epochs", self.epochs, MAX_EPOCHS)
        for name in ("seed", "data_seed"):
            value = getattr(self, name)
            if value is None and name == "data_seed":
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(name, f"must be a non-negative integer, got {value!r}")
        for name in ("max_train_samples", "max_eval_samples"):
            if getattr(self, name) is not None:
                _positive_int(name, getattr(self, name))
        validate_objective(self.objective)
        if not isinstance(self.weights, ScoringWeights):
            raise ConfigError("weights", "must be ScoringWeights")
        if self.objective == "health" and not self.health:
            raise ConfigError("health", "cannot be off when the objective is 'health'")
        if not isinstance(self.hopeless_stop, bool):
            raise ConfigError("hopeless_stop", f"must be true or false, got {self.hopeless_stop!r}")
        if self.plot_mode not in PLOT_MODES:
            raise ConfigError("plot_mode", f"must be one of {', '.join(PLOT_MODES)}")
        if not isinstance(self.params, Mapping):
            raise ConfigError("params", "must be a mapping of parameter name to value")
        space_for(get_spec(self.dataset).modality).resolve(self.params)

    def renders_plots(self, total_score: float) -> bool:
        if self.plot_mode == "all":
            return True
        if self.plot_mode == "none":
            return False
        return self.plot_threshold is None or total_score >= self.plot_threshold
