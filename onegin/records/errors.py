"""What can go wrong with records, and whether retrying helps.

`RecordNotFound` and `InvalidField` (with `InvalidTransition`) are the caller's
fault: fix the request, never retry. `RecordStoreUnavailable` is the database's:
the operation did not happen and may be retried.
"""

from __future__ import annotations

from onegin.errors import OneginError


class RecordError(OneginError):
    """Base class of the record store's errors."""


class RecordNotFound(RecordError, LookupError):
    """No job (or trial) with that key."""

    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"{kind} {key} not found")
        self.kind = kind
        self.key = key


class InvalidField(RecordError, ValueError):
    """A field name or value was rejected; nothing was stored."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class InvalidTransition(InvalidField):
    """A job status change the lifecycle does not allow; nothing was stored."""

    def __init__(self, current: str, requested: str) -> None:
        super().__init__("status", f"cannot go from {current} to {requested}")
        self.current = current
        self.requested = requested


class RecordStoreUnavailable(RecordError):
    """The database failed or could not be reached; the operation was rolled back."""
