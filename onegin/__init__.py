"""Onegin: distributed hyperparameter optimization for healthy Keras classifiers.

This package is the shared domain (search space, scoring, errors, CLI). It never
imports TensorFlow, so the web app and the orchestrator stay light.
"""

from __future__ import annotations

__version__ = "0.1.0"

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from onegin.api import ComparisonResult, OptimizationResult, compare, optimize
    from onegin.compare_config import CompareConfig
    from onegin.job_config import OptimizationConfig

__all__ = ["CompareConfig", "ComparisonResult", "OptimizationConfig", "OptimizationResult",
           "compare", "optimize"]


def __getattr__(name: str) -> Any:
    """`onegin.optimize` and friends, imported on first use (Celery, Optuna are heavy)."""
    if name in ("optimize", "OptimizationResult", "compare", "ComparisonResult"):
        from onegin import api

        return getattr(api, name)
    if name == "OptimizationConfig":
        from onegin.job_config import OptimizationConfig

        return OptimizationConfig
    if name == "CompareConfig":
        from onegin.compare_config import CompareConfig

        return CompareConfig
    raise AttributeError(f"module 'onegin' has no attribute {name!r}")
