"""Turn the ``artifacts_url`` setting into an artifact store (URL -> backend).

Every store it returns is wrapped in `RetryingArtifactStore`; the S3 backend
(and with it boto3) is imported only for an ``s3://`` URL.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from onegin.artifacts.errors import InvalidArtifactKey
from onegin.artifacts.keys import validate_prefix
from onegin.artifacts.local import LocalArtifactStore
from onegin.artifacts.protocol import ArtifactStore
from onegin.artifacts.retry import RetryingArtifactStore
from onegin.errors import ConfigError
from onegin.outages import DEFAULT_OUTAGE_LIMIT

_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_FIELD = "artifacts_url"


def open_artifact_store(
    url: str,
    *,
    endpoint_url: str | None = None,
    region: str = "us-east-1",
    patience: float = DEFAULT_OUTAGE_LIMIT,
    multipart_threshold: int | None = None,
) -> ArtifactStore:
    """The store for ``url``, wrapped in ``RetryingArtifactStore``.

    ``file:///abs/path`` and ``file://rel/path`` give a local folder;
    ``s3://bucket/optional/prefix`` an S3/MinIO bucket (``endpoint_url`` for
    MinIO; the bucket is created on first write; every key gets the prefix).
    Nothing is contacted here: call ``ping()`` for readiness. A transient failure is
    retried for up to ``patience`` seconds (the ``outage_limit`` setting).
    """
    if isinstance(patience, bool) or not isinstance(patience, int | float) or patience < 0:
        raise ConfigError("outage_limit", f"must be a number of seconds >= 0, got {patience!r}")
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        raise ConfigError(_FIELD, "must not have a query string or fragment")
    if parts.scheme == "file":
        folder = unquote(parts.netloc + parts.path)
        if not folder:
            raise ConfigError(_FIELD, "file:// needs a folder: file:///abs/path or file://rel")
        inner: ArtifactStore = LocalArtifactStore(folder)
    elif parts.scheme == "s3":
        from onegin.artifacts.s3 import MIB, S3ArtifactStore

        bucket, prefix = _parse_s3(parts.netloc, unquote(parts.path))
        inner = S3ArtifactStore(
            bucket, prefix, endpoint_url=endpoint_url, region=region,
            multipart_threshold=multipart_threshold or 64 * MIB,
        )
    else:
        raise ConfigError(
            _FIELD,
            f"unsupported scheme {parts.scheme!r}; use file:///abs/path, file://rel/path "
            "or s3://bucket/prefix",
        )
    return RetryingArtifactStore(inner, patience=patience)


def _parse_s3(netloc: str, path: str) -> tuple[str, str]:
    if "@" in netloc:  # say so without echoing what may be a secret
        raise ConfigError(_FIELD, "credentials do not belong in the URL; use AWS_* variables")
    if not _BUCKET.fullmatch(netloc) or ".." in netloc:
        raise ConfigError(_FIELD, f"{netloc!r} is not a valid S3 bucket name")
    prefix = path.removeprefix("/")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    try:
        validate_prefix(prefix)
    except InvalidArtifactKey as exc:
        raise ConfigError(_FIELD, f"bad key prefix: {exc.reason}") from exc
    return netloc, prefix
