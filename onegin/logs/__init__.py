"""Structured logs: JSON lines (or text on a terminal) tagged with job and trial ids.

`configure_logging(settings)` at process start (`onegin web`; Celery workers
through `onegin.logs.worker`), `log_context(job_id=…, trial=…)` around work.
"""

from __future__ import annotations

from onegin.logs.context import current_context, log_context
from onegin.logs.setup import check_log_file, configure_logging

__all__ = ["check_log_file", "configure_logging", "current_context", "log_context"]
