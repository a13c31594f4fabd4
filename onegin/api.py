"""Python entry point: `onegin.optimize(OptimizationConfig(...))` runs a whole job, and
`onegin.compare(CompareConfig(...))` a whole comparison, the same way.

On the embedded default it starts real local GPU-worker processes, runs the
orchestrator in this process, and returns where the best model (or the report) is.
While it runs, SIGINT cancels the job and SIGTERM or SIGHUP hands it back for
`resume` (`onegin.stop_signals`); either way no worker is left behind.
"""

from __future__ import annotations

import contextlib
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol, cast

from onegin.artifacts import best_prefix, report_prefix
from onegin.compare_config import CompareConfig
from onegin.errors import OneginError
from onegin.job_config import OptimizationConfig
from onegin.job_kinds import JobKind
from onegin.pareto import front_points, pareto_front
from onegin.services import Services
from onegin.settings import Settings, load_settings
from onegin.statuses import JOB_ACTIVE, JobStatus

if TYPE_CHECKING:
    from celery import Celery

log = logging.getLogger(__name__)
MODEL_FILE = "model.keras"
SUMMARY_FILE = "summary.json"  # a comparison's, beside its report (jobs/<id>/report/)
REPORT_FILE = "report.html"
RUNNERS_GROUP = "onegin.runners"  # pyproject.toml: the orchestrator's `local` run


class LocalRunner(Protocol):
    """`orchestrator.local_run.run_job_here`: the job orchestrated in this process."""

    def __call__(self, job_id: str, services: Services, app: Celery, *,
                 stopping: Callable[[], bool], workers_gone: Callable[[], bool]) -> None: ...


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
    # a pareto job's result: the trial numbers on its front (each one's model is stored
    # under jobs/<id>/trials/<n>/); empty for the other objectives
    pareto_front: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class ComparisonResult:
    """A comparison's end: its summary (`onegin compare`'s table) and where its report is."""

    job_id: str
    status: str
    summary: dict[str, Any] | None
    report_prefix: str
    report_url: str | None
    error: str | None = None


def comparison_result_for(services: Services, job_id: str) -> ComparisonResult:
    import json

    from onegin.artifacts import ArtifactNotFound

    job = services.records.get_job(job_id)
    prefix = report_prefix(job_id)
    try:
        summary = json.loads(services.artifacts.get_bytes(prefix + SUMMARY_FILE))
    except ArtifactNotFound:
        summary = None
    report = prefix + REPORT_FILE
    url = services.artifacts.presigned_url(report) if services.artifacts.exists(report) else None
    return ComparisonResult(job_id=job.id, status=job.status, summary=summary,
                            report_prefix=prefix, report_url=url, error=job.error)


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
        pareto_front=[p.number for p in pareto_front(front_points(trials))]
        if job.config.get("objective") == "pareto" else [],
    )


def optimize(config: OptimizationConfig, *, settings: Settings | None = None,
             workers: int | None = None, live: bool = False) -> OptimizationResult:
    """Run a job to its end here; ``workers`` local GPU-worker processes (embedded only)."""
    from onegin.submission import create_job

    settings = settings or load_settings()
    services = Services(settings)
    job = create_job(services.records, config)
    _run(services, job.id, config, workers, live)
    return result_for(services, job.id)


def compare(config: CompareConfig, *, settings: Settings | None = None,
            workers: int | None = None, live: bool = False,
            on_created: Callable[[str], None] | None = None) -> ComparisonResult:
    """Run a comparison to its end here: its runs one after another, each as `optimize`
    runs a job, then its report. ``on_created`` hears the comparison's id first."""
    from onegin.submission import create_comparison

    settings = settings or load_settings()
    services = Services(settings)
    job = create_comparison(services.records, config)
    if on_created is not None:
        on_created(job.id)
    _run(services, job.id, config.base, workers, live, follow=False)
    return comparison_result_for(services, job.id)


