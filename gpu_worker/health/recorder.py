"""Per-batch training losses for the training_stability component.

Keras 3 reports ``logs["loss"]`` at each batch end as the running mean over the
epoch so far (a sample-weighted ``keras.metrics.Mean``, reset every epoch), not
the batch's own loss. A running mean hides exactly the spikes stability looks
for, so each batch's loss is recovered from consecutive means:
``L_b = (S_b·M_b − S_{b−1}·M_{b−1}) / (S_b − S_{b−1})`` with S the samples (or,
when the batch size is unknown, batches) seen so far; with equal batches this is
``L_b = b·M_b − (b−1)·M_{b−1}``.
"""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np


class BatchLossRecorder(keras.callbacks.Callback):
    """Collects each training batch's own loss into ``.losses``, across epochs.

    Raw log values are kept as they arrive and turned into floats once per epoch,
    so a tensor-valued log never forces a device sync per batch. Pass
    ``samples`` and ``batch_size`` (training-set size and ``fit`` batch size) to
    recover a short last batch exactly; without them all batches count equally,
    which only damps the last batch's deviation from the epoch mean. With
    ``steps_per_execution`` > 1 Keras logs once per group of steps and the
    recovered value is that group's mean loss.
    """

    async_safe = True  # only appends; order is restored from batch indices at epoch end

    def __init__(self, samples: int | None = None, batch_size: int | None = None) -> None:
        super().__init__()
        if (samples is None) != (batch_size is None):
            raise ValueError("give both samples and batch_size, or neither")
        if batch_size is not None and samples is not None and (batch_size < 1 or samples < 1):
            raise ValueError("samples and batch_size must be positive")
        self._samples = samples
        self._batch_size = batch_size
        self._pending: list[tuple[int, Any]] = []
        self.losses: list[float] = []

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._pending = []

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        if logs and "loss" in logs:
            self._pending.append((int(batch), logs["loss"]))

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self._flush()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        self._flush()  # an epoch cut short by stop_training never reached on_epoch_end

    def _seen(self, batch: int) -> float:
        """Samples (or batches) seen after batch index ``batch`` (0-based)."""
        if self._samples is None or self._batch_size is None:
            return float(batch + 1)
        return float(min((batch + 1) * self._batch_size, self._samples))

    def _flush(self) -> None:
        pending, self._pending = sorted(self._pending, key=lambda item: item[0]), []
        prev_seen, prev_mean = 0.0, 0.0
        for batch, raw in pending:
            mean = float(np.asarray(raw))
            seen = self._seen(batch)
            weight = seen - prev_seen
            if weight <= 0:  # a repeated index: nothing new to recover
                continue
            if not math.isfinite(mean):
                loss = mean  # a non-finite mean poisons the rest; stability reads it as 0
            else:
                loss = (seen * mean - prev_seen * prev_mean) / weight
            self.losses.append(float(loss))
            prev_seen, prev_mean = seen, mean
