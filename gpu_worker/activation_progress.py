"""Record how each hidden layer's activations evolve over training.

A single end-of-training snapshot cannot tell a layer that died in epoch 1 from
one that faded slowly; the activation-progression plot needs one point per
epoch. The recorder probes a small fixed batch so the points are comparable
across epochs and the cost stays a fraction of an epoch.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from gpu_worker.health.probes import measured_layers

ACTIVE_SHARE = "active_share"
"""Share of units (conv: channels) whose output varies across the probe batch."""
MEAN_ABS_ACTIVATION = "mean_abs_activation"
"""Mean absolute activation over the probe batch, all positions and units."""
STATISTICS: tuple[str, ...] = (ACTIVE_SHARE, MEAN_ABS_ACTIVATION)

# A unit is active when its output depends on the sample. Same rule and values as
# health's neuron_utilization (``formulas.unit_activity``), mirrored rather than
# imported so this module does not move with health's internals; keep them equal
# so the plot's last point agrees with the reported metric.
ACTIVE_ABS_TOL = 1e-6  # below this, variation is float32 noise on a dead or saturated unit
ACTIVE_REL_TOL = 0.01  # a unit varying 100× less than its layer's typical magnitude is constant
DEFAULT_PROBE_SIZE = 128

Progression = dict[str, dict[str, list[float]]]
"""``{layer_name: {statistic: [value per epoch]}}`` with statistics from ``STATISTICS``."""


def active_share(activation: np.ndarray) -> float:
    """Share of units (last axis) whose output varies across the batch (first axis).

    Conv channels and recurrent units are measured over every position: a unit's
    spread is the RMS over positions of its across-sample std, and it counts as
    active above ``max(ACTIVE_ABS_TOL, ACTIVE_REL_TOL × layer RMS)``. Constant
    units (dead ReLUs, saturated tanh) carry no information about the input,
    whatever their value; a unit with a non-finite output is inactive.
    """
    a = np.asarray(activation, dtype=np.float64)
    if a.ndim < 2 or a.shape[0] < 2 or a.shape[-1] == 0:
        return 0.0
    a = a.reshape(a.shape[0], -1, a.shape[-1])  # (samples, positions, units)
    finite = np.isfinite(a).all(axis=(0, 1))
    a = np.where(np.isfinite(a), a, 0.0)
    spread = np.sqrt(np.mean(np.var(a, axis=0), axis=0))
    level = float(np.sqrt(np.mean(np.square(a[..., finite])))) if finite.any() else 0.0
    threshold = max(ACTIVE_ABS_TOL, ACTIVE_REL_TOL * level)
    return float(np.mean(finite & (spread > threshold)))


def mean_abs_activation(activation: np.ndarray) -> float:
    """Mean |activation|: shows saturation (large) or fading (towards zero) over epochs."""
    a = np.asarray(activation, dtype=np.float64)
    return float(np.mean(np.abs(a))) if a.size else 0.0


class ActivationProgressRecorder(keras.callbacks.Callback):
    """Per epoch, measure every ``probes.measured_layers`` layer on a fixed probe batch.

    The probe sub-model is built once per model (on train begin), not per epoch:
    ``probes.layer_activations`` builds a fresh one on every call, which would
    retrace a predict function each epoch. Values accumulate across ``fit``
    calls on the same model; ``reset()`` clears them.
    """

    def __init__(self, probe_x: np.ndarray, max_samples: int = DEFAULT_PROBE_SIZE) -> None:
        super().__init__()
        if max_samples < 2:
            raise ValueError("the probe batch needs at least 2 samples to measure variation")
        x = np.asarray(probe_x)
        if x.ndim == 0 or len(x) < 2:
            raise ValueError("probe_x must hold at least 2 samples along its first axis")
        self.probe_x = x[:max_samples]
        self._progression: Progression = {}
        self._probe: Any = None
        self._probe_names: list[str] = []
        self._probe_owner: Any = None

    @property
    def progression(self) -> Progression:
        """``{layer: {statistic: [per epoch]}}``; a copy, safe to hand to the plots."""
        return {layer: {s: list(v) for s, v in stats.items()}
                for layer, stats in self._progression.items()}

    def reset(self) -> None:
        self._progression.clear()

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        if self._probe_owner is self.model:
            return
        layers = measured_layers(self.model)
        self._probe_owner = self.model
        self._probe_names = [layer.name for layer in layers]
        self._probe = (
            keras.Model(self.model.inputs, [layer.output for layer in layers]) if layers else None
        )

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self._probe is None:
            return
        outputs = self._probe.predict_on_batch(self.probe_x)
        if len(self._probe_names) == 1 and not isinstance(outputs, list | tuple):
            outputs = [outputs]
        for name, out in zip(self._probe_names, outputs, strict=True):
            a = np.asarray(out)
            stats = self._progression.setdefault(name, {s: [] for s in STATISTICS})
            stats[ACTIVE_SHARE].append(active_share(a))
            stats[MEAN_ABS_ACTIVATION].append(mean_abs_activation(a))
