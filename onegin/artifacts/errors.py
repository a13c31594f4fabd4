"""What went wrong with an artifact, and whether retrying can help.

Every error says so in ``retryable``: the retry wrapper retries only errors that
a later attempt can fix (the store is unreachable or throttling), never a
missing key, a refused key, a denied request or corrupted bytes.
"""

from __future__ import annotations

from typing import ClassVar

from onegin.errors import ConfigError, OneginError


class ArtifactError(OneginError):
    """Base class of the artifact store's errors; permanent unless said otherwise."""

    retryable: ClassVar[bool] = False


class ArtifactNotFound(ArtifactError, LookupError):
    """No object is stored under the key (or nothing under the prefix)."""

    def __init__(self, key: str) -> None:
        super().__init__(f"no artifact at {key!r}")
        self.key = key

    def __reduce__(self) -> tuple[type[ArtifactNotFound], tuple[str]]:
        return (type(self), (self.key,))


class ArtifactCorrupted(ArtifactError):
    """The bytes read back do not hash to the sha256 recorded when they were written."""

    def __init__(self, key: str, expected: str, actual: str) -> None:
        super().__init__(f"artifact {key!r} is corrupted: sha256 {actual}, expected {expected}")
        self.key = key
        self.expected = expected
        self.actual = actual

    def __reduce__(self) -> tuple[type[ArtifactCorrupted], tuple[str, str, str]]:
        return (type(self), (self.key, self.expected, self.actual))


class ArtifactAccessDenied(ArtifactError):
    """The store refused the request (credentials, policy, permissions): fix the setup."""


class ArtifactStoreUnavailable(ArtifactError):
    """The store cannot be reached or is overloaded right now; a later attempt may work."""

    retryable: ClassVar[bool] = True


class InvalidArtifactKey(ConfigError, ArtifactError):
    """A key could escape its place (``..``, absolute, backslash, …) or lies outside ``within``."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__("artifact_key", f"{key!r} {problem}")
        self.key = key
        self.problem = problem

    def __reduce__(self) -> tuple[type[InvalidArtifactKey], tuple[str, str]]:
        return (type(self), (self.key, self.problem))
