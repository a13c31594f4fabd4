"""Artifact keys: the only names a store accepts, and the job/trial layout.

Keys are relative POSIX paths checked on every operation, so a key built from
user input (a web download, a trial file name) can never reach outside the
store's root or prefix, nor outside the job it claims to belong to.
"""

from __future__ import annotations

import mimetypes
import posixpath
from collections.abc import Callable

from onegin.artifacts.errors import ArtifactNotFound, InvalidArtifactKey

MAX_KEY_BYTES = 1024  # S3's limit on a key, applied to every backend alike
# Extensions some platforms' mimetypes tables lack.
_CONTENT_TYPES = {".yaml": "application/yaml", ".yml": "application/yaml",
                  ".keras": "application/octet-stream", ".jsonl": "application/jsonl"}


def validate_key(key: str, *, within: str | None = None) -> str:
    """Return ``key`` unchanged if it is a safe object key (under ``within`` if given).

    ``within`` is a prefix such as ``job_prefix(job_id)``; a trailing ``/`` is
    implied, so ``jobs/ab`` never admits ``jobs/abc/...``.
    """
    _check_path(key, allow_trailing_slash=False)
    if within is not None:
        folder = validate_prefix(within if within.endswith("/") else within + "/")
        if not key.startswith(folder):
            raise InvalidArtifactKey(key, f"is not inside {folder!r}")
    return key


def validate_prefix(prefix: str) -> str:
    """Return ``prefix`` if it is ``""`` (everything) or a safe folder ending in ``/``."""
    if prefix == "":
        return prefix
    if not prefix.endswith("/"):
        raise InvalidArtifactKey(prefix, "is not a prefix (it must end with '/')")
    _check_path(prefix, allow_trailing_slash=True)
    return prefix


def as_prefix(folder: str) -> str:
    """Return ``folder`` as a validated prefix, adding the trailing ``/`` if missing."""
    if folder == "" or folder.endswith("/"):
        return validate_prefix(folder)
    return validate_prefix(folder + "/")


def job_prefix(job_id: str) -> str:
    """Where every artifact of a job lives: ``jobs/<job_id>/``."""
    _check_segment(job_id, "job id")
    return f"jobs/{job_id}/"


def trial_prefix(job_id: str, number: int) -> str:
    """Where a worker pushes one trial's outputs: ``jobs/<job_id>/trials/<n>/``."""
    if isinstance(number, bool) or not isinstance(number, int) or number < 0:
        raise InvalidArtifactKey(str(number), "is not a trial number (an integer >= 0)")
    return f"{job_prefix(job_id)}trials/{number}/"


TENSORBOARD_FOLDER = "tensorboard"  # a trial's TensorBoard logs: one folder per run inside


def tensorboard_prefix(job_id: str, number: int) -> str:
    """Where a trial's TensorBoard logs live: ``jobs/<job_id>/trials/<n>/tensorboard/``."""
    return f"{trial_prefix(job_id, number)}{TENSORBOARD_FOLDER}/"


def best_prefix(job_id: str) -> str:
    """Where the orchestrator copies the best trial's artifacts: ``jobs/<job_id>/best/``."""
    return f"{job_prefix(job_id)}best/"


def report_prefix(job_id: str) -> str:
    """Where a comparison keeps its report, summary and plots: ``jobs/<job_id>/report/``."""
    return f"{job_prefix(job_id)}report/"


def _check_segment(name: str, what: str) -> None:
    if not isinstance(name, str) or name in ("", ".", "..") or "/" in name:
        raise InvalidArtifactKey(str(name), f"is not a valid {what} (one non-empty path segment)")
    _check_path(name, allow_trailing_slash=False)


def _check_path(key: str, *, allow_trailing_slash: bool) -> None:
    if not isinstance(key, str):
        raise InvalidArtifactKey(repr(key), "is not a string")
    if key == "":
        raise InvalidArtifactKey(key, "is empty")
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidArtifactKey(key, "is not valid Unicode (lone surrogate)") from None
    if size > MAX_KEY_BYTES:
        raise InvalidArtifactKey(key, f"is longer than {MAX_KEY_BYTES} bytes")
    if key.startswith("/"):
        raise InvalidArtifactKey(key, "is absolute (starts with '/')")
    if "\\" in key:
        raise InvalidArtifactKey(key, "contains a backslash")
    if any(ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in key):
        raise InvalidArtifactKey(key, "contains a NUL or control character")
    segments = key.split("/")
    if allow_trailing_slash and segments[-1] == "":
        segments.pop()
    for segment in segments:
        if segment == "":
            raise InvalidArtifactKey(key, "has an empty path segment")
        if segment in (".", ".."):
            raise InvalidArtifactKey(key, f"has a {segment!r} path segment")


def plan_copy(
    src: str, dst: str, keys_under: Callable[[str], list[str]]
) -> list[tuple[str, str]]:
    """(source key, destination key) pairs for ``copy(src, dst)``.

    A key goes to a key; a prefix goes to a prefix (both ending in ``/``, not
    overlapping, the source non-empty). ``keys_under`` lists a prefix's keys.
    """
    if not src.endswith("/"):
        if dst.endswith("/"):
            raise InvalidArtifactKey(dst, "is a prefix but the source is a single key")
        return [(validate_key(src), validate_key(dst))]
    validate_prefix(src)
    if not dst.endswith("/"):
        raise InvalidArtifactKey(dst, "must be a prefix ending in '/' when the source is one")
    validate_prefix(dst)
    if src == "" or dst.startswith(src) or src.startswith(dst):
        raise InvalidArtifactKey(dst, f"overlaps the source prefix {src!r}")
    keys = keys_under(src)
    if not keys:
        raise ArtifactNotFound(src)
    return [(key, dst + key[len(src):]) for key in keys]


def content_type_of(key: str) -> str:
    """The MIME type of ``key`` from its extension: what a store records and a download
    is served with, so browsers render plots and JSON inline."""
    extension = posixpath.splitext(key)[1].lower()
    guessed, _ = mimetypes.guess_type(key, strict=False)
    return _CONTENT_TYPES.get(extension) or guessed or "application/octet-stream"
