"""Onegin: distributed hyperparameter optimization for healthy Keras classifiers.

This package is the shared domain (search space, scoring, errors, CLI). It never
imports TensorFlow, so the web app and the orchestrator stay light.
"""

from __future__ import annotations

__version__ = "0.1.0"
