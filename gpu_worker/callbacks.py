"""Keras callbacks that connect training to the outside: progress, cancel, pruning,
and the stop of a hopeless trial.

Each takes plain callables or numbers, so the same callbacks serve the CLI (a progress
bar, Ctrl-C), tests (a list, a flag) and the Celery worker (events, a stop flag).
A callback that stops training early leaves a `Stop` saying why and where; Keras 3
then ends the epoch at once, still scores it on validation and calls
``on_epoch_end``, so a stopped trial's history has its (partial) last epoch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import keras

from onegin.hopeless import (
    at_chance,
    chance_check_due,
    chance_evidence,
    diverged,
    divergence_evidence,
    uniform_loss,
)
from onegin.json_values import finite_or_none
from onegin.progress import Progress, Throttle

ProgressSink = Callable[[Progress], None]


class ProgressCallback(keras.callbacks.Callback):
    """Reports epoch n of N and the fraction within the epoch, throttled."""

    def __init__(self, report: ProgressSink, epochs: int, steps_per_epoch: int,
                 throttle: Throttle | None = None) -> None:
        super().__init__()
        self._report = report
        self._epochs = epochs
        self._steps = max(1, steps_per_epoch)
        self._throttle = throttle or Throttle()
        self._epoch = 0

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._epoch = epoch + 1
        self._throttle.ready(force=True)
        self._report(Progress("training", self._epoch, self._epochs, 0.0))

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if self._throttle.ready():
            metrics = {k: float(v) for k, v in (logs or {}).items() if k in ("loss", "accuracy")}
            fraction = min(1.0, (batch + 1) / self._steps)
            self._report(Progress("training", self._epoch, self._epochs, fraction, metrics))

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        metrics = {k: float(v) for k, v in (logs or {}).items()}
        self._throttle.ready(force=True)
        self._report(Progress("training", epoch + 1, self._epochs, 1.0, metrics))


class CancelCallback(keras.callbacks.Callback):
    """Stops training at the end of the current batch once ``is_cancelled()`` says so."""

    def __init__(self, is_cancelled: Callable[[], bool]) -> None:
        super().__init__()
        self._is_cancelled = is_cancelled
        self.cancelled = False

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if self._is_cancelled():
            self.cancelled = True
            self.model.stop_training = True


@dataclass(frozen=True)
class Stop:
    """Why and in which (1-based) epoch a callback pruned the trial, with the evidence."""

    reason: str
    epoch: int
    evidence: dict[str, Any]


class _Stopper(keras.callbacks.Callback):
    """Tracks the epoch and records the first stop; a stop already asked for wins."""

    def __init__(self) -> None:
        super().__init__()
        self.epoch = 0
        self.stopped: Stop | None = None

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.epoch = epoch + 1

    def _may_stop(self) -> bool:
        return self.stopped is None and not self.model.stop_training

    def _stop(self, reason: str, evidence: dict[str, Any]) -> None:
        self.stopped = Stop(reason, self.epoch, evidence)
        self.model.stop_training = True


class PruningCallback(_Stopper):
    """Stops training once ``should_prune()`` names a prune reason.

    It asks after every batch, so a stop flag acts within the epoch rather than one
    epoch late (the worker's `StopPoller` keeps that cheap); ``per_batch=False``
    asks only at epoch ends, as before hopeless stops existed.
    """

    def __init__(self, should_prune: Callable[[], str | None], per_batch: bool = True) -> None:
        super().__init__()
        self._should_prune = should_prune
        self._per_batch = per_batch

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if self._per_batch:
            self._check({"epoch": self.epoch, "batch": batch + 1})

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if not self._per_batch:
            self._check({"epoch": self.epoch})

    def _check(self, evidence: dict[str, Any]) -> None:
        if self._may_stop() and (reason := self._should_prune()):
            self._stop(reason, evidence)


class HopelessCallback(_Stopper):
    """Stops a hopeless trial at once instead of after its whole budget.

    After every batch: a non-finite or blown-up loss (`diverged`; it replaces
    Keras' ``TerminateOnNaN``). After the first epoch (the first with enough steps,
    `chance_check_due`; there the loss must not have left a uniform guess's either)
    and the last (or, when early stopping ends the run, `ended_early`): validation
    accuracy and loss no better than the majority class and the class prior
    (`at_chance`; early, the training loss too), so a chance-level model is recorded
    pruned, never completed.
    Evidence batches are 1-based within their epoch.
    """

    def __init__(self, num_classes: int, chance: float, prior: float, epochs: int,
                 steps_per_epoch: int) -> None:
        super().__init__()
        self._num_classes = num_classes
        self._chance = chance
        self._prior = prior
        self._epochs = epochs
        self._steps = steps_per_epoch

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is None or not self._may_stop():
            return
        value = float(loss)
        if diverged(value, self._num_classes):
            self._stop("diverged", divergence_evidence(value, self._num_classes)
                       | {"epoch": self.epoch, "batch": batch + 1})

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        due = chance_check_due(self.epoch, self._epochs, self._steps)
        if due is not None and self._may_stop():
            self._judge_chance(logs or {}, early=due == "early")

    def ended_early(self, logs: dict[str, Any]) -> Stop | None:
        """The last epoch's judgement for a run that early stopping ended before its last
        epoch; ``logs``: the validation metrics of the epoch whose weights it kept."""
        if self.stopped is None:
            self._judge_chance(logs, early=False)
        return self.stopped

    def _judge_chance(self, logs: dict[str, Any], *, early: bool) -> None:
        val_accuracy = finite_or_none(logs.get("val_accuracy"))
        val_loss = finite_or_none(logs.get("val_loss"))
        start = uniform_loss(self._num_classes) if early else None
        train_loss = finite_or_none(logs.get("loss")) if early else None
        if at_chance(val_accuracy, val_loss, self._chance, self._prior, start, train_loss):
            assert val_accuracy is not None and val_loss is not None  # at_chance needs both
            self._stop("chance", chance_evidence(val_accuracy, val_loss, self._chance,
                                                 self._prior, start, train_loss)
                       | {"epoch": self.epoch})
