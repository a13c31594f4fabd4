"""`onegin scale runpod --once` end to end: real Redis, real workers, the RunPod stand-in."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from gpu_worker.scaling import runpod_loop
from gpu_worker.scaling.activity import worker_activity
from onegin import cli
from onegin.celery_app import GPU_QUEUE, TRAIN_TRIAL, create_celery
from onegin.local_workers import settings_env
from onegin.queue_depth import queue_depth
from onegin.settings import SCALER, Settings
from tests.fixtures.services import free_port
from tests.gpu_worker.scaling.celery_workers import BLOCK, celery_workers, open_gate
from tests.gpu_worker.scaling.conftest import API_KEY, eventually, one_busy
from tests.gpu_worker.scaling.runpod_standin import RunPodStandIn

TEMPLATE = Path(__file__).resolve().parents[3] / "deploy" / "runpod" / "pod-template.json"


class Clock:
    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(runpod_loop, "now", fake)
    return fake


@pytest.fixture
def scaler_env(cluster: Settings, standin: RunPodStandIn,
               monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The scaler's environment: the cluster's settings plus RunPod's, S3 keys."""
    for name, value in settings_env(cluster, SCALER).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ONEGIN_RUNPOD_API_KEY", API_KEY)
    monkeypatch.setenv("ONEGIN_RUNPOD_API_URL", standin.url)
    monkeypatch.setenv("ONEGIN_RUNPOD_POD_TEMPLATE", str(TEMPLATE))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws-secret")
    return cluster


def ours(standin: RunPodStandIn) -> dict[str, str]:
    """Our pods, name -> id."""
    return {p["name"]: p["id"] for p in standin.pods() if p["name"].startswith("onegin-gpu-")
            and len(p["name"]) == len("onegin-gpu-") + 10}


def scale(*flags: str) -> int:
    return cli.main(["scale", "runpod", "--once", *flags])


def test_pods_follow_the_queue_up_to_max_and_go_when_idle(
        scaler_env: Settings, standin: RunPodStandIn, clock: Clock, private_queue: str,
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="gpu_worker.scaling")
    foreign = {standin.add_pod("my-notebook"), standin.add_pod("onegin-gpu-eu-0123456789"),
               standin.add_pod("onegin-gpu-manual")}
    app = create_celery(scaler_env)
    for n in range(5):  # five trials wait; nothing consumes the gpu queue in this test
        app.send_task(TRAIN_TRIAL, args=["job-1", n, {}], queue=GPU_QUEUE)
    assert queue_depth(app) == 5

    # 1. five waiting, max 2: two pods, each running a worker named after it
    assert scale("--max", "2", "--idle-timeout", "60") == 0
    pods = ours(standin)
    assert len(pods) == 2
    assert "decision: waiting=5 pods=0 (busy=0 idle=0 starting=0) target=2 -> create 2" \
        in caplog.text
    for request in standin.requests("POST"):
        body = request.body
        assert request.authorized and body["imageName"].endswith("/onegin-gpu:latest")
        assert body["dockerStartCmd"] == ["gpu-worker", "--name", body["name"]]
        assert body["env"]["ONEGIN_BROKER_URL"] == scaler_env.broker_url
        assert body["env"]["ONEGIN_ARTIFACTS_URL"] == "s3://onegin-test/scaling"
        assert body["env"]["AWS_SECRET_ACCESS_KEY"] == "aws-secret"
        assert not [k for k in body["env"] if "DATABASE" in k or "RUNPOD" in k]
        assert "db-password" not in str(body)

    # 2. still booting, still five waiting: nothing new, nothing killed
    clock.now += 10
    assert scale("--max", "2", "--idle-timeout", "60") == 0
    assert ours(standin) == pods and len(standin.requests("POST")) == 2

    # 3. the queue empties; the workers come up, one of them runs a trial
    app.control.purge()
    assert queue_depth(app) == 0
    gate = f"{private_queue}-gate"
    with celery_workers(scaler_env, sorted(pods), private_queue, tmp_path):
        app.send_task(BLOCK, args=[gate], queue=private_queue)
        activity = eventually(lambda: one_busy(app))
        busy = next(name for name, working in activity.items() if working)
        idle = next(name for name in pods if name != busy)

        clock.now += 61  # both pods are older than the idle timeout; one is mid-trial
        assert scale("--max", "2", "--idle-timeout", "60") == 0
        assert ours(standin) == {busy: pods[busy]}  # the idle one went, never the busy one
        assert [r.path for r in standin.requests("DELETE")] == [f"/v1/pods/{pods[idle]}"]
        assert f"terminated {idle} ({pods[idle]}): idle for 71s" in caplog.text

        # 4. the trial ends: idle from now on, kept until the idle timeout passes
        open_gate(scaler_env.broker_url, gate)
        eventually(lambda: worker_activity(app, timeout=1.0).get(busy) is False)
        clock.now += 30
        assert scale("--max", "2", "--idle-timeout", "60") == 0
        assert set(ours(standin)) == {busy}

        # 5. past the idle timeout: kept at --min 1, gone at min 0
        clock.now += 61
        assert scale("--max", "2", "--idle-timeout", "60", "--min", "1") == 0
        assert set(ours(standin)) == {busy}
        assert scale("--max", "2", "--idle-timeout", "60") == 0
        assert ours(standin) == {}

    assert {p["id"] for p in standin.pods()} == foreign  # other pods were never touched
    assert all(r.path in ("/v1/pods", *(f"/v1/pods/{i}" for i in pods.values()))
               for r in standin.requests())


