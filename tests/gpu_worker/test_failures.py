"""Whose fault a trial's error is (`gpu_worker.failures`, pure), and what the real
`run_trial` reports for each: its own failure as the result ``failed``, naming the cause;
an infrastructure error reported lost (an ``error`` event) and raised."""

from __future__ import annotations

import dataclasses
import errno
import time
from pathlib import Path
from typing import Any

import botocore.exceptions
import kombu.exceptions
import pytest
import redis
import tensorflow as tf
from PIL import UnidentifiedImageError

from gpu_worker.failures import MAX_MESSAGE, classify
from gpu_worker.trial_runner import run_trial
from onegin.artifacts import trial_prefix
from onegin.artifacts.errors import ArtifactStoreUnavailable
from onegin.errors import DatasetUnavailable, TrialFailed
from onegin.services import Services
from onegin.settings import load_settings
from onegin.trial_message import TrialResult, TrialSpec

SPEC: dict[str, Any] = {"dataset": "digits", "params": {"filters": 16}, "epochs": 1, "seed": 0,
                        "objective": "simple", "plot_mode": "none", "tensorboard": False}


def _built_badly() -> TrialFailed:
    try:
        raise ValueError("kernel_size 9 exceeds the 4x4 input")
    except ValueError as exc:
        try:
            raise TrialFailed(f"the model could not be built: {exc}") from exc
        except TrialFailed as failed:
            return failed


