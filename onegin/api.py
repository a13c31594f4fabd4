"""Python entry point: `onegin.optimize(OptimizationConfig(...))` runs a whole job.

On the embedded default it starts real local GPU-worker processes, runs the
orchestrator in this process, and returns where the best model is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from onegin.artifacts import best_prefix
from onegin.job_config import OptimizationConfig
from onegin.services import Services
from onegin.settings import Settings, load_settings

MODEL_FILE = "model.keras"


@dataclass(frozen=True)
class OptimizationResult:
    job_id: str
    status: str
    best_trial: int | None
    best_score: float | None
    best_accuracy: float | None
    best_params: dict[str, Any] | None
    best_prefix: str
    model_url: str | None
    trials: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None


def result_for(services: Services, job_id: str) -> OptimizationResult:
    job = services.records.get_job(job_id)
    trials, _ = services.records.list_trials(job_id, limit=100_000)
    best = next((t for t in trials if t.number == job.best_trial_number), None)
    prefix = best_prefix(job_id)
    model_url = None
    if best is not None and services.artifacts.exists(prefix + MODEL_FILE):
        model_url = services.artifacts.presigned_url(prefix + MODEL_FILE)
    return OptimizationResult(
        job_id=job.id, status=job.status, best_trial=job.best_trial_number,
        best_score=job.best_score, best_accuracy=job.best_accuracy,
        best_params=best.params if best else None, best_prefix=prefix, model_url=model_url,
        trials=[t.to_dict() for t in trials], error=job.error,
    )


def optimize(config: OptimizationConfig, *, settings: Settings | None = None,
             workers: int | None = None, live: bool = False) -> OptimizationResult:
    """Run a job to its end here; ``workers`` local GPU-worker processes (embedded only)."""
    from onegin.celery_app import create_celery
    from onegin.display import JobDisplay
    from onegin.local_workers import LocalWorkers
    from onegin.logs import log_context
    from onegin.services import use_services
    from onegin.submission import create_job
    from orchestrator.runner import JobRunner
    from orchestrator.tasks import CeleryDispatcher

    settings = settings or load_settings()
    services = Services(settings)
    use_services(services)
    app = create_celery(settings)
    job = create_job(services.records, config)
    count = workers if workers is not None else (config.concurrency if settings.embedded else 0)
    workers_pool = LocalWorkers(settings, count)
    with workers_pool, log_context(job_id=job.id):
        runner = JobRunner(job.id, services, CeleryDispatcher(app))
        if live:
            with JobDisplay(services.events, job.id, config.trials):
                runner.run()
        else:
            runner.run()
    return result_for(services, job.id)
