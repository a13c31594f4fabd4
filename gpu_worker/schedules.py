"""A configuration's learning-rate schedule and early stopping, as Keras objects.

`onegin.search_space` names the settings (``lr_schedule``, ``lr_warmup``,
``lr_decay_rate``, ``lr_step_epochs``, ``lr_plateau_patience``, ``early_stopping``,
``early_stopping_patience``; docs/search.md explains each); here they become what the
optimizer and ``model.fit`` take. Keras' own schedules and callbacks do the work
wherever Keras has one: ``CosineDecay`` (with its own warm-up), ``ExponentialDecay``
(``staircase`` for the step schedule), ``ReduceLROnPlateau`` and ``EarlyStopping``. So a
saved ``model.keras`` loads anywhere: its optimizer holds a float rate or a Keras
schedule, never a class of ours. Keras has no warm-up before the other schedules; there
`WarmUp`, a callback, ramps the optimizer's (float) rate and then follows the schedule.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import keras


@dataclass(frozen=True)
class TrainingLength:
    """How long ``model.fit`` trains, so a schedule can be laid out over it."""

    epochs: int
    samples: int  # training examples per epoch

    def steps_per_epoch(self, batch_size: int) -> int:
        return max(1, math.ceil(self.samples / batch_size))


@dataclass(frozen=True)
class RatePlan:
    """What the optimizer is built with, and the callbacks that move its rate."""

    learning_rate: float | keras.optimizers.schedules.LearningRateSchedule
    callbacks: tuple[keras.callbacks.Callback, ...] = ()


class WarmUp(keras.callbacks.Callback):
    """Raises the learning rate linearly to ``rate`` over the first ``steps`` steps, then
    sets ``then(step - steps)`` before every step (a Keras schedule), or, without one,
    leaves ``rate`` to the optimizer (and to ``ReduceLROnPlateau``, if it follows)."""

    def __init__(self, rate: float, steps: int,
                 then: keras.optimizers.schedules.LearningRateSchedule | None = None) -> None:
        super().__init__()
        self.rate, self.steps, self.then = rate, steps, then
        self.step = 0

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self.step = 0

    def on_train_batch_begin(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if self.step < self.steps:
            self.model.optimizer.learning_rate = self.rate * (self.step + 1) / self.steps
        elif self.then is not None:
            self.model.optimizer.learning_rate = float(self.then(self.step - self.steps))
        elif self.step == self.steps:
            self.model.optimizer.learning_rate = self.rate
        self.step += 1


def rate_plan(params: Mapping[str, Any], length: TrainingLength | None) -> RatePlan:
    """The learning rate of a resolved configuration; ``length`` may be None only for a
    constant rate (or plateau) without warm-up, which need no layout."""
    rate, schedule = float(params["learning_rate"]), params["lr_schedule"]
    warmup_epochs = float(params["lr_warmup"])
    if length is None:
        if warmup_epochs > 0 or schedule not in ("constant", "plateau"):
            raise ValueError(f"the {schedule!r} schedule needs the training length")
        return RatePlan(rate, _plateau(params))
    steps = length.steps_per_epoch(int(params["batch_size"]))
    warmup = round(warmup_epochs * steps)
    if schedule == "cosine":
        return RatePlan(keras.optimizers.schedules.CosineDecay(
            0.0 if warmup else rate, decay_steps=max(1, length.epochs * steps - warmup),
            warmup_target=rate if warmup else None, warmup_steps=warmup))
    decay = _decay(params, rate, steps)
    if not warmup:
        return RatePlan(decay or rate, _plateau(params))
    return RatePlan(rate, (WarmUp(rate, warmup, decay), *_plateau(params)))


def _decay(params: Mapping[str, Any], rate: float,
           steps: int) -> keras.optimizers.schedules.ExponentialDecay | None:
    schedule = params["lr_schedule"]
    if schedule == "exponential":
        return keras.optimizers.schedules.ExponentialDecay(
            rate, decay_steps=steps, decay_rate=params["lr_decay_rate"])
    if schedule == "step":
        return keras.optimizers.schedules.ExponentialDecay(
            rate, decay_steps=params["lr_step_epochs"] * steps,
            decay_rate=params["lr_decay_rate"], staircase=True)
    return None


def _plateau(params: Mapping[str, Any]) -> tuple[keras.callbacks.Callback, ...]:
    if params["lr_schedule"] != "plateau":
        return ()
    return (keras.callbacks.ReduceLROnPlateau(
        monitor="val_loss", factor=params["lr_decay_rate"],
        patience=params["lr_plateau_patience"]),)


def early_stopping(params: Mapping[str, Any]) -> keras.callbacks.EarlyStopping | None:
    """Stops once validation accuracy (what the objective and the pruner read) has not
    improved for ``early_stopping_patience`` epochs; the best epoch's weights are kept."""
    if not params["early_stopping"]:
        return None
    return keras.callbacks.EarlyStopping(
        monitor="val_accuracy", mode="max", patience=params["early_stopping_patience"],
        restore_best_weights=True)


def kept_epoch(stopper: keras.callbacks.EarlyStopping | None, epochs_run: int) -> int:
    """The (0-based) epoch whose weights the model ends training with: the best one
    where early stopping restored it, else the last."""
    if stopper is not None and stopper.best_weights is not None:
        return int(stopper.best_epoch)
    return epochs_run - 1
