"""The six health components, and the skill gate applied to them, as pure NumPy functions.

Each takes measurements (activations, losses, gradient norms, labels) and returns
a float in [0, 1], higher is healthier. Non-finite measurements score 0 and no
function ever returns NaN. TensorFlow stays out of this module so the scores can
be unit-tested and explained without a model; `probes.py` takes the measurements.
The written definitions here are repeated, with advice, in ``docs/health.md``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from gpu_worker.gradient_limits import GRADIENT_CEILING, GRADIENT_FLOOR

# neuron_utilization
ACTIVITY_REL_TOL = 0.01  # a unit varying 100× less than its layer's typical magnitude is constant
ACTIVITY_ABS_TOL = 1e-6  # below this, variation is float32 noise on a dead or saturated unit

# skill gate
# a quarter of the way from chance to perfect (33 % on digits): components count in full.
# Trials stuck at chance measured skill <= 0.03, those that learned >= 0.5 (docs/health.md)
GATE_FULL_SKILL = 0.25

# parameter_efficiency
SIZE_FREE_PARAMS = 10_000  # P0 ≈ a 64-128-10 MLP on 8×8 digits; no model this small is penalised

# training_stability
SMOOTHING_WINDOW = 7  # batches in the centred moving average that stands for the trend
MIN_BATCHES = 3  # fewer batch losses than this cannot show a trend, so nothing is judged
ROUGHNESS_SCALE = 0.2  # batch noise of 20% of the loss level scores exp(-1) ≈ 0.37
LOSS_LEVEL_FLOOR = 0.25  # nats added to the level: near-zero cross-entropies inflate relative noise
EDGE_FRACTION = 0.1  # share of the run averaged as its start and end when checking for a climb

# gradient_health
GRADIENT_FREE_DECADES = 1.0  # within one order of magnitude of the median layer is healthy
GRADIENT_ZERO_DECADES = 3.0  # three orders of magnitude from the median layer scores 0

_EPS = 1e-12  # guards divisions by a zero level


def clip_unit(value: float) -> float:
    """Clip to [0, 1]; NaN and other non-finite values become 0."""
    value = float(value)
    if not math.isfinite(value):
        return 0.0
    return min(1.0, max(0.0, value))


def unit_activity(activations: Mapping[str, np.ndarray]) -> dict[str, tuple[int, int]]:
    """Per layer: (active units, measured units) on a probe batch.

    The last axis holds the units (Dense units, conv channels, recurrent units);
    every other axis but the first (samples) is a position. A unit is active when
    its output depends on the sample: the root-mean-square over positions of its
    across-sample standard deviation exceeds ``ACTIVITY_REL_TOL`` times the
    layer's RMS output (and ``ACTIVITY_ABS_TOL``). Dead ReLUs (always 0) and
    saturated sigmoids/tanhs (always ±1) are constant and so inactive; a unit
    with any non-finite output is inactive. Layers with fewer than two samples
    or no unit axis cannot be measured and are left out.
    """
    result: dict[str, tuple[int, int]] = {}
    for name, raw in activations.items():
        a = np.asarray(raw, dtype=np.float64)
        if a.ndim < 2 or a.shape[0] < 2 or a.shape[-1] == 0:
            continue
        units = a.shape[-1]
        a = a.reshape(a.shape[0], -1, units)  # (samples, positions, units)
        finite = np.isfinite(a).all(axis=(0, 1))
        a = np.where(np.isfinite(a), a, 0.0)
        spread = np.sqrt(np.mean(np.var(a, axis=0), axis=0))  # (units,)
        level = math.sqrt(float(np.mean(np.square(a[..., finite])))) if finite.any() else 0.0
        threshold = max(ACTIVITY_ABS_TOL, ACTIVITY_REL_TOL * level)
        active = finite & (spread > threshold)
        result[str(name)] = (int(active.sum()), int(units))
    return result


def neuron_utilization(activations: Mapping[str, np.ndarray]) -> float:
    """Share of hidden units that are alive on the probe batch, weighted by unit count.

    Definition: over every measured hidden layer (Dense units, conv channels,
    recurrent units), the number of active units divided by the number of units,
    where "active" is defined in `unit_activity`. No measurable units gives 1.0:
    there is nothing dead to report.
    """
    counts = unit_activity(activations)
    total = sum(n for _, n in counts.values())
    if total == 0:
        return 1.0
    return clip_unit(sum(k for k, _ in counts.values()) / total)


def skill(accuracy: float, chance: float) -> float:
    """Share of the way from guessing to perfect: (accuracy − chance) / (1 − chance), clipped.

    ``chance`` is what a model with no skill scores: the majority-class share of the
    validation labels (`onegin.hopeless.chance_level`), not 1/K, because always
    answering the commonest class is the cheapest guess (0.866 on SMS spam, where
    1/K would credit that guess with skill 0.73). Non-finite input scores 0, and so
    does a chance of 1 (one class only: no skill can be shown).
    """
    accuracy, chance = float(accuracy), float(chance)
    if not 0.0 <= chance <= 1.0:  # also refuses NaN
        raise ValueError(f"chance must be a share in [0, 1], got {chance}")
    if not math.isfinite(accuracy) or chance == 1.0:
        return 0.0
    return clip_unit((accuracy - chance) / (1.0 - chance))


def skill_gate(skill_value: float) -> float:
    """Factor in [0, 1] that every health component is multiplied by.

    Definition: min(1, skill / ``GATE_FULL_SKILL``): 0 at chance, rising linearly to
    1 once the model is ``GATE_FULL_SKILL`` of the way from chance to perfect. A model
    that learned nothing has nothing to be healthy about: its neurons vary, its
    gradients flow and its loss is smooth precisely because it barely moved, so
    ungated those components read near 1. Models with real skill are left as
    measured. Non-finite skill gives 0.
    """
    return clip_unit(float(skill_value) / GATE_FULL_SKILL)


def size_factor(param_count: int) -> float:
    """1 up to ``SIZE_FREE_PARAMS`` parameters, then 1 / (1 + log10(P / P0)); see
    `parameter_efficiency`. A non-finite count scores 0."""
    params = float(param_count)
    if not math.isfinite(params):
        return 0.0
    return clip_unit(1.0 / (1.0 + math.log10(max(params, SIZE_FREE_PARAMS) / SIZE_FREE_PARAMS)))


def parameter_efficiency(skill_value: float, param_count: int) -> float:
    """Skill per parameter: skill above chance times a reward for small models.

    Definition: ``skill_value`` is `skill` (the share of the way from chance to
    perfect); size = 1 / (1 + log10(max(P, P0) / P0)) with P0 = ``SIZE_FREE_PARAMS``
    is 1 up to P0 parameters and 0.5 at 10·P0, 0.33 at 100·P0. The score is
    skill × size, so a bloated model needs more accuracy to be as efficient.
    Non-finite inputs score 0.
    """
    return clip_unit(float(skill_value) * size_factor(param_count))


def _moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Centred moving average; the window shrinks at the ends instead of padding."""
    half = window // 2
    sums = np.concatenate([[0.0], np.cumsum(values)])
    idx = np.arange(len(values))
    lo, hi = np.maximum(idx - half, 0), np.minimum(idx + half + 1, len(values))
    return (sums[hi] - sums[lo]) / (hi - lo)