@pytest.mark.parametrize(("error", "cause", "named"), [
    (tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor"),
     "out of memory", "ResourceExhaustedError: OOM when allocating tensor"),
    (tf.errors.InternalError(None, None, "RESOURCE_EXHAUSTED: failed to allocate"),
     "out of memory", "RESOURCE_EXHAUSTED"),
    (MemoryError(), "out of memory", "MemoryError"),
    (DatasetUnavailable("Cannot read image /data/a/x.png: cannot identify image file."),
     "bad data", "/data/a/x.png"),
    (UnidentifiedImageError("cannot identify image file '/data/a/x.png'"), "bad data", "x.png"),
    (FileNotFoundError(errno.ENOENT, "No such file", "/data/texts.tsv"), "bad data",
     "texts.tsv"),
    (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"), "bad data", "utf-8"),
    (_built_badly(), "invalid model", "kernel_size 9"),
    (TrialFailed("training diverged: the loss blew up to inf in epoch 2"), "diverged",
     "epoch 2"),
    (KeyError("val_accuracy"), "error", "KeyError: 'val_accuracy'"),
    (ValueError("shapes (None, 10) and (None, 3) are incompatible"), "error", "incompatible"),
])
def test_the_trials_own_failures_name_their_cause(error: BaseException, cause: str,
                                                  named: str) -> None:
    failure = classify(error)
    assert not failure.infrastructure
    assert failure.cause == cause
    assert failure.message.startswith(f"{cause}: ") and named in failure.message


@pytest.mark.parametrize("error", [
    ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"),
    TimeoutError("timed out"),
    redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379"),
    redis.exceptions.TimeoutError("Timeout reading from socket"),
    kombu.exceptions.OperationalError("[Errno 111] Connection refused"),
    botocore.exceptions.EndpointConnectionError(endpoint_url="http://127.0.0.1:9"),
    ArtifactStoreUnavailable("s3 is unreachable"),
    OSError(errno.ENOSPC, "No space left on device"),
])
def test_errors_of_services_and_of_the_workers_disk_are_the_infrastructures(
        error: BaseException) -> None:
    failure = classify(error)
    assert failure.infrastructure and failure.cause == "infrastructure"
    assert type(error).__name__ in failure.message


def test_a_long_error_is_cut_to_a_readable_length() -> None:
    failure = classify(RuntimeError("x" * 100_000))
    assert len(failure.message) == MAX_MESSAGE and failure.message.endswith("…")


# ---- what run_trial reports ------------------------------------------------------


@pytest.fixture
def services(tmp_path: Path) -> Services:
    return Services(load_settings(env={}, overrides={
        "home": str(tmp_path / "home"), "heartbeat_interval": 0.05, "heartbeat_timeout": 5.0}))


def raising(error: BaseException) -> Any:
    def trainer(spec: TrialSpec, out: Path, hooks: Any) -> TrialResult:
        raise error
    return trainer


def _finished(services: Services, job_id: str) -> dict[str, Any]:
    event = services.events.read(job_id, None, limit=1000)[0][-1]
    assert event["type"] == "trial_finished"
    return event


def test_a_corrupt_image_fails_the_trial_naming_the_file(services: Services,
                                                         tmp_path: Path) -> None:
    """The real trainer and loader on an images: folder whose x.png is a text file."""
    folder = tmp_path / "pictures"
    for name in ("cats", "dogs"):
        (folder / name).mkdir(parents=True)
        (folder / name / "x.png").write_text("not an image at all")
    spec = SPEC | {"dataset": f"images:{folder}", "params": {}}
    outcome = run_trial("job-img", 0, spec, services)
    assert outcome == {"status": "failed"}
    result = services.control.result("job-img", 0)
    assert result is not None and result["cause"] == "bad data"
    assert "x.png" in result["error"]
    finished = _finished(services, "job-img")
    assert finished["data"]["status"] == "failed" and "x.png" in finished["data"]["error"]
    assert not services.artifacts.list(trial_prefix("job-img", 0))  # nothing uploaded


def test_out_of_memory_fails_the_trial_as_its_own(services: Services) -> None:
    oom = tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor [4096,4096]")
    assert run_trial("job-oom", 0, SPEC, services, trainer=raising(oom)) == {"status": "failed"}
    result = services.control.result("job-oom", 0)
    assert result is not None and result["cause"] == "out of memory"
    assert "OOM when allocating" in _finished(services, "job-oom")["data"]["error"]


def test_an_infrastructure_error_propagates_with_no_result(services: Services) -> None:
    down = redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379")
    with pytest.raises(redis.exceptions.ConnectionError):
        run_trial("job-net", 0, SPEC, services, trainer=raising(down))
    assert services.control.result("job-net", 0) is None  # no result: it is lost
    lost = _finished(services, "job-net")["data"]  # said at once, not after a heartbeat timeout
    assert lost["status"] == "error"
    assert lost["error"].startswith("infrastructure: ConnectionError: Error 111")


@pytest.mark.parametrize("noticed", [True, False])
def test_an_abandoned_trial_keeps_no_artifacts(services: Services, noticed: bool) -> None:
    """A trial that finishes just as it is given up (lost, or closed by the sweeper) uploads,
    then removes what it uploaded: whether its heartbeat thread ``noticed`` or not."""
    if not noticed:  # a heartbeat thread that does not look again before the upload ends
        services = Services(dataclasses.replace(services.settings, heartbeat_interval=60.0,
                                                heartbeat_timeout=120.0))

    def finishes_anyway(spec: TrialSpec, out: Path, hooks: Any) -> TrialResult:
        services.control.abandon("job-ab", 0, "closed as its job ended")
        deadline = time.monotonic() + 10
        while noticed and not hooks.is_cancelled():  # the heartbeat thread looks every 0.05 s
            assert time.monotonic() < deadline, "the abandon never reached the trial"
            time.sleep(0.01)
        (out / "metrics.json").write_text("{}")
        return TrialResult(
            status="completed", params=dict(spec.params), dataset={}, epochs_run=1,
            val_accuracy=0.5, val_loss=1.0, test_accuracy=None, test_loss=None, health=None,
            health_score=None, total_score=0.5, objective="simple", param_count=1,
            architecture_summary="stand-in", timings={}, plots=[], artifacts=["metrics.json"])

    assert run_trial("job-ab", 0, SPEC, services, trainer=finishes_anyway) == \
        {"status": "abandoned"}
    assert not services.artifacts.list(trial_prefix("job-ab", 0))
