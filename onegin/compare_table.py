"""A comparison's summary as the table `onegin compare` prints. Pure: summary in, text out.

One row per arm and seed: the run's best trial by its own objective, as it scored on
validation, test and the untouched holdout split; then each arm's retrains, whose
holdout accuracies show how much the best configuration owes to its training seed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

HEADER = ("ARM", "SEED", "JOB", "BEST", "VAL ACC", "TEST ACC", "HOLDOUT ACC", "WORST CLASS",
          "ECE", "ROBUSTNESS")


def _number(value: Any) -> str:
    return "-" if not isinstance(value, int | float) or isinstance(value, bool) \
        else f"{value:.4f}"


def best_trial(run: Mapping[str, Any]) -> Mapping[str, Any] | None:
    return next((t for t in run["trials"] if t["number"] == run["best_trial"]), None)


def format_comparison(summary: Mapping[str, Any]) -> str:
    """Aligned text columns, then one line per arm's retrains."""
    rows: list[Sequence[str]] = [HEADER]
    retrains = []
    for arm, data in summary["arms"].items():
        for run in data["runs"]:
            trial = best_trial(run) or {}
            holdout = trial.get("holdout") or {}
            rows.append((arm, str(run["seed"]), run["job_id"],
                         "-" if run["best_trial"] is None else str(run["best_trial"]),
                         _number(trial.get("val_accuracy")), _number(trial.get("test_accuracy")),
                         _number(holdout.get("accuracy")),
                         _number(holdout.get("worst_class_accuracy")),
                         _number(holdout.get("ece")), _number(holdout.get("robustness_mean"))))
        retrain = data.get("retrain")
        if retrain is not None:
            accuracies = [_number(h.get("accuracy")) for h in retrain["holdout"]]
            retrains.append(f"{arm}: best configuration retrained on seed {retrain['seed']}'s "
                            f"split, holdout accuracy {', '.join(accuracies) or 'none'}")
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in rows]
    return "\n".join(lines + retrains) + "\n"