def training_stability_terms(batch_losses: Sequence[float]) -> dict[str, float | None]:
    """The numbers behind `training_stability` (``None`` where not measurable)."""
    losses = np.asarray(list(batch_losses), dtype=np.float64).ravel()
    terms: dict[str, float | None] = {
        "roughness": None, "smoothness": None, "start": None, "end": None, "climb_factor": None,
    }
    if losses.size and not np.isfinite(losses).all():
        terms.update(smoothness=0.0, climb_factor=0.0)
        return terms
    if losses.size < MIN_BATCHES:
        return terms
    trend = _moving_average(losses, SMOOTHING_WINDOW)
    level = float(np.mean(np.abs(trend)))
    roughness = float(np.mean(np.abs(losses - trend))) / max(level + LOSS_LEVEL_FLOOR, _EPS)
    edge = max(1, round(EDGE_FRACTION * losses.size))
    start, end = float(np.mean(trend[:edge])), float(np.mean(trend[-edge:]))
    climb = 1.0 if end <= start else (start / end if start > 0 else 0.0)
    terms.update(
        roughness=roughness, smoothness=math.exp(-roughness / ROUGHNESS_SCALE),
        start=start, end=end, climb_factor=climb,
    )
    return terms


def training_stability(batch_losses: Sequence[float]) -> float:
    """Smoothness of the per-batch training-loss curve.

    Definition: with s the centred moving average of the batch losses over
    ``SMOOTHING_WINDOW`` batches (the trend), roughness = mean|L − s| /
    (mean(s) + ``LOSS_LEVEL_FLOOR``) is the batch-to-batch noise relative to the
    run's loss level (the floor keeps a well-converged run, whose loss is near
    0, from reading as noisy), and smoothness = exp(−roughness /
    ``ROUGHNESS_SCALE``). A loss that climbs is
    unstable too: with start and end the mean of s over the first and last
    ``EDGE_FRACTION`` of the run, the score is smoothness × min(1, start/end).
    Any non-finite loss scores 0; fewer than ``MIN_BATCHES`` losses give 1.0
    (nothing to judge).
    """
    terms = training_stability_terms(batch_losses)
    if terms["smoothness"] is None or terms["climb_factor"] is None:
        return 1.0
    return clip_unit(terms["smoothness"] * terms["climb_factor"])


