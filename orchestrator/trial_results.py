"""What a worker's result becomes in a trial record (the runner and the sweeper write it)."""

from __future__ import annotations

from typing import Any

from onegin.trial_message import TrialResult

METRIC_KEYS = ("val_loss", "test_accuracy", "test_loss", "epochs_run", "param_count", "timings",
               "plots", "pruned_at_epoch", "prune_reason", "prune_evidence", "dataset",
               "stopped_epoch")


def result_fields(result: TrialResult) -> dict[str, Any]:
    """The record fields of a completed or pruned trial's result."""
    message = result.to_dict()
    return {
        "val_accuracy": result.val_accuracy,
        "total_score": result.total_score,
        "health": result.health,
        "health_score": result.health_score,
        "architecture_summary": result.architecture_summary,
        "artifact_prefix": result.artifact_prefix,
        "worker": result.worker,
        "holdout": result.holdout,
        "metrics": {k: message[k] for k in METRIC_KEYS if k in message},
    }
