"""Error kinds that say what failed and whether retrying can help.

Modelled on KerasTuner's split: a bad request (fix the input), a failed trial
(record it, never retry), and unavailable data (put the file in place).
"""

from __future__ import annotations

from typing import Any


def shown(value: Any, limit: int = 60) -> str:
    """``repr(value)`` for an error message, cut short: a client's huge value is never
    echoed back whole."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


class OneginError(Exception):
    """Base class of every error Onegin raises on purpose."""


class ConfigError(OneginError, ValueError):
    """A configuration value is invalid; names the field and the reason."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason

    def __reduce__(self) -> tuple[type[ConfigError], tuple[str, str]]:
        return (type(self), (self.field, self.reason))  # survives pickling across processes


class TrialFailed(OneginError):
    """The trial's model itself is invalid or diverged: record it, do not retry."""


class TrialCancelled(OneginError):
    """Training stopped because the job was cancelled."""


class DatasetUnavailable(OneginError):
    """A dataset could not be found offline and could not be downloaded."""


class ConfigErrors(OneginError, ValueError):
    """Several invalid fields at once, so a form or an API client can fix them all."""

    def __init__(self, errors: list[ConfigError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors

    def __reduce__(self) -> tuple[type[ConfigErrors], tuple[list[ConfigError]]]:
        return (type(self), (self.errors,))

    def as_dict(self) -> dict[str, str]:
        return {e.field: e.reason for e in self.errors}


class JobBusy(OneginError):
    """Another live orchestrator runs this job: try again once its claim has expired."""


class JobHandedOver(OneginError):
    """This orchestrator is stopping: it released the job for the next one to resume."""
