"""Holdout metrics from predicted class probabilities (pure NumPy).

Calibration follows Guo et al. (2017): the expected calibration error puts each
prediction in one of 15 equal-width bins by its confidence (its top probability)
and averages |accuracy - confidence| over the bins, each weighted by its share of
the samples. The Brier score is the multi-class one (Brier 1950): the mean over
samples of the squared distance between the probability vector and the one-hot
label, from 0 (certain and right) to 2 (certain and wrong).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from onegin.holdout import ECE_BINS


def _check(y_true: np.ndarray, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y, p = np.asarray(y_true, dtype=np.int64), np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or y.shape != (len(p),) or not len(y):
        raise ValueError(f"need labels (n,) and probabilities (n, classes) with n > 0, "
                         f"got {y.shape} and {p.shape}")
    return y, p


def accuracy(y_true: np.ndarray, probs: np.ndarray) -> float:
    y, p = _check(y_true, probs)
    return float(np.mean(p.argmax(1) == y))


def per_class_accuracy(y_true: np.ndarray, probs: np.ndarray) -> list[float | None]:
    """Each class's share of its samples predicted right (its recall); None for a class
    the holdout has no sample of, which has no accuracy to report."""
    y, p = _check(y_true, probs)
    classes = p.shape[1]
    counts = np.bincount(y, minlength=classes)
    hits = np.bincount(y[p.argmax(1) == y], minlength=classes)
    return [float(h / c) if c else None for h, c in zip(hits, counts, strict=True)]


def worst_class_accuracy(per_class: list[float | None]) -> float:
    """The lowest accuracy of the classes present: what the model costs its worst-served
    class, which an average over classes hides."""
    return min(a for a in per_class if a is not None)


def expected_calibration_error(y_true: np.ndarray, probs: np.ndarray,
                               bins: int = ECE_BINS) -> float:
    """ECE over ``bins`` equal-width confidence bins; bin k holds (k/bins, (k+1)/bins]."""
    y, p = _check(y_true, probs)
    confidence = p.max(1)
    correct = (p.argmax(1) == y).astype(np.float64)
    index = np.clip(np.ceil(confidence * bins).astype(np.int64) - 1, 0, bins - 1)
    # a bin's weight times its gap, |B|/n * |acc(B) - conf(B)|, is |sum over B of
    # (correct - confidence)| / n
    gaps = np.bincount(index, weights=correct - confidence, minlength=bins)
    return float(np.abs(gaps).sum() / len(y))


def brier_score(y_true: np.ndarray, probs: np.ndarray) -> float:
    y, p = _check(y_true, probs)
    onehot = np.eye(p.shape[1])[y]
    return float(np.mean(np.sum((p - onehot) ** 2, axis=1)))


def summarize(y_true: np.ndarray, probs: np.ndarray) -> dict[str, Any]:
    """Samples, accuracy (overall, worst class, per class), ECE and Brier score."""
    per_class = per_class_accuracy(y_true, probs)
    return {
        "samples": len(y_true), "accuracy": accuracy(y_true, probs),
        "worst_class_accuracy": worst_class_accuracy(per_class),
        "per_class_accuracy": per_class,
        "ece": expected_calibration_error(y_true, probs), "brier": brier_score(y_true, probs),
    }
