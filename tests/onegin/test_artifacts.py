"""Contract tests for the artifact store: one parametrised fixture runs the same
tests against the local folder and S3 (moto's real HTTP server), both built by
``open_artifact_store``; backend-specific checks follow the contract."""

from __future__ import annotations

import errno
import hashlib
import pickle
import random
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import pytest

from onegin.artifacts import (
    ArtifactAccessDenied,
    ArtifactCorrupted,
    ArtifactInfo,
    ArtifactNotFound,
    ArtifactStore,
    ArtifactStoreUnavailable,
    InvalidArtifactKey,
    LocalArtifactStore,
    RetryingArtifactStore,
    S3ArtifactStore,
    best_prefix,
    is_transient,
    job_prefix,
    open_artifact_store,
    put_tree,
    trial_prefix,
    validate_key,
)
from onegin.errors import ConfigError
from tests.fixtures.services import free_port
from tests.fixtures.timeline import Timeline

MIB = 1 << 20
JOB = "abc"
S3_PREFIX = "deploy/onegin/"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Backend:
    """A store under test plus what a test needs to reach behind its back."""

    name: str
    store: ArtifactStore
    tamper: Callable[[str, bytes], None]  # overwrite stored bytes, keep recorded metadata
    parts: Callable[[str], int]  # multipart part count (1 for single-part or local)
    raw_keys: Callable[[], list[str]] = field(default=lambda: [])


def _local_backend(tmp_path: Path) -> Backend:
    root = tmp_path / "store"
    store = open_artifact_store(root.as_uri(), multipart_threshold=5 * MIB)

    def tamper(key: str, data: bytes) -> None:
        (root / key).write_bytes(data)

    return Backend("local", store, tamper, lambda key: 1)


def _s3_backend(request: pytest.FixtureRequest) -> Backend:
    import boto3

    request.getfixturevalue("s3_credentials")
    endpoint = request.getfixturevalue("s3_endpoint")
    bucket = f"onegin-test-{uuid.uuid4().hex[:12]}"
    store = open_artifact_store(
        f"s3://{bucket}/{S3_PREFIX}", endpoint_url=endpoint, multipart_threshold=5 * MIB
    )
    raw = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")

    def tamper(key: str, data: bytes) -> None:
        head = raw.head_object(Bucket=bucket, Key=S3_PREFIX + key)
        raw.put_object(Bucket=bucket, Key=S3_PREFIX + key, Body=data, Metadata=head["Metadata"])

    def parts(key: str) -> int:
        etag = raw.head_object(Bucket=bucket, Key=S3_PREFIX + key)["ETag"].strip('"')
        return int(etag.split("-")[1]) if "-" in etag else 1

    def raw_keys() -> list[str]:
        listing = raw.list_objects_v2(Bucket=bucket)
        return sorted(item["Key"] for item in listing.get("Contents", []))

    return Backend("s3", store, tamper, parts, raw_keys)


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "local":
        return _local_backend(tmp_path)
    return _s3_backend(request)


def put_trial(store: ArtifactStore, job: str, number: int) -> dict[str, bytes]:
    """A trial's typical outputs, nested like TensorBoard's; returns key -> bytes."""
    base = trial_prefix(job, number)
    files = {
        f"{base}model.keras": f"model {job} {number}".encode() * 50,
        f"{base}history.json": b'{"loss": [0.5, 0.25]}',
        f"{base}plots/accuracy.png": b"\x89PNG fake " + bytes([number]),
        f"{base}logs/train/events.out.tfevents.1": b"\x00\x01tb" * 10,
    }
    for key, data in files.items():
        store.put_bytes(key, data)
    return files


# -- the contract ---------------------------------------------------------------


def test_put_and_get_bytes_round_trip(backend: Backend) -> None:
    data = bytes(range(256)) * 10
    key = f"{trial_prefix(JOB, 0)}metrics.json"
    info = backend.store.put_bytes(key, data, content_type="application/json")
    assert (info.key, info.size, info.sha256) == (key, len(data), sha(data))
    assert backend.store.get_bytes(key) == data
    assert backend.store.exists(key)
    assert backend.store.put_bytes(key, b"new").size == 3  # overwrite
    assert backend.store.get_bytes(key) == b"new"


