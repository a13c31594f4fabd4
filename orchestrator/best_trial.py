"""A finished job's best trial, published where users look for it: jobs/<id>/best/.

Its artifacts are copied (no retraining) beside a YAML file of its hyperparameters,
score and health, so the best model can be taken without reading the records. A
pareto job's YAML also names the trials on its front: each one's model stays under
jobs/<id>/trials/<n>/.
"""

from __future__ import annotations

import io

import yaml

from onegin.artifacts import best_prefix, trial_prefix
from onegin.job_config import OptimizationConfig
from onegin.pareto import front_points, pareto_front
from onegin.records import JobRecord
from onegin.services import Services
from onegin.statuses import TrialStatus

BEST_PARAMS_FILE = "best_hyperparameters.yaml"


def publish_best(services: Services, config: OptimizationConfig, job: JobRecord) -> None:
    """Copy the best trial's artifacts to jobs/<id>/best/ with its YAML; replaces any there."""
    if job.best_trial_number is None:
        return
    artifacts = services.artifacts
    number = int(job.best_trial_number)
    best = best_prefix(job.id)
    artifacts.delete(best)
    artifacts.copy(trial_prefix(job.id, number), best)
    trial = services.records.get_trial(job.id, number)
    document = {
        "job_id": job.id, "trial": number, "dataset": config.dataset,
        "objective": config.objective, "total_score": trial.total_score,
        "val_accuracy": trial.val_accuracy,
        "test_accuracy": (trial.metrics or {}).get("test_accuracy"),
        "health": trial.health, "weights": config.weights.to_dict(),
        "hyperparameters": trial.params,
    }
    if config.objective == "pareto":  # the best is one choice among the front's members
        completed, _ = services.records.list_trials(job.id, limit=1_000_000,
                                                    status=TrialStatus.COMPLETED)
        document["pareto_front"] = [p.number for p in pareto_front(front_points(completed))]
    buffer = io.StringIO()
    yaml.safe_dump(document, buffer, sort_keys=False)
    artifacts.put_bytes(best + BEST_PARAMS_FILE, buffer.getvalue().encode(),
                        content_type="application/yaml")
