"""S3 failures as artifact error kinds: missing, denied, transient (retry) or other.

botocore is imported inside the functions, so importing this module is free.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, cast

from onegin.artifacts.errors import (
    ArtifactAccessDenied,
    ArtifactError,
    ArtifactNotFound,
    ArtifactStoreUnavailable,
)

_NOT_FOUND = {"NoSuchKey", "NotFound", "NoSuchBucket", "404"}
_DENIED = {
    "AccessDenied", "Forbidden", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch",
    "AllAccessDisabled", "AccountProblem", "InvalidToken", "ExpiredToken",
}
_TRANSIENT = {
    "SlowDown", "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottled",
    "RequestLimitExceeded", "TooManyRequests", "TooManyRequestsException", "RequestTimeout",
    "RequestTimeoutException", "InternalError", "ServiceUnavailable", "503", "500",
}


def error_code(exc: Any) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def from_code(key: str, code: str, message: str, status: int) -> ArtifactError:
    """The artifact error for an S3 error code / HTTP status."""
    if code in _NOT_FOUND or status == 404:
        return ArtifactNotFound(key)
    if code in _DENIED or status == 403:
        return ArtifactAccessDenied(f"{key!r}: S3 {code or status} {message}".rstrip())
    if code in _TRANSIENT or status >= 500 or status == 429:
        return ArtifactStoreUnavailable(f"{key!r}: S3 {code or status} {message}".rstrip())
    return ArtifactError(f"{key!r}: S3 {code or status} {message}".rstrip())


def translate_error(exc: BaseException, key: str) -> BaseException:
    """Map a boto3/botocore failure (or one it caused) to an artifact error kind;
    anything else is returned as it is."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        HTTPClientError,
        NoCredentialsError,
        PartialCredentialsError,
    )
    from botocore.exceptions import ConnectionError as BotoConnectionError

    seen: BaseException | None = exc
    visited: set[int] = set()
    while seen is not None and id(seen) not in visited:  # boto3 wraps some ClientErrors
        visited.add(id(seen))
        if isinstance(seen, ClientError):
            response: dict[str, Any] = cast(dict[str, Any], seen.response)
            error = response.get("Error", {})
            status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
            code, message = str(error.get("Code", "")), str(error.get("Message", ""))
            return from_code(key, code, message, status)
        if isinstance(seen, BotoConnectionError | HTTPClientError):
            return ArtifactStoreUnavailable(f"{key!r}: {seen}")
        if isinstance(seen, NoCredentialsError | PartialCredentialsError):
            return ArtifactAccessDenied(f"{key!r}: {seen}")
        if isinstance(seen, BotoCoreError):
            return ArtifactError(f"{key!r}: {seen}")
        seen = seen.__cause__ or seen.__context__
    return exc


@contextlib.contextmanager
def translate(key: str) -> Iterator[None]:
    """Re-raise boto failures inside the block as artifact errors (cause kept)."""
    try:
        yield
    except ArtifactError:
        raise
    except Exception as exc:
        translated = translate_error(exc, key)
        if translated is exc:
            raise
        raise translated from exc
