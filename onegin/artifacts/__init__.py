"""The artifact store: where trials' models, JSON, plots and logs live.

One ``ArtifactStore`` protocol, a local-folder and an S3 backend, a retry
wrapper, and ``open_artifact_store(url)`` to pick one from settings. Layout:
``jobs/<job_id>/trials/<n>/`` per trial, ``jobs/<job_id>/best/`` for the winner.
boto3 is imported only when an S3 store is built, so the web app can do without it.
"""

from __future__ import annotations

from onegin.artifacts._keys import (
    MAX_KEY_BYTES,
    best_prefix,
    content_type_of,
    job_prefix,
    trial_prefix,
    validate_key,
    validate_prefix,
)
from onegin.artifacts._local import LocalArtifactStore
from onegin.artifacts._protocol import ArtifactInfo, ArtifactStore
from onegin.artifacts._resolve import open_artifact_store, put_tree
from onegin.artifacts._retry import RetryingArtifactStore, is_transient
from onegin.artifacts._s3 import S3ArtifactStore
from onegin.artifacts.errors import (
    ArtifactAccessDenied,
    ArtifactCorrupted,
    ArtifactError,
    ArtifactNotFound,
    ArtifactStoreUnavailable,
    InvalidArtifactKey,
)

__all__ = [
    "MAX_KEY_BYTES",
    "ArtifactAccessDenied",
    "ArtifactCorrupted",
    "ArtifactError",
    "ArtifactInfo",
    "ArtifactNotFound",
    "ArtifactStore",
    "ArtifactStoreUnavailable",
    "InvalidArtifactKey",
    "LocalArtifactStore",
    "RetryingArtifactStore",
    "S3ArtifactStore",
    "best_prefix",
    "content_type_of",
    "is_transient",
    "job_prefix",
    "open_artifact_store",
    "put_tree",
    "trial_prefix",
    "validate_key",
    "validate_prefix",
]

