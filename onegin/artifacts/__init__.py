"""The artifact store: where trials' models, JSON, plots and logs live.

Laid out like every external service in `onegin`: ``protocol`` (the
`ArtifactStore` contract and `ArtifactInfo`), ``errors``, one module per backend
(``local``, ``s3`` with ``s3_errors``), and ``resolve`` (`open_artifact_store`,
URL -> backend). Beside them: ``retry`` (a wrapper around any backend),
``keys`` (valid keys and the layout: ``jobs/<job_id>/trials/<n>/`` per trial, its
TensorBoard logs in ``tensorboard/`` there, ``jobs/<job_id>/best/`` for the winner,
``jobs/<job_id>/report/`` for a comparison's report), ``files`` (local file plumbing)
and ``tree`` (`put_tree`). boto3 is imported only when an S3 store is built, so the
web app can do without it.
"""

from __future__ import annotations

from onegin.artifacts.errors import (
    ArtifactAccessDenied,
    ArtifactCorrupted,
    ArtifactError,
    ArtifactNotFound,
    ArtifactStoreUnavailable,
    InvalidArtifactKey,
)
from onegin.artifacts.keys import (
    MAX_KEY_BYTES,
    TENSORBOARD_FOLDER,
    best_prefix,
    content_type_of,
    job_prefix,
    report_prefix,
    tensorboard_prefix,
    trial_prefix,
    validate_key,
    validate_prefix,
)
from onegin.artifacts.local import LocalArtifactStore
from onegin.artifacts.protocol import ArtifactInfo, ArtifactStore
from onegin.artifacts.resolve import open_artifact_store
from onegin.artifacts.retry import RetryingArtifactStore, is_transient
from onegin.artifacts.s3 import S3ArtifactStore
from onegin.artifacts.tree import put_tree

__all__ = [
    "MAX_KEY_BYTES",
    "TENSORBOARD_FOLDER",
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
    "report_prefix",
    "tensorboard_prefix",
    "trial_prefix",
    "validate_key",
    "validate_prefix",
]