def test_dry_run_changes_nothing(scaler_env: Settings, standin: RunPodStandIn, clock: Clock,
                                 caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="gpu_worker.scaling")
    create_celery(scaler_env).send_task(TRAIN_TRIAL, args=["job", 0, {}], queue=GPU_QUEUE)
    assert scale("--dry-run") == 0
    assert standin.requests("POST") == [] and ours(standin) == {}
    assert "[dry run] would create 1 pod(s)" in caplog.text
    assert not (Path(scaler_env.home) / "scaling").exists()  # no state written either


def test_a_step_that_cannot_see_the_broker_fails_and_changes_nothing(
        scaler_env: Settings, standin: RunPodStandIn, clock: Clock,
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"
    monkeypatch.setenv("ONEGIN_BROKER_URL", dead)
    monkeypatch.setenv("ONEGIN_EVENTS_URL", dead)
    standin.add_pod("onegin-gpu-0123456789", status="EXITED")  # would be replaced otherwise
    assert scale() == 1
    assert [r.method for r in standin.requests()] == ["GET"]  # listed, then nothing
    assert "step skipped, nothing changed: cannot count queue 'gpu'" in caplog.text



def test_an_unexpected_failure_is_logged_with_its_traceback_not_hidden(
        scaler_env: Settings, standin: RunPodStandIn, clock: Clock, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("ONEGIN_HOME", str(tmp_path / "a-file" / "home"))  # state unwritable
    assert scale() == 1
    failure = next(r for r in caplog.records if r.message == "step failed unexpectedly")
    assert failure.exc_info and failure.exc_info[0] is NotADirectoryError

BAD = [
    ("no API key", {"ONEGIN_RUNPOD_API_KEY": ""}, [], "invalid runpod_api_key"),
    ("no template", {"ONEGIN_RUNPOD_POD_TEMPLATE": ""}, [], "invalid runpod_pod_template"),
    ("embedded broker", {"ONEGIN_BROKER_URL": "filesystem://"}, [], "invalid broker_url"),
    ("bad prefix", {"ONEGIN_RUNPOD_NAME_PREFIX": "Onegin GPU"}, [],
     "invalid runpod_name_prefix"),
    ("min above max", {}, ["--min", "3", "--max", "2"], "invalid --max"),
    ("min above the max setting", {"ONEGIN_RUNPOD_MAX_PODS": "2"}, ["--min", "3"],
     "invalid ONEGIN_RUNPOD_MAX_PODS"),
    ("negative idle timeout", {}, ["--idle-timeout", "-5"], "invalid --idle-timeout"),
    ("bad interval setting", {"ONEGIN_RUNPOD_INTERVAL": "often"}, [],
     "invalid ONEGIN_RUNPOD_INTERVAL"),
]


@pytest.mark.parametrize(("env", "flags", "message"), [b[1:] for b in BAD],
                         ids=[b[0] for b in BAD])
def test_bad_settings_stop_it_at_start_naming_the_setting(
        scaler_env: Settings, standin: RunPodStandIn, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], env: dict[str, str], flags: list[str],
        message: str) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert scale(*flags) == 2
    assert message in " ".join(capsys.readouterr().err.split())
    assert standin.requests() == []  # nothing was asked of RunPod


def test_a_rejected_api_key_stops_it(scaler_env: Settings, standin: RunPodStandIn, clock: Clock,
                                     monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ONEGIN_RUNPOD_API_KEY", "a-wrong-key")
    assert scale() == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "invalid runpod_api_key: GET /pods: RunPod rejected the API key (401" in err
    assert "a-wrong-key" not in err and len(standin.requests()) == 1


def test_the_loop_reconciles_every_interval_until_sigterm(
        scaler_env: Settings, standin: RunPodStandIn, tmp_path: Path) -> None:
    """The real command in its own process: JSON log lines, steps, a clean stop."""
    create_celery(scaler_env).send_task(TRAIN_TRIAL, args=["job", 0, {}], queue=GPU_QUEUE)
    err = (tmp_path / "scaler.err").open("w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "onegin.cli", "scale", "runpod", "--max", "1", "--interval",
         "0.2"], env=os.environ | {"ONEGIN_LOG_FORMAT": "json"}, stderr=err)
    try:
        eventually(lambda: len(ours(standin)) == 1 and len(standin.requests("GET")) >= 3)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert len(standin.requests("POST")) == 1  # later steps saw the booting pod: no more
    err.seek(0)
    lines = [json.loads(line) for line in err if line.startswith("{")]
    messages = [line["message"] for line in lines]
    assert any(m.startswith("decision: waiting=1 pods=0") for m in messages)
    assert any(m.startswith("decision: waiting=1 pods=1 (busy=0 idle=0 starting=1) target=1 "
                            "-> create 0") for m in messages)
    assert messages[-1] == "stopping: signal received"