def test_put_file_and_get_file_round_trip(backend: Backend, tmp_path: Path) -> None:
    source = tmp_path / "model.keras"
    source.write_bytes(b"weights" * 1000)
    key = f"{trial_prefix(JOB, 1)}model.keras"
    info = backend.store.put_file(key, source)
    assert (info.size, info.sha256) == (7000, sha(source.read_bytes()))
    target = tmp_path / "download" / "nested" / "model.keras"
    backend.store.get_file(key, target)
    assert target.read_bytes() == source.read_bytes()
    assert sorted(p.name for p in target.parent.iterdir()) == ["model.keras"]  # no temp left


def test_open_streams_the_object(backend: Backend) -> None:
    key = f"{trial_prefix(JOB, 2)}plots/loss.png"
    backend.store.put_bytes(key, b"png" * 100)
    with backend.store.open(key) as stream:
        assert stream.read(3) == b"png"
        assert stream.read() == b"png" * 99


def test_list_is_recursive_sorted_and_sized(backend: Backend) -> None:
    files = put_trial(backend.store, JOB, 3)
    put_trial(backend.store, "abcd", 3)  # a job whose id extends ours must not leak in
    backend.store.put_bytes("jobs/ab", b"x")
    listed = backend.store.list(job_prefix(JOB))
    assert [info.key for info in listed] == sorted(files)
    assert [info.size for info in listed] == [len(files[key]) for key in sorted(files)]
    assert all(info.sha256 in (None, sha(files[info.key])) for info in listed)
    assert all(info.modified is not None for info in listed)
    assert backend.store.list("jobs/abc") == listed  # a trailing "/" is implied
    assert backend.store.list("jobs/nothing/") == []
    assert len(backend.store.list("")) == 2 * len(files) + 1


def test_copy_a_key(backend: Backend) -> None:
    backend.store.put_bytes("jobs/abc/a.json", b"{}")
    backend.store.copy("jobs/abc/a.json", "jobs/abc/b/c.json")
    assert backend.store.get_bytes("jobs/abc/b/c.json") == b"{}"
    assert backend.store.get_bytes("jobs/abc/a.json") == b"{}"


def test_copy_best_trial_prefix(backend: Backend) -> None:
    files = put_trial(backend.store, JOB, 3)
    other = put_trial(backend.store, JOB, 4)
    backend.store.copy(trial_prefix(JOB, 3), best_prefix(JOB))
    expected = {
        key.replace(trial_prefix(JOB, 3), best_prefix(JOB)): data for key, data in files.items()
    }
    listed = backend.store.list(best_prefix(JOB))
    assert [info.key for info in listed] == sorted(expected)
    for key, data in expected.items():
        assert backend.store.get_bytes(key) == data  # sha256 travelled with the copy
    assert [i.key for i in backend.store.list(trial_prefix(JOB, 3))] == sorted(files)
    assert [i.key for i in backend.store.list(trial_prefix(JOB, 4))] == sorted(other)


def test_copy_refuses_mismatched_overlapping_or_missing_sources(backend: Backend) -> None:
    backend.store.put_bytes("jobs/abc/x", b"x")
    with pytest.raises(ArtifactNotFound):
        backend.store.copy("jobs/abc/missing", "jobs/abc/y")
    with pytest.raises(ArtifactNotFound):
        backend.store.copy(trial_prefix(JOB, 9), best_prefix(JOB))
    with pytest.raises(InvalidArtifactKey):
        backend.store.copy("jobs/abc/x", "jobs/abc/best/")
    with pytest.raises(InvalidArtifactKey):
        backend.store.copy("jobs/abc/", "jobs/abc/best/")
    with pytest.raises(InvalidArtifactKey):
        backend.store.copy("jobs/abc/", "jobs/abd")


def test_delete_key_and_prefix_counts(backend: Backend) -> None:
    files = put_trial(backend.store, JOB, 5)
    kept = put_trial(backend.store, JOB, 6)
    first = sorted(files)[0]
    assert backend.store.delete(first) == 1
    assert backend.store.delete(first) == 0
    assert not backend.store.exists(first)
    assert backend.store.delete(trial_prefix(JOB, 5)) == len(files) - 1
    assert backend.store.list(trial_prefix(JOB, 5)) == []
    assert backend.store.delete(trial_prefix(JOB, 5)) == 0
    assert [i.key for i in backend.store.list(job_prefix(JOB))] == sorted(kept)


