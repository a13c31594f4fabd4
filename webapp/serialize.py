"""The JSON the API returns for jobs. Pure: records in, plain dicts out."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from onegin.pareto import front_points, pareto_front
from onegin.records import JobRecord, TrialRecord

FRONT_OBJECTIVES = ("val_accuracy", "health_score")  # the front's axes, both maximised


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


def front_json(job: JobRecord, completed: Iterable[TrialRecord],
               model_url: Callable[[int], str]) -> dict[str, Any]:
    """The job's Pareto front (members by trial number, each with its model's URL) and
    the completed trials it dominates; the job's best is always a member."""
    trials = {t.number: t for t in completed}
    points = front_points(trials.values())
    members = {p.number for p in pareto_front(points)}

    def point(number: int) -> dict[str, Any]:
        trial = trials[number]
        return {"number": number, "val_accuracy": trial.val_accuracy,
                "health_score": trial.health_score, "total_score": trial.total_score}

    return {
        "objectives": list(FRONT_OBJECTIVES),
        "best_trial": job.best_trial_number,
        "front": [point(p.number) | {"params": trials[p.number].params,
                                     "model_url": model_url(p.number)}
                  for p in points if p.number in members],
        "dominated": [point(p.number) for p in points if p.number not in members],
    }
