"""Holdout report: accuracy, calibration, robustness, size and speed on the untouched split.

`metrics` (pure NumPy on predicted probabilities) and `corruptions` (pure, on input
arrays) hold the definitions; `evaluate` runs the model. The report's keys and
corruption names live in `onegin.holdout`.
"""

from __future__ import annotations

from gpu_worker.holdout.evaluate import evaluate_holdout

__all__ = ["evaluate_holdout"]
