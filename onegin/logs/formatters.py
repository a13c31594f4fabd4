"""Two renderings of a record: one JSON object per line, or a line of text for people."""

from __future__ import annotations

import json
import logging
import math
from datetime import UTC, datetime
from typing import Any

from onegin.logs.context import CONTEXT_FIELDS

# attributes every LogRecord has: anything else on a record came from ``extra=``
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def _timestamp(record: logging.LogRecord) -> str:
    stamp = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


def _plain(value: Any) -> Any:
    """JSON has no NaN or infinity: a diverged loss logged as ``extra`` must not break a line."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "message", "process", …}``: what log collectors index.

    ``job_id``, ``trial`` and ``task_id`` appear when set (`log_context`), other
    ``extra=`` fields as given, an exception as ``exception`` (the traceback
    text) and ``exc_type``.
    """

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": _timestamp(record), "level": record.levelname, "logger": record.name,
            "message": record.getMessage(), "process": record.process,
            "process_name": record.processName, "thread": record.threadName,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exc_type"] = getattr(record.exc_info[0], "__name__", None)
            out["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            out["exception"] = record.exc_text
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        return json.dumps(_plain(out), default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """``2025-01-31 12:00:00,123 INFO gpu_worker.trial_runner [job=… trial=3]: message``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(ids)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        ids = " ".join(f"{'job' if key == 'job_id' else key}={getattr(record, key)}"
                       for key in CONTEXT_FIELDS[:2] if getattr(record, key, None) is not None)
        record.ids = f" [{ids}]" if ids else ""
        try:
            return super().format(record)
        finally:
            del record.ids  # type: ignore[attr-defined]