def resume(job_id: str, *, settings: Settings | None = None, workers: int | None = None,
           live: bool = False) -> OptimizationResult | ComparisonResult:
    """Go on with a job (or comparison) that was handed back (or whose orchestrator
    died), to its end.

    Raises `onegin.errors.JobBusy` while another orchestrator holds the job.
    """
    settings = settings or load_settings()
    services = Services(settings)
    job = services.records.get_job(job_id)
    if job.kind == JobKind.COMPARE:
        _run(services, job_id, CompareConfig.from_dict(job.config).base, workers, live,
             follow=False)
        return comparison_result_for(services, job_id)
    _run(services, job_id, OptimizationConfig.from_dict(job.config), workers, live)
    return result_for(services, job_id)


def _run(services: Services, job_id: str, config: OptimizationConfig, workers: int | None,
         live: bool, *, follow: bool = True) -> None:
    """Orchestrate the job here; ``config`` sizes the local workers. ``live``: show its
    trials as they train (``follow``), or else a comparison's runs as they go."""
    from onegin.celery_app import create_celery
    from onegin.compare_display import ComparisonDisplay
    from onegin.display import JobDisplay
    from onegin.local_workers import LocalWorkers
    from onegin.logs import log_context
    from onegin.services import use_services
    from onegin.stop_signals import JobStopper, SignalCatcher

    run_job_here = _local_runner()
    settings = services.settings
    use_services(services)
    app = create_celery(settings)
    count = workers if workers is not None else (config.concurrency if settings.embedded else 0)
    say = _announcer(live)
    with SignalCatcher() as signals:
        pool = LocalWorkers(settings, count)

        def cancel() -> None:
            say(f"cancelling job {job_id}: running trials stop at their next batch")
            _request_cancel(services, job_id)

        def stop_workers() -> None:
            say(f"stopping: {count} local worker(s) hand their trials back")
            pool.stop()

        stopper = JobStopper(signals, cancel=cancel, stop_workers=stop_workers,
                             grace=settings.shutdown_grace)
        # embedded, our workers are the only ones on this home's queue
        local_only = settings.embedded and count > 0
        with pool, stopper, log_context(job_id=job_id):
            run = partial(run_job_here, job_id, services, app,
                          stopping=stopper.hand_over.is_set,
                          workers_gone=lambda: local_only and stopper.workers_stopped.is_set())
            if live and follow:
                with JobDisplay(services.events, job_id, config.trials):
                    run()
            elif live:  # a comparison: a line per run
                with ComparisonDisplay(services.records, job_id, say):
                    run()
            else:
                run()
        if stopper.error is not None:
            raise stopper.error
    status = services.records.get_job(job_id).status
    if signals.received is not None:
        if status in JOB_ACTIVE:
            say(f"job {job_id} handed back ({signal.Signals(signals.received).name}): "
                f"resume it with `onegin optimize --resume {job_id}`")
        else:
            say(f"job {job_id}: {status}")
        signals.redeliver()


def _local_runner() -> LocalRunner:
    """The orchestrator's in-process run, found through its entry point (the core never
    imports the orchestrator)."""
    from importlib.metadata import entry_points

    found = entry_points(group=RUNNERS_GROUP, name="local")
    if not found:
        raise OneginError(f"no {RUNNERS_GROUP!r} entry point named 'local': the orchestrator "
                          "is not installed here (run `pip install -e .` in the repository)")
    return cast(LocalRunner, next(iter(found)).load())


def _request_cancel(services: Services, job_id: str) -> None:
    """What `onegin cancel` does: the orchestrator sees it and stops the trials (a
    comparison's runs are cancelled with it)."""
    from onegin.records import InvalidTransition
    from onegin.submission import cancel_children

    with contextlib.suppress(InvalidTransition):  # already over
        services.records.update_job(job_id, status=JobStatus.CANCELLING)
    cancel_children(services.records, services.events, job_id)


def _announcer(live: bool) -> Callable[[str], None]:
    """On the terminal when live (the CLI), else as a log line."""
    if not live:
        return log.warning
    from rich.console import Console

    return Console(stderr=True).print