def test_exists_is_exact(backend: Backend) -> None:
    backend.store.put_bytes("jobs/abc/trials/1/model.keras", b"m")
    assert backend.store.exists("jobs/abc/trials/1/model.keras")
    assert not backend.store.exists("jobs/abc/trials/1")
    assert not backend.store.exists("jobs/abc/trials/1/model")


def test_presigned_url_downloads_the_object(backend: Backend) -> None:
    key = f"{best_prefix(JOB)}model.keras"
    backend.store.put_bytes(key, b"the best model")
    url = backend.store.presigned_url(key, expires=60)
    assert url.startswith("file://" if backend.name == "local" else "http://127.0.0.1:")
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == b"the best model"


def test_multipart_upload_round_trips(backend: Backend, tmp_path: Path) -> None:
    big = tmp_path / "big.keras"
    data = random.Random(7).randbytes(12 * MIB + 123)
    big.write_bytes(data)
    key = f"{trial_prefix(JOB, 7)}model.keras"
    info = backend.store.put_file(key, big)
    assert (info.size, info.sha256) == (len(data), sha(data))
    if backend.name == "s3":
        assert backend.parts(key) >= 2  # the forced 5 MiB threshold really went multipart
    back = tmp_path / "back.keras"
    backend.store.get_file(key, back)
    assert sha(back.read_bytes()) == sha(data)
    backend.store.copy(key, f"{best_prefix(JOB)}model.keras")  # large copy keeps the sha256
    assert sha(backend.store.get_bytes(f"{best_prefix(JOB)}model.keras")) == sha(data)


def test_corruption_is_detected(backend: Backend, tmp_path: Path) -> None:
    key = f"{trial_prefix(JOB, 8)}model.keras"
    backend.store.put_bytes(key, b"good weights")
    backend.tamper(key, b"evil weights")
    with pytest.raises(ArtifactCorrupted) as caught:
        backend.store.get_bytes(key)
    assert caught.value.key == key
    assert caught.value.expected == sha(b"good weights")
    target = tmp_path / "download" / "model.keras"
    with pytest.raises(ArtifactCorrupted):
        backend.store.get_file(key, target)
    assert list(target.parent.iterdir()) == []  # neither the file nor its temp file


def test_missing_key_is_not_found(backend: Backend, tmp_path: Path) -> None:
    key = "jobs/abc/trials/0/nothing.json"
    for operation in (
        lambda: backend.store.get_bytes(key),
        lambda: backend.store.get_file(key, tmp_path / "out"),
        lambda: backend.store.open(key),
    ):
        with pytest.raises(ArtifactNotFound) as caught:
            operation()
        assert caught.value.key == key
    assert not backend.store.exists(key)
    assert backend.store.delete(key) == 0


BAD_KEYS = ["../x", "/abs", "a//b", "a/./b", "a\\b", "", "a\x00b", "a/..", "a/", "a\nb",
            "x" * 1025]


@pytest.mark.parametrize("bad", BAD_KEYS, ids=repr)
def test_bad_keys_are_refused_by_every_operation(backend: Backend, bad: str) -> None:
    store = backend.store
    operations: list[Callable[[], object]] = [
        lambda: store.put_bytes(bad, b"x"),
        lambda: store.get_bytes(bad),
        lambda: store.open(bad),
        lambda: store.exists(bad),
        lambda: store.presigned_url(bad),
        lambda: store.copy("jobs/abc/x", bad),
    ]
    if not bad.endswith("/"):  # "a/" is a fine prefix to copy or delete, just not a key
        operations += [lambda: store.copy(bad, "jobs/abc/x"), lambda: store.delete(bad)]
    for operation in operations:
        with pytest.raises(InvalidArtifactKey) as caught:
            operation()
        assert caught.value.key == bad
        assert repr(bad) in str(caught.value)
        assert isinstance(caught.value, ConfigError)


