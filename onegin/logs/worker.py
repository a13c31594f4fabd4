"""Celery glue: our logging instead of Celery's, and each task's ids on its log lines.

`worker_command` includes this module (``-I``), so it is imported before Celery
sets up logging. Connecting to ``setup_logging`` tells Celery to leave the
root logger to us; pool children inherit the handler when they fork.
``task_prerun``/``task_postrun`` run in the process and thread that execute the
task, so every line a task logs (ours, Celery's, a library's) carries its
job, trial and task id, for the orchestrator's task as for a GPU trial.
"""

from __future__ import annotations

from typing import Any

from celery.signals import setup_logging, task_postrun, task_prerun

from onegin.celery_app import RUN_JOB
from onegin.logs.context import bind, unbind
from onegin.logs.setup import configure_logging


@setup_logging.connect(weak=False)
def _configure(**_kwargs: Any) -> None:
    from onegin.settings import load_settings

    configure_logging(load_settings())


@task_prerun.connect(weak=False)
def _bind_task(task_id: str | None = None, task: Any = None, args: Any = (),
               kwargs: Any = None, **_extra: Any) -> None:
    kwargs = kwargs or {}
    job_id = kwargs.get("job_id")
    if job_id is None and args and getattr(task, "name", None) == RUN_JOB:
        job_id = args[0]
    bind(job_id=job_id, trial=kwargs.get("number"), task_id=task_id)


@task_postrun.connect(weak=False)
def _unbind_task(**_kwargs: Any) -> None:
    unbind()
