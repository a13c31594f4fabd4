"""One job's orchestration run in the caller's process, for `onegin.optimize` on a laptop.

The core finds this through the ``onegin.runners`` entry point (name ``local``), so
`onegin.api` keeps the signals, local workers and live display without importing
the orchestrator. A comparison runs its runs here too, one after another, each
exactly as `onegin optimize` runs a job.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from celery import Celery

from onegin.errors import JobHandedOver
from onegin.job_kinds import JobKind
from onegin.services import Services
from onegin.statuses import JOB_ACTIVE
from orchestrator.compare_runner import ComparisonRunner
from orchestrator.runner import JobRunner
from orchestrator.tasks import CeleryDispatcher


def run_job_here(job_id: str, services: Services, app: Celery, *,
                 stopping: Callable[[], bool], workers_gone: Callable[[], bool]) -> None:
    """Orchestrate the job until it ends, or until ``stopping`` hands it back.

    Raises `onegin.errors.JobBusy` while another orchestrator holds the job.
    """
    if services.records.get_job(job_id).kind == JobKind.COMPARE:
        _run_comparison_here(job_id, services, app, stopping=stopping,
                             workers_gone=workers_gone)
        return
    runner = JobRunner(job_id, services, CeleryDispatcher(app), stopping=stopping,
                       workers_gone=workers_gone)
    with contextlib.suppress(JobHandedOver):  # released for `resume`; the caller says so
        runner.run()


def _run_comparison_here(job_id: str, services: Services, app: Celery, *,
                         stopping: Callable[[], bool], workers_gone: Callable[[], bool]) -> None:
    """Look at the comparison, run every run it has under way here, look again: until it
    ends, or ``stopping`` hands it back (its runs' state is all in the records)."""
    comparison = ComparisonRunner(job_id, services, start=lambda _run_id: None)
    while not comparison.advance().terminal:
        for run in services.records.list_children(job_id):
            if run.status in JOB_ACTIVE:
                run_job_here(run.id, services, app, stopping=stopping,
                             workers_gone=workers_gone)
            if stopping():
                return
