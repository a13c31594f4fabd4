"""The job and trial a log line belongs to, carried in a context variable.

Set once where the work starts (the GPU task, the orchestrator task), every
record logged inside — by our code, Celery, boto3 or anything else — gets the
ids, so one trial's lines can be picked out of many workers' interleaved logs.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

CONTEXT_FIELDS = ("job_id", "trial", "task_id")

_context: ContextVar[Mapping[str, Any] | None] = ContextVar("onegin_log_context", default=None)


def _fields() -> Mapping[str, Any]:
    return _context.get() or {}


def current_context() -> dict[str, Any]:
    """The fields set by the enclosing `log_context` blocks (empty outside any)."""
    return dict(_fields())


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Tag every record logged inside the block (this thread or task) with ``fields``.

    Nested blocks add to the outer one; ``None`` values are left out. Threads do
    not inherit it: start them with ``contextvars.copy_context().run``.
    """
    token = _context.set({**_fields(), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


def bind(**fields: Any) -> None:
    """Replace the context for the rest of this thread's current task (Celery hooks)."""
    _context.set({k: v for k, v in fields.items() if v is not None})


def unbind() -> None:
    _context.set(None)


class ContextFilter(logging.Filter):
    """Copies the context onto each record; ``extra=`` given at the call wins."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _fields().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True
