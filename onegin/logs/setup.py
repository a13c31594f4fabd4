"""Configure a process's logging from the settings: level, format and where lines go.

``log_format`` ``auto`` writes text to a terminal and JSON everywhere else (a
container's stdout, a file), so a laptop stays readable and a cluster's log
collector gets one object per line without extra configuration. With
``log_file`` set, records go to that file (size-rotated) instead of stderr.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import IO, Any

from onegin.errors import ConfigError
from onegin.logs.context import ContextFilter
from onegin.logs.formatters import JsonFormatter, TextFormatter
from onegin.logs.handlers import SharedRotatingFileHandler

_OURS = "_onegin_handler"  # marks handlers installed here, so a second call replaces them


def check_log_file(path: Path) -> None:
    """Raise ConfigError naming ``log_file`` when the file cannot be appended to."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise ConfigError("log_file", f"cannot write {str(path)!r}: "
                                      f"{exc.strerror or exc}") from None


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def installed_handlers() -> list[logging.Handler]:
    """The root logger's handlers that `configure_logging` installed (at most one)."""
    return [h for h in logging.getLogger().handlers if getattr(h, _OURS, False)]


def configure_logging(settings: Any, *, stream: IO[str] | None = None) -> logging.Handler:
    """Install one handler on the root logger as ``settings`` say; returns it.

    Idempotent: a later call replaces the handler an earlier one installed and
    leaves other handlers (pytest's, say) alone. ``stream`` defaults to stderr.
    """
    handler: logging.Handler
    if settings.log_file is not None:
        path = Path(settings.log_file)
        check_log_file(path)
        handler = SharedRotatingFileHandler(path, settings.log_max_bytes, settings.log_backups)
        as_json = settings.log_format != "text"
    else:
        target = stream or sys.stderr
        handler = logging.StreamHandler(target)
        as_json = settings.log_format == "json" or (
            settings.log_format == "auto" and not _is_terminal(target))
    handler.setFormatter(JsonFormatter() if as_json else TextFormatter())
    handler.addFilter(ContextFilter())
    setattr(handler, _OURS, True)
    root = logging.getLogger()
    for old in installed_handlers():
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    logging.captureWarnings(True)
    return handler
