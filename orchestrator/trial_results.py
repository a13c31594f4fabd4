"""What a worker's result becomes in a trial record (the runner and the sweeper write it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

METRIC_KEYS = ("val_loss", "test_accuracy", "test_loss", "epochs_run", "param_count", "timings",
               "plots", "pruned_at_epoch", "prune_reason", "prune_evidence", "dataset")


def result_fields(result: Mapping[str, Any]) -> dict[str, Any]:
    """The record fields of a completed or pruned trial's result."""
    return {
        "val_accuracy": result.get("val_accuracy"),
        "total_score": result.get("total_score"),
        "health": result.get("health"),
        "health_score": result.get("health_score"),
        "architecture_summary": result.get("architecture_summary"),
        "artifact_prefix": result.get("artifact_prefix"),
        "worker": result.get("worker"),
        "metrics": {k: result.get(k) for k in METRIC_KEYS if k in result},
    }
