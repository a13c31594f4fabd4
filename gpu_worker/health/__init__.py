"""Model health: six scores in [0, 1] that say whether an accurate model is also sound.

`probes` measures a trained model (activations, gradients), `formulas` turns
measurements into scores with pure NumPy, `recorder` collects per-batch losses
during ``fit``. Every score is then gated by the model's skill above chance, so a
model that learned nothing never reads as healthy. The component names and their
weights live in `onegin.scoring` only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gpu_worker.health import formulas
from gpu_worker.health.probes import gradient_norms, layer_activations
from gpu_worker.health.recorder import BatchLossRecorder
from onegin.hopeless import chance_level
from onegin.json_values import finite_or_none
from onegin.scoring import HEALTH_COMPONENTS

__all__ = ["PROBE_LIMIT", "BatchLossRecorder", "HealthReport", "compute_health"]

PROBE_LIMIT = 256  # probe samples for activations and gradients: enough to see variation, cheap


@dataclass(frozen=True)
class HealthReport:
    """The six components (keys exactly ``HEALTH_COMPONENTS``) and the numbers behind them."""

    components: dict[str, float]
    details: dict[str, Any]


def _json_dict(terms: Mapping[str, float | None], prefix: str = "") -> dict[str, float | None]:
    """Prefixed copy of a formula's terms, safe to serialise."""
    return {prefix + k: finite_or_none(v) for k, v in terms.items()}


def compute_health(
    model: Any,
    *,
    x_probe: np.ndarray,
    y_probe: np.ndarray,
    y_val: np.ndarray,
    y_val_pred: np.ndarray,
    val_losses: Sequence[float],
    batch_losses: Sequence[float],
    val_accuracy: float,
    num_classes: int,
) -> HealthReport:
    """Measure a trained model and score all six health components.

    ``x_probe``/``y_probe`` are validation samples (only the first
    ``PROBE_LIMIT`` are used); ``y_val_pred`` holds predicted class labels for
    ``y_val``; ``val_losses`` is the per-epoch validation loss and
    ``batch_losses`` the per-batch training loss (`BatchLossRecorder.losses`).
    Each component is the measurement times `formulas.skill_gate`; the
    measurement itself stays in ``details["ungated"]``.
    """
    x_probe, y_probe = np.asarray(x_probe)[:PROBE_LIMIT], np.asarray(y_probe)[:PROBE_LIMIT]
    param_count = int(model.count_params())

    activations = layer_activations(model, x_probe)
    activity = formulas.unit_activity(activations)
    norms = gradient_norms(model, x_probe, y_probe)
    class_accuracy = formulas.per_class_accuracy(y_val, y_val_pred, num_classes)
    losses = [float(v) for v in val_losses]
    batches = [float(v) for v in batch_losses]
    chance = chance_level(y_val)
    skill = formulas.skill(val_accuracy, chance)
    gate = formulas.skill_gate(skill)

    scores = {
        "neuron_utilization": formulas.neuron_utilization(activations),
        "parameter_efficiency": formulas.parameter_efficiency(skill, param_count),
        "training_stability": formulas.training_stability(batches),
        "gradient_health": formulas.gradient_health(norms),
        "convergence_quality": formulas.convergence_quality(losses, num_classes),
        "accuracy_consistency": formulas.accuracy_consistency(y_val, y_val_pred, num_classes),
    }
    ungated = {name: formulas.clip_unit(scores[name]) for name in HEALTH_COMPONENTS}
    components = {name: formulas.clip_unit(value * gate) for name, value in ungated.items()}

    present = [r for r in class_accuracy if r is not None]
    details: dict[str, Any] = {
        "probe_samples": len(x_probe),
        "active_units": sum(k for k, _ in activity.values()),
        "measured_units": sum(n for _, n in activity.values()),
        "active_fraction": {name: k / n for name, (k, n) in activity.items()},
        "param_count": param_count,
        "num_classes": int(num_classes),
        "val_accuracy": finite_or_none(val_accuracy),
        "chance": chance,
        "skill": skill,
        "skill_gate": gate,
        "ungated": ungated,
        "efficiency_size_factor": formulas.size_factor(param_count),
        "batch_count": len(batches),
        **_json_dict(formulas.training_stability_terms(batches), prefix="batch_loss_"),
        "gradient_norms": {name: finite_or_none(v) for name, v in norms.items()},
        "gradient_layer_scores": formulas.layer_gradient_scores(norms),
        "val_losses": [finite_or_none(v) for v in losses],
        **_json_dict(formulas.convergence_terms(losses, num_classes), prefix="val_loss_"),
        "per_class_accuracy": class_accuracy,
        "per_class_accuracy_std": float(np.std(present)) if present else None,
    }
    return HealthReport(components=components, details=details)
