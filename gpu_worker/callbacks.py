"""Keras callbacks that connect training to the outside: progress, cancel, pruning.

Each takes a plain callable, so the same callbacks serve the CLI (a progress
bar, Ctrl-C), tests (a list, a flag) and the Celery worker (events, a stop flag).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import keras

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


class PruningCallback(keras.callbacks.Callback):
    """Reports the monitored metric each epoch; stops when ``should_prune`` says so."""

    def __init__(self, should_prune: Callable[[int, float], bool],
                 monitor: str = "val_accuracy") -> None:
        super().__init__()
        self._should_prune = should_prune
        self._monitor = monitor
        self.pruned_at_epoch: int | None = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        value = (logs or {}).get(self._monitor)
        if value is None or not math.isfinite(float(value)):
            return
        if self._should_prune(epoch + 1, float(value)):
            self.pruned_at_epoch = epoch + 1
            self.model.stop_training = True