def test_put_tree_uploads_a_trial_folder(backend: Backend, tmp_path: Path) -> None:
    out = tmp_path / "trial-out"
    (out / "plots").mkdir(parents=True)
    (out / "logs" / "train").mkdir(parents=True)
    (out / "model.keras").write_bytes(b"model")
    (out / "plots" / "acc.png").write_bytes(b"png")
    (out / "logs" / "train" / "events.1").write_bytes(b"tb")
    secret = tmp_path / "secret.txt"
    secret.write_text("do not upload")
    (out / "link.txt").symlink_to(secret)
    infos = put_tree(backend.store, out, trial_prefix(JOB, 2))
    base = trial_prefix(JOB, 2)
    expected = [f"{base}logs/train/events.1", f"{base}model.keras", f"{base}plots/acc.png"]
    assert [info.key for info in infos] == expected
    assert [info.key for info in backend.store.list(base)] == expected
    assert backend.store.get_bytes(f"{base}plots/acc.png") == b"png"


def test_ping_succeeds_on_a_live_store(backend: Backend) -> None:
    backend.store.ping()


# -- keys -------------------------------------------------------------------------


def test_layout_prefixes() -> None:
    assert job_prefix("abc") == "jobs/abc/"
    assert trial_prefix("abc", 3) == "jobs/abc/trials/3/"
    assert best_prefix("abc") == "jobs/abc/best/"


@pytest.mark.parametrize("job_id", ["", ".", "..", "a/b", "a\x00", "a\\b"], ids=repr)
def test_layout_refuses_bad_job_ids(job_id: str) -> None:
    with pytest.raises(InvalidArtifactKey):
        job_prefix(job_id)


@pytest.mark.parametrize("number", [-1, True, 1.5])
def test_layout_refuses_bad_trial_numbers(number: Any) -> None:
    with pytest.raises(InvalidArtifactKey):
        trial_prefix("abc", number)


def test_within_keeps_keys_inside_their_job() -> None:
    own = "jobs/abc/trials/1/model.keras"
    assert validate_key(own, within=job_prefix("abc")) == own
    assert validate_key(own, within="jobs/abc") == own  # trailing "/" implied
    refused = [
        ("jobs/abc/trials/1/model.keras", "jobs/abd/"),  # a sibling job
        ("jobs/ab", "jobs/abc/"),  # a prefix of the job's folder
        ("jobs/abcd/x", "jobs/abc"),  # a job id that extends ours
        ("jobs/abc", "jobs/abc/"),  # the folder itself is not an artifact
        ("jobs/abc/../abd/x", "jobs/abc/"),  # climbing out
    ]
    for key, within in refused:
        with pytest.raises(InvalidArtifactKey) as caught:
            validate_key(key, within=within)
        assert caught.value.key == key


def test_errors_survive_pickling() -> None:
    """Celery ships exceptions between processes."""
    for error in (
        InvalidArtifactKey("../x", "has a '..' path segment"),
        ArtifactNotFound("jobs/a/x"),
        ArtifactCorrupted("jobs/a/x", "aa", "bb"),
    ):
        clone = pickle.loads(pickle.dumps(error))
        assert (type(clone), str(clone)) == (type(error), str(error))


# -- local backend ---------------------------------------------------------------


def test_local_symlinks_cannot_escape_the_root(tmp_path: Path) -> None:
    root = tmp_path / "store"
    store = LocalArtifactStore(root)
    store.put_bytes("jobs/x/ok", b"ok")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "passwd").write_text("root:x:0:0")
    (root / "jobs" / "x" / "evil").symlink_to(outside / "passwd")
    (root / "jobs" / "y").symlink_to(outside, target_is_directory=True)
    for operation in (
        lambda: store.get_bytes("jobs/x/evil"),
        lambda: store.open("jobs/x/evil"),
        lambda: store.exists("jobs/x/evil"),
        lambda: store.presigned_url("jobs/x/evil"),
        lambda: store.delete("jobs/x/evil"),
        lambda: store.put_bytes("jobs/y/new", b"planted"),
        lambda: store.list("jobs/y/"),
    ):
        with pytest.raises(InvalidArtifactKey, match="outside"):
            operation()
    assert not (outside / "new").exists()
    assert (outside / "passwd").read_text() == "root:x:0:0"
    assert [info.key for info in store.list("")] == ["jobs/x/ok"]  # links are not listed


