"""Constructed comparison summaries for the tests: a few knobs, everything else plausible."""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

EXAMPLE = Path(__file__).parents[2] / "fixtures" / "compare_summary.json"

COMPONENTS = ("neuron_utilization", "parameter_efficiency", "training_stability",
              "gradient_health", "convergence_quality", "accuracy_consistency")


def example() -> dict[str, Any]:
    """The realistic example (digits, 3 seeds, 12 trials per arm) shared with compare-run."""
    return json.loads(EXAMPLE.read_text())


def holdout(accuracy: float = 0.9, ece: float = 0.05, **changes: Any) -> dict[str, Any]:
    h: dict[str, Any] = {
        "samples": 180, "accuracy": accuracy, "worst_class_accuracy": accuracy - 0.1,
        "per_class_accuracy": [accuracy] * 10, "ece": ece, "brier": 0.15,
        "robustness": {"gaussian_noise": [0.85, 0.8, 0.7], "blur": [0.88, 0.85, 0.8],
                       "occlusion": [0.8, 0.7, 0.6]},
        "robustness_mean": 0.777, "param_count": 50_000, "latency_ms_per_256": 4.2}
    h.update(changes)
    return h


def trial(number: int, h: dict[str, Any] | None, val_accuracy: float = 0.92,
          health: dict[str, float] | None = None, status: str = "completed") -> dict[str, Any]:
    health = health or dict.fromkeys(COMPONENTS, 0.8)
    return {"number": number, "status": status, "params": {"filters": 32},
            "val_accuracy": val_accuracy, "test_accuracy": val_accuracy,
            "health": health, "health_score": sum(health.values()) / len(health),
            "total_score": val_accuracy, "holdout": h}


def summary(accuracy_best: Sequence[dict[str, Any]], health_best: Sequence[dict[str, Any]],
            extra_trials: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """One run per seed (seeds 1..n) whose best trial 0 has the given holdout; each run also
    holds ``extra_trials`` (numbered from 1) in both arms."""
    seeds = list(range(1, len(accuracy_best) + 1))

    def arm(objective: str, best: Sequence[dict[str, Any]]) -> dict[str, Any]:
        runs = [{"seed": s, "job_id": f"{objective}-{s}", "best_trial": 0,
                 "trials": [trial(0, h), *copy.deepcopy(list(extra_trials))]}
                for s, h in zip(seeds, best, strict=True)]
        return {"objective": objective, "weights": None, "runs": runs,
                "retrain": {"params": {"filters": 32}, "seed": 101,
                            "holdout": [holdout(0.9), holdout(0.92)]}}

    return {"id": "cmp-test", "dataset": "digits", "modality": "images", "trials_per_arm": 1,
            "seeds": seeds, "epochs": 1,
            "arms": {"accuracy": arm("simple", accuracy_best),
                     "health": arm("health", health_best)}}
