"""Error kinds that say what failed and whether retrying can help.

Modelled on KerasTuner's split: a bad request (fix the input), a failed trial
(record it, never retry), and unavailable data (put the file in place).
"""

from __future__ import annotations


class OneginError(Exception):
    """Base class of every error Onegin raises on purpose."""


class ConfigError(OneginError, ValueError):
    """A configuration value is invalid; names the field and the reason."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class TrialFailed(OneginError):
    """The trial's model itself is invalid or diverged: record it, do not retry."""


class TrialCancelled(OneginError):
    """Training stopped because the job was cancelled."""


class DatasetUnavailable(OneginError):
    """A dataset could not be found offline and could not be downloaded."""