def test_local_metadata_and_temp_names_are_reserved(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    for key in (".onegin-meta/jobs/x.json", "jobs/.onegin-tmp-123"):
        with pytest.raises(InvalidArtifactKey, match="reserved"):
            store.put_bytes(key, b"x")
    store.put_bytes("jobs/x", b"1")
    store.put_bytes("jobs/x", b"2")
    assert [info.key for info in store.list("")] == ["jobs/x"]
    leftovers = [p for p in tmp_path.rglob("*") if p.name.startswith(".onegin-tmp-")]
    assert leftovers == []


def test_local_copy_refuses_to_spread_corrupted_bytes(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    store.put_bytes("jobs/a/trials/1/model.keras", b"good")
    (tmp_path / "jobs/a/trials/1/model.keras").write_bytes(b"evil")
    with pytest.raises(ArtifactCorrupted):
        store.copy(trial_prefix("a", 1), best_prefix("a"))
    assert store.list(best_prefix("a")) == []


def test_local_ping_reports_an_unusable_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ArtifactStoreUnavailable):
        LocalArtifactStore(blocker / "store").ping()


# -- S3 backend ------------------------------------------------------------------


@pytest.mark.usefixtures("s3_credentials")
def test_s3_url_prefix_is_prepended_to_every_key(s3_endpoint: str) -> None:
    import boto3

    bucket = f"onegin-test-{uuid.uuid4().hex[:12]}"
    store = open_artifact_store(f"s3://{bucket}/team/runs", endpoint_url=s3_endpoint)
    store.put_bytes("jobs/a/x.json", b"{}")
    raw = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    keys = [item["Key"] for item in raw.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["team/runs/jobs/a/x.json"]
    assert [info.key for info in store.list("")] == ["jobs/a/x.json"]


@pytest.mark.usefixtures("s3_credentials")
def test_s3_unreachable_endpoint_fails_ping_fast_and_retries_data() -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    store = open_artifact_store("s3://onegin-unreachable", endpoint_url=endpoint)
    started = time.monotonic()
    with pytest.raises(ArtifactStoreUnavailable):
        store.ping()
    assert time.monotonic() - started < 5
    time_line = Timeline()
    retrying = RetryingArtifactStore(
        S3ArtifactStore("onegin-unreachable", endpoint_url=endpoint, connect_timeout=1),
        patience=0.5, base_delay=0.2, jitter=lambda: 1.0, sleep=time_line.sleep,
        clock=time_line.clock,
    )
    with pytest.raises(ArtifactStoreUnavailable):
        retrying.put_bytes("jobs/a/x", b"x")
    assert time_line.delays == [0.2, pytest.approx(0.3)]  # the last wait ends at the limit


def _client_error(code: str, status: int) -> Exception:
    from botocore.exceptions import ClientError

    response: Any = {"Error": {"Code": code, "Message": "m"},
                     "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, "GetObject")


@pytest.mark.parametrize(("code", "status", "kind", "retryable"), [
    ("SlowDown", 503, ArtifactStoreUnavailable, True),
    ("InternalError", 500, ArtifactStoreUnavailable, True),
    ("ThrottlingException", 400, ArtifactStoreUnavailable, True),
    ("NoSuchKey", 404, ArtifactNotFound, False),
    ("404", 404, ArtifactNotFound, False),
    ("AccessDenied", 403, ArtifactAccessDenied, False),
    ("InvalidArgument", 400, None, False),
])
def test_s3_errors_say_whether_to_retry(
    code: str, status: int, kind: type[Exception] | None, retryable: bool
) -> None:
    from onegin.artifacts.s3_errors import translate_error

    translated = translate_error(_client_error(code, status), "jobs/a/x")
    if kind is not None:
        assert type(translated) is kind
    assert is_transient(translated) is retryable


def test_s3_wrapped_upload_errors_are_classified_by_their_cause() -> None:
    from boto3.exceptions import S3UploadFailedError
    from botocore.exceptions import EndpointConnectionError

    from onegin.artifacts.s3_errors import translate_error

    try:
        try:
            raise _client_error("SlowDown", 503)
        except Exception:
            raise S3UploadFailedError("Failed to upload") from None  # cause hidden, context kept
    except S3UploadFailedError as wrapped:
        wrapped.__suppress_context__ = False
        assert isinstance(translate_error(wrapped, "k"), ArtifactStoreUnavailable)
    refused = EndpointConnectionError(endpoint_url="http://127.0.0.1:1")
    assert isinstance(translate_error(refused, "k"), ArtifactStoreUnavailable)


# -- resolver --------------------------------------------------------------------


@pytest.mark.usefixtures("s3_credentials")
def test_open_artifact_store_picks_the_backend(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_artifact_store(f"file://{tmp_path}/abs")
    assert isinstance(store, RetryingArtifactStore) and store.patience == 120
    assert isinstance(store.inner, LocalArtifactStore) and store.inner.root == tmp_path / "abs"
    monkeypatch.chdir(tmp_path)
    relative = open_artifact_store("file://rel/artifacts", patience=1.5)
    assert isinstance(relative, RetryingArtifactStore) and relative.patience == 1.5
    assert isinstance(relative.inner, LocalArtifactStore)
    assert relative.inner.root == tmp_path / "rel" / "artifacts"
    s3 = open_artifact_store("s3://my-bucket/team/onegin", endpoint_url="http://127.0.0.1:1")
    assert isinstance(s3, RetryingArtifactStore) and isinstance(s3.inner, S3ArtifactStore)
    assert (s3.inner.bucket, s3.inner.prefix) == ("my-bucket", "team/onegin/")
    bare = open_artifact_store("s3://my-bucket")
    assert isinstance(bare, RetryingArtifactStore) and isinstance(bare.inner, S3ArtifactStore)
    assert bare.inner.prefix == ""


@pytest.mark.parametrize("url", [
    "", "ftp://host/x", "file://", "s3://", "s3://Bad_Bucket", "s3://ab",
    "s3://bucket/a/../b", "s3://bucket/a//b", "s3://bucket/x?versionId=1",
    "https://s3.amazonaws.com/bucket",
])
def test_open_artifact_store_refuses_bad_urls(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        open_artifact_store(url)
    assert caught.value.field == "artifacts_url"


def test_open_artifact_store_does_not_echo_credentials() -> None:
    with pytest.raises(ConfigError) as caught:
        open_artifact_store("s3://AKIDEXAMPLE:hunter2@bucket/x")
    assert "hunter2" not in str(caught.value)


def test_importing_the_package_does_not_import_boto3(tmp_path: Path) -> None:
    code = (
        "import sys; from onegin.artifacts import open_artifact_store;"
        f"s = open_artifact_store({tmp_path.as_uri()!r}); s.put_bytes('a/b', b'x');"
        "assert s.get_bytes('a/b') == b'x';"
        "bad = [m for m in ('boto3', 'botocore') if m in sys.modules];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[2])


# -- retry wrapper ---------------------------------------------------------------




class FlakyStore:
    """A working local store that raises ``error`` on its first ``failures`` calls."""

    def __init__(self, root: Path, failures: int, error: BaseException) -> None:
        self.inner = LocalArtifactStore(root)
        self.failures = failures
        self.error = error
        self.calls = 0

    def _step(self) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error

    def put_bytes(self, key: str, data: bytes, *, content_type: str | None = None) -> ArtifactInfo:
        self._step()
        return self.inner.put_bytes(key, data, content_type=content_type)

    def put_file(
        self, key: str, path: str | Path, *, content_type: str | None = None
    ) -> ArtifactInfo:
        self._step()
        return self.inner.put_file(key, path, content_type=content_type)

    def get_bytes(self, key: str) -> bytes:
        self._step()
        return self.inner.get_bytes(key)

    def get_file(self, key: str, path: str | Path) -> None:
        self._step()
        self.inner.get_file(key, path)

    def open(self, key: str) -> BinaryIO:
        self._step()
        return self.inner.open(key)

    def exists(self, key: str) -> bool:
        self._step()
        return self.inner.exists(key)

    def list(self, prefix: str) -> list[ArtifactInfo]:
        self._step()
        return self.inner.list(prefix)

    def copy(self, src: str, dst: str) -> None:
        self._step()
        self.inner.copy(src, dst)

    def delete(self, key_or_prefix: str) -> int:
        self._step()
        return self.inner.delete(key_or_prefix)

    def presigned_url(self, key: str, expires: int = 3600) -> str:
        self._step()
        return self.inner.presigned_url(key, expires)

    def ping(self) -> None:
        self._step()
        self.inner.ping()


TRANSIENT = [
    ArtifactStoreUnavailable("store is down"),
    ConnectionResetError("reset by peer"),
    TimeoutError("timed out"),
    OSError(errno.EAGAIN, "try again"),
]
PERMANENT = [
    ArtifactNotFound("jobs/a/x"),
    ArtifactCorrupted("jobs/a/x", "aa", "bb"),
    InvalidArtifactKey("../x", "has a '..' path segment"),
    ArtifactAccessDenied("denied"),
    OSError(errno.ENOSPC, "no space left"),
    ValueError("a bug"),
]


@pytest.mark.parametrize("error", TRANSIENT, ids=repr)
def test_retry_recovers_from_transient_errors_with_growing_delays(
    tmp_path: Path, error: BaseException
) -> None:
    time_line = Timeline()
    flaky = FlakyStore(tmp_path, failures=3, error=error)
    store = RetryingArtifactStore(flaky, patience=10, base_delay=0.1, max_delay=10,
                                  sleep=time_line.sleep, clock=time_line.clock)
    assert store.put_bytes("jobs/a/x", b"x").size == 1
    assert flaky.calls == 4
    delays = time_line.delays
    assert len(delays) == 3
    assert delays[0] < delays[1] < delays[2]
    assert 0.05 <= delays[0] <= 0.1 and 0.2 <= delays[2] <= 0.4


def test_retry_gives_up_once_the_outage_lasted_its_patience(tmp_path: Path) -> None:
    time_line = Timeline()
    flaky = FlakyStore(tmp_path, failures=100, error=ArtifactStoreUnavailable("down"))
    store = RetryingArtifactStore(flaky, patience=1.0, base_delay=0.2, max_delay=2,
                                  jitter=lambda: 1.0, sleep=time_line.sleep,
                                  clock=time_line.clock)
    with pytest.raises(ArtifactStoreUnavailable):
        store.get_bytes("jobs/a/x")
    assert time_line.delays == [0.2, 0.4, pytest.approx(0.4)]  # 1 s in all, then no more
    assert flaky.calls == 4


@pytest.mark.parametrize("error", PERMANENT, ids=repr)
def test_retry_never_repeats_permanent_errors(
    tmp_path: Path, error: BaseException
) -> None:
    time_line = Timeline()
    flaky = FlakyStore(tmp_path, failures=1, error=error)
    store = RetryingArtifactStore(flaky, sleep=time_line.sleep, clock=time_line.clock)
    with pytest.raises(type(error)):
        store.list("jobs/")
    assert (flaky.calls, time_line.delays) == (1, [])


def test_retry_delays_double_and_cap() -> None:
    inner = LocalArtifactStore("/nonexistent-never-used")
    top = RetryingArtifactStore(inner, base_delay=0.5, max_delay=3, jitter=lambda: 1.0)
    assert [top.delay(n) for n in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    bottom = RetryingArtifactStore(inner, base_delay=0.5, max_delay=3, jitter=lambda: 0.0)
    assert [bottom.delay(n) for n in range(3)] == [0.25, 0.5, 1.0]


def test_ping_is_not_retried(tmp_path: Path) -> None:
    delays: list[float] = []
    flaky = FlakyStore(tmp_path, failures=1, error=ArtifactStoreUnavailable("down"))
    store = RetryingArtifactStore(flaky, sleep=delays.append)
    with pytest.raises(ArtifactStoreUnavailable):
        store.ping()
    assert delays == []
    store.ping()


def test_retry_wrapper_covers_every_operation(tmp_path: Path) -> None:
    time_line = Timeline()
    delays = time_line.delays
    flaky = FlakyStore(tmp_path / "store", failures=0, error=TimeoutError())
    store = RetryingArtifactStore(flaky, patience=5, sleep=time_line.sleep,
                                  clock=time_line.clock)
    source = tmp_path / "f"
    source.write_bytes(b"f")
    calls: list[Callable[[], object]] = [
        lambda: store.put_bytes("jobs/a/x", b"x"),
        lambda: store.put_file("jobs/a/f", source),
        lambda: store.get_bytes("jobs/a/x"),
        lambda: store.get_file("jobs/a/x", tmp_path / "out"),
        lambda: store.open("jobs/a/x").close(),
        lambda: store.exists("jobs/a/x"),
        lambda: store.list("jobs/"),
        lambda: store.copy("jobs/a/x", "jobs/a/y"),
        lambda: store.presigned_url("jobs/a/x"),
        lambda: store.delete("jobs/a/"),
    ]
    for call in calls:
        flaky.failures = flaky.calls + 1  # the next call fails once
        call()
    assert len(delays) == len(calls)
    assert store.list("") == []
