"""Whose fault a trial's error is: the trial's own, or the infrastructure's.

Pure, so every rule is tested alone. The split follows KerasTuner's `errors.py`:
a trial's own failure (bad data, out of memory, an invalid model, a NaN loss, or
any error its training raised) is recorded and re-run at most ``trial_retries``
times, because running the same parameters on the same data fails the same way;
an infrastructure error (a service unreachable, a disk full) says nothing about
the trial, so the orchestrator re-runs it, at most ``lost_retries`` times.

An unknown error counts as the trial's own: a bug in training code is as
deterministic as bad data, and re-running it forever is what this module ends.
Classes are recognised by name, so neither TensorFlow nor the service clients
are imported here.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass

from onegin.artifacts.errors import ArtifactError
from onegin.errors import DatasetUnavailable, TrialFailed

MAX_MESSAGE = 2000  # characters kept of an error (TensorFlow's can run to pages)
# Errors of the clients of our services (broker, events, control store, database, S3):
# none of them is caused by a trial's parameters.
SERVICE_MODULES = ("redis.", "kombu.", "amqp.", "botocore.", "boto3.", "s3transfer.",
                   "sqlalchemy.", "psycopg2.", "urllib3.")
OUT_OF_MEMORY_NAMES = frozenset({"ResourceExhaustedError"})  # tf.errors, any TF version
OUT_OF_MEMORY_TEXT = ("OOM when allocating", "RESOURCE_EXHAUSTED", "out of memory")
NO_DISK = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS})


@dataclass(frozen=True)
class Failure:
    """How one error is handled: ``infrastructure`` or the trial's own, and what to say."""

    infrastructure: bool
    cause: str  # bad data, out of memory, invalid model, diverged, error; or infrastructure
    message: str


def classify(exc: BaseException) -> Failure:
    """The failure ``exc`` stands for; its message names the cause and keeps the error's text."""
    if _infrastructure(exc):
        return _failure(True, "infrastructure", exc)
    return _failure(False, _own_cause(exc), exc)


def _infrastructure(exc: BaseException) -> bool:
    if isinstance(exc, ConnectionError | TimeoutError | ArtifactError):
        return True
    if isinstance(exc, OSError) and exc.errno in NO_DISK:
        return True  # this worker's disk, not the trial: another worker may manage
    return any(cls.__module__.startswith(SERVICE_MODULES) for cls in type(exc).__mro__)


def _own_cause(exc: BaseException) -> str:
    names = {cls.__name__ for cls in type(exc).__mro__}
    if isinstance(exc, MemoryError) or names & OUT_OF_MEMORY_NAMES or \
            any(text in str(exc) for text in OUT_OF_MEMORY_TEXT):
        return "out of memory"
    if isinstance(exc, DatasetUnavailable | OSError | UnicodeError):
        return "bad data"  # a file that cannot be read, or not as what it claims to be
    if isinstance(exc, TrialFailed):  # the trainer's own verdict
        return "invalid model" if isinstance(exc.__cause__, ValueError | TypeError) \
            else "diverged"
    return "error"


def _failure(infrastructure: bool, cause: str, exc: BaseException) -> Failure:
    text = str(exc).strip() or type(exc).__name__
    if not isinstance(exc, TrialFailed | DatasetUnavailable):  # ours already read well
        text = f"{type(exc).__name__}: {text}"
    message = f"{cause}: {text}"
    if len(message) > MAX_MESSAGE:
        message = message[:MAX_MESSAGE - 1] + "…"
    return Failure(infrastructure, cause, message)
