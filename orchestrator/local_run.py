"""One job's orchestration run in the caller's process, for `onegin.optimize` on a laptop.

The core finds this through the ``onegin.runners`` entry point (name ``local``), so
`onegin.api` keeps the signals, local workers and live display without importing
the orchestrator.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from celery import Celery

from onegin.errors import JobHandedOver
from onegin.services import Services
from orchestrator.runner import JobRunner
from orchestrator.tasks import CeleryDispatcher


def run_job_here(job_id: str, services: Services, app: Celery, *,
                 stopping: Callable[[], bool], workers_gone: Callable[[], bool]) -> None:
    """Orchestrate the job until it ends, or until ``stopping`` hands it back.

    Raises `onegin.errors.JobBusy` while another orchestrator holds the job.
    """
    runner = JobRunner(job_id, services, CeleryDispatcher(app), stopping=stopping,
                       workers_gone=workers_gone)
    with contextlib.suppress(JobHandedOver):  # released for `resume`; the caller says so
        runner.run()
