"""Artifacts in an S3-protocol bucket (AWS S3, MinIO, Ceph): the distributed backend.

boto3 is imported when a store is built, never at module import, so the web
app can run on the local backend without it. The sha256 of each object is
kept in its user metadata (``x-amz-meta-sha256``) and checked on every full
read; copies are server-side and keep it. botocore's own retries are off: the
``RetryingArtifactStore`` wrapper owns the retry policy, so attempts and
delays are predictable. The bucket is created on first write, so building a
store never needs the endpoint to be up (``ping`` says whether it is).
"""

from __future__ import annotations

import builtins
import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, cast

from onegin.artifacts.errors import (
    ArtifactAccessDenied,
    ArtifactCorrupted,
    ArtifactError,
    ArtifactNotFound,
    ArtifactStoreUnavailable,
)
from onegin.artifacts.files import (
    CHUNK,
    atomic_replace,
    hash_file,
    sha256_hex,
    write_chunks,
)
from onegin.artifacts.keys import (
    as_prefix,
    content_type_of,
    plan_copy,
    validate_key,
    validate_prefix,
)
from onegin.artifacts.protocol import ArtifactInfo, ArtifactStore
from onegin.artifacts.s3_errors import error_code, from_code, translate
from onegin.errors import ConfigError

MIB = 1 << 20
SHA256_META = "sha256"
MAX_PRESIGN_SECONDS = 7 * 24 * 3600  # SigV4's limit


