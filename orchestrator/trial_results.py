"""What a worker's result becomes in a trial record (the runner and the sweeper write it),
and what the record keeps of a trial that ended without a result of its own."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from onegin.trial_message import TrialResult

PROGRESS_KEYS = ("phase", "epoch", "epochs", "epoch_fraction", "fraction")
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


def stop_fields(progress: Mapping[str, Any] | None, *, cause: str | None = None,
                infrastructure: bool = False, rerun: bool = False) -> dict[str, Any]:
    """The ``metrics`` of a trial that was cancelled, failed or lost: ``last_progress``,
    where its worker last said it was (none if it never started), and with a ``cause``,
    ``failure``: whose failure it was and whether its parameters run again."""
    metrics: dict[str, Any] = {}
    if progress:
        metrics["last_progress"] = {k: progress[k] for k in PROGRESS_KEYS if k in progress}
    if cause is not None:
        metrics["failure"] = {"cause": cause, "infrastructure": infrastructure, "rerun": rerun}
    return {"metrics": metrics} if metrics else {}