def layer_gradient_scores(norms: Mapping[str, float]) -> dict[str, float]:
    """Per-layer gradient score in [0, 1]; see `gradient_health`."""
    values = {name: float(v) for name, v in norms.items()}
    usable = [v for v in values.values() if math.isfinite(v) and v > 0]
    median = float(np.median(usable)) if usable else 0.0
    span = GRADIENT_ZERO_DECADES - GRADIENT_FREE_DECADES
    scores: dict[str, float] = {}
    for name, v in values.items():
        if not math.isfinite(v) or v < GRADIENT_FLOOR or v > GRADIENT_CEILING:
            scores[name] = 0.0
            continue
        decades = abs(math.log10(v / median))
        scores[name] = clip_unit(1.0 - (decades - GRADIENT_FREE_DECADES) / span)
    return scores


def gradient_health(norms: Mapping[str, float]) -> float:
    """Gradients that neither vanish nor explode, from per-layer gradient RMS.

    Definition: each layer's kernel-gradient RMS on the probe batch scores 0 if
    non-finite, below ``GRADIENT_FLOOR`` (vanished) or above ``GRADIENT_CEILING``
    (exploding); otherwise, with d = |log10(norm / median over layers)|, it
    scores 1 within one decade of the median, falling linearly to 0 at three
    decades, so layers starved (or flooded) relative to the rest are caught even
    when every value is inside the absolute bounds. The component is the mean
    over layers; no layers gives 1.0.
    """
    scores = layer_gradient_scores(norms)
    if not scores:
        return 1.0
    return clip_unit(float(np.mean(list(scores.values()))))


def convergence_terms(val_losses: Sequence[float], num_classes: int) -> dict[str, float | None]:
    """The numbers behind `convergence_quality` (``None`` where not measurable)."""
    if num_classes < 2:
        raise ValueError(f"num_classes must be at least 2, got {num_classes}")
    losses = np.asarray(list(val_losses), dtype=np.float64).ravel()
    reference = math.log(num_classes)
    terms: dict[str, float | None] = {
        "reference": reference, "best": None, "final": None, "progress": 0.0, "kept": 0.0,
    }
    finite = losses[np.isfinite(losses)]
    if finite.size:
        terms["best"] = float(np.min(finite))
    if losses.size == 0 or not math.isfinite(losses[-1]):
        return terms
    best, final = float(np.min(finite)), float(losses[-1])
    terms["final"] = final
    gain = reference - best
    if gain > 0:
        terms["progress"] = clip_unit(gain / reference)
        terms["kept"] = clip_unit((reference - final) / gain)
    return terms


def convergence_quality(val_losses: Sequence[float], num_classes: int) -> float:
    """How far validation loss fell from chance, and how much of that was kept.

    Definition: with reference r = ln K (the loss of a uniform guess), best the
    lowest and final the last validation loss, progress = (r − best) / r and
    kept = (r − final) / (r − best), each clipped to [0, 1]; the score is
    progress × kept. Never leaving chance scores ~0; overfitting or divergence
    after the best epoch loses the share of the gain given back. A single epoch
    works (best = final). No losses, or a non-finite final loss, scores 0.
    """
    terms = convergence_terms(val_losses, num_classes)
    return clip_unit((terms["progress"] or 0.0) * (terms["kept"] or 0.0))


def per_class_accuracy(
    y_true: np.ndarray, y_pred: np.ndarray, num_classes: int
) -> list[float | None]:
    """Recall of each class 0..K−1 (``None`` for a class absent from ``y_true``)."""
    truth = np.asarray(y_true).ravel()
    pred = np.asarray(y_pred).ravel()
    if truth.shape != pred.shape:
        raise ValueError(f"y_true has {truth.size} labels but y_pred has {pred.size}")
    if truth.size and (not np.issubdtype(truth.dtype, np.integer) and not np.all(truth % 1 == 0)):
        raise ValueError("y_true must hold integer class labels")
    truth = truth.astype(np.int64)
    if truth.size and (truth.min() < 0 or truth.max() >= num_classes):
        raise ValueError(f"y_true labels must lie in [0, {num_classes})")
    support = np.bincount(truth, minlength=num_classes)
    hits = np.bincount(truth[truth == pred], minlength=num_classes)
    return [float(hits[c] / support[c]) if support[c] else None for c in range(num_classes)]


def accuracy_consistency(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> float:
    """Evenness of accuracy across validation shards, the shards being the classes.

    Definition: 1 − 2·std(per-class recall) over the classes present in
    ``y_true`` (population std; values in [0, 1] have std at most 0.5, so the
    score spans [0, 1]). Shards are classes because random shards of one
    validation set only measure sampling noise; a model that is perfect on some
    classes and guessing on others is what inconsistency means in practice, and
    overall accuracy hides it. Fewer than two classes present gives 1.0.
    """
    recalls = [r for r in per_class_accuracy(y_true, y_pred, num_classes) if r is not None]
    if len(recalls) < 2:
        return 1.0
    return clip_unit(1.0 - 2.0 * float(np.std(recalls)))