class S3ArtifactStore:
    """An ``ArtifactStore`` in ``bucket``, every key under ``prefix`` (``""`` or ``a/b/``).

    Files of ``multipart_threshold`` bytes or more upload in parallel parts of
    ``multipart_chunksize`` (S3's minimum part is 5 MiB).
    """

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        multipart_threshold: int = 64 * MIB,
        multipart_chunksize: int = 8 * MIB,
        connect_timeout: float = 5.0,
        read_timeout: float = 60.0,
    ) -> None:
        import boto3.session
        from boto3.s3.transfer import TransferConfig

        if multipart_chunksize < 5 * MIB or multipart_threshold < 5 * MIB:
            raise ConfigError("multipart", "threshold and chunk size must be at least 5 MiB")
        self.bucket = bucket
        self.prefix = validate_prefix(prefix)
        self.endpoint_url = endpoint_url
        self.region = region
        session = boto3.session.Session()
        self._client = session.client(
            "s3", endpoint_url=endpoint_url,
            config=self._config(connect_timeout, read_timeout),
        )
        # Readiness must answer in about a second, whatever the data path tolerates.
        self._ping_client = session.client(
            "s3", endpoint_url=endpoint_url, config=self._config(1.0, 2.0)
        )
        self._transfer = TransferConfig(
            multipart_threshold=multipart_threshold, multipart_chunksize=multipart_chunksize
        )
        self._bucket_ready = False
        self._bucket_lock = threading.Lock()

    def _config(self, connect_timeout: float, read_timeout: float) -> Any:
        from botocore.config import Config

        return Config(
            region_name=self.region,
            signature_version="s3v4",
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries={"mode": "standard", "total_max_attempts": 1},
            # MinIO/Ceph need path-style addressing; a custom endpoint means one of them.
            s3={"addressing_style": "path"} if self.endpoint_url else None,
            # We verify our own sha256; default CRC headers break older S3 look-alikes.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )

    # -- writes ---------------------------------------------------------------

    def put_bytes(
        self, key: str, data: bytes, *, content_type: str | None = None
    ) -> ArtifactInfo:
        full = self._full(key)
        digest = sha256_hex(data)
        self._ensure_bucket()
        with translate(key):
            self._client.put_object(
                Bucket=self.bucket, Key=full, Body=data,
                ContentType=content_type or content_type_of(key),
                Metadata={SHA256_META: digest},
            )
        return ArtifactInfo(key=key, size=len(data), sha256=digest, modified=None)

    def put_file(
        self, key: str, path: str | Path, *, content_type: str | None = None
    ) -> ArtifactInfo:
        full = self._full(key)
        size, digest = hash_file(Path(path))
        extra = {
            "ContentType": content_type or content_type_of(key),
            "Metadata": {SHA256_META: digest},
        }
        self._ensure_bucket()
        with translate(key), self._manager() as manager:
            manager.upload(str(path), self.bucket, full, extra_args=extra).result()
        return ArtifactInfo(key=key, size=size, sha256=digest, modified=None)

    def copy(self, src: str, dst: str) -> None:
        """Server-side: bytes never leave the store; the recorded sha256 goes along."""
        pairs = plan_copy(src, dst, lambda prefix: [info.key for info in self.list(prefix)])
        full_pairs = [(self._full(a), self._full(b)) for a, b in pairs]
        self._ensure_bucket()
        with translate(src), self._manager() as manager:
            futures = [
                manager.copy({"Bucket": self.bucket, "Key": a}, self.bucket, b)
                for a, b in full_pairs
            ]
            for future in futures:
                future.result()

    def delete(self, key_or_prefix: str) -> int:
        if not key_or_prefix.endswith("/"):
            full = self._full(key_or_prefix)
            if not self.exists(key_or_prefix):
                return 0
            with translate(key_or_prefix):
                self._client.delete_object(Bucket=self.bucket, Key=full)
            return 1
        keys = [self._full(info.key) for info in self.list(validate_prefix(key_or_prefix))]
        removed = 0
        for start in range(0, len(keys), 1000):  # DeleteObjects takes at most 1000
            batch = keys[start:start + 1000]
            with translate(key_or_prefix):
                response = self._client.delete_objects(
                    Bucket=self.bucket,
                    Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True},
                )
            errors = response.get("Errors", [])
            removed += len(batch) - len(errors)
            if errors:
                first = errors[0]
                raise from_code(
                    self._relative(first.get("Key", "")), first.get("Code", ""),
                    first.get("Message", ""), 0,
                )
        return removed

    # -- reads ----------------------------------------------------------------

    def get_bytes(self, key: str) -> bytes:
        with translate(key):
            response = self._client.get_object(Bucket=self.bucket, Key=self._full(key))
            with contextlib.closing(response["Body"]) as body:
                data: bytes = body.read()
        _verify(key, response, sha256_hex(data))
        return data

    def get_file(self, key: str, path: str | Path) -> None:
        with translate(key):
            response = self._client.get_object(Bucket=self.bucket, Key=self._full(key))
            with contextlib.closing(response["Body"]) as body, atomic_replace(Path(path)) as out:
                _, actual = write_chunks(body.iter_chunks(CHUNK), out)
                _verify(key, response, actual)

    def open(self, key: str) -> BinaryIO:
        with translate(key):
            response = self._client.get_object(Bucket=self.bucket, Key=self._full(key))
        return cast(BinaryIO, response["Body"])

    def exists(self, key: str) -> bool:
        try:
            with translate(key):
                self._client.head_object(Bucket=self.bucket, Key=self._full(key))
        except ArtifactNotFound:
            return False
        return True

    def list(self, prefix: str) -> builtins.list[ArtifactInfo]:
        prefix = as_prefix(prefix)
        paginator = self._client.get_paginator("list_objects_v2")
        infos: builtins.list[ArtifactInfo] = []
        try:
            with translate(prefix):
                for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
                    for item in page.get("Contents", []):
                        if item["Key"].endswith("/"):
                            continue  # a "folder" marker made by a console, not an object
                        infos.append(ArtifactInfo(
                            key=self._relative(item["Key"]), size=int(item["Size"]),
                            sha256=None, modified=item.get("LastModified"),
                        ))
        except ArtifactNotFound:
            return []  # no bucket yet: nothing has been written
        return sorted(infos, key=lambda info: info.key)

    def presigned_url(self, key: str, expires: int = 3600) -> str:
        if not 1 <= expires <= MAX_PRESIGN_SECONDS:
            raise ConfigError("expires", f"must be 1..{MAX_PRESIGN_SECONDS} seconds")
        with translate(key):
            url: str = self._client.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": self._full(key)},
                ExpiresIn=expires,
            )
        return url

    def ping(self) -> None:
        """HeadBucket with a 1 s connect timeout and no retries. A missing bucket is
        fine (the first write creates it); unreachable or refused is not."""
        where = f"s3://{self.bucket} at {self.endpoint_url or 'AWS'}"
        try:
            with translate(where):
                self._ping_client.head_bucket(Bucket=self.bucket)
        except ArtifactNotFound:
            return
        except ArtifactStoreUnavailable:
            raise
        except ArtifactError as exc:  # denied, bad credentials: not ready either
            raise ArtifactStoreUnavailable(str(exc)) from exc

    # -- internals ------------------------------------------------------------

    def _full(self, key: str) -> str:
        return self.prefix + validate_key(key)

    def _relative(self, full: str) -> str:
        return full[len(self.prefix):] if full.startswith(self.prefix) else full

    @contextlib.contextmanager
    def _manager(self) -> Iterator[Any]:
        """One transfer manager per call: parallel parts and copies on a private pool."""
        from boto3.s3.transfer import create_transfer_manager

        manager = create_transfer_manager(self._client, self._transfer)
        with manager:
            yield manager

    def _ensure_bucket(self) -> None:
        """Create the bucket on first write. A 403 on HeadBucket is taken as "exists":
        credentials scoped to a prefix often may write objects but not inspect buckets."""
        if self._bucket_ready:
            return
        with self._bucket_lock:
            if self._bucket_ready:
                return
            try:
                with translate(f"s3://{self.bucket}"):
                    self._client.head_bucket(Bucket=self.bucket)
            except ArtifactNotFound:
                self._create_bucket()
            except ArtifactAccessDenied:
                pass
            self._bucket_ready = True

    def _create_bucket(self) -> None:
        from botocore.exceptions import ClientError

        kwargs: dict[str, Any] = {"Bucket": self.bucket}
        if self.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        try:
            with translate(f"s3://{self.bucket}"):
                self._client.create_bucket(**kwargs)
        except ArtifactError as exc:
            cause = exc.__cause__
            code = error_code(cause) if isinstance(cause, ClientError) else ""
            if code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise


def _verify(key: str, response: dict[str, Any], actual: str) -> None:
    """Objects written without our metadata (by hand, by another tool) cannot be verified."""
    expected = response.get("Metadata", {}).get(SHA256_META)
    if expected is not None and expected != actual:
        raise ArtifactCorrupted(key, expected, actual)


_conforms: type[ArtifactStore] = S3ArtifactStore
