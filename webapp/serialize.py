"""The JSON the API returns for jobs. Pure: records in, plain dicts out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from onegin.records import JobRecord


def job_json(job: JobRecord, counts: Mapping[str, int]) -> dict[str, Any]:
    """A job as the dashboard reads it: its record, trial counts and budget, no owner."""
    data = job.to_dict()
    config = data["config"]
    return {
        "id": data["id"],
        "kind": data["kind"],
        "parent_id": data["parent_id"],
        "name": config.get("name") or "",
        "status": data["status"],
        "config": config,
        "created_at": data["created_at"],
        "started_at": data["started_at"],
        "finished_at": data["finished_at"],
        "best_trial_number": data["best_trial_number"],
        "best_score": data["best_score"],
        "best_accuracy": data["best_accuracy"],
        "error": data["error"],
        # while its trials are sent and no worker starts any: since when, the GPU queue's depth
        "waiting": data["waiting"],
        "counts": dict(counts),
        "budget": config.get("trials"),
    }
