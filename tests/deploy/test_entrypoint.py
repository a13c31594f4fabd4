"""Every role of deploy/entrypoint.sh run for real, as its container runs it: the same
script, arguments and environment (docker-compose.yml's, re-pointed at the local
PostgreSQL, Redis and moto S3), answering over HTTP like the probes expect."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy.conftest import Backends
from tests.deploy.helpers import (
    ENTRYPOINT,
    REPO,
    Started,
    entrypoint,
    local_env,
    read_line,
    run_entrypoint,
)
from tests.deploy.test_compose import entrypoint_roles
from tests.fixtures.services import free_port, wait_for_port


def get(url: str, auth: tuple[str, str] | None = None, bearer: str | None = None,
        timeout: float = 15) -> tuple[int, bytes]:
    request = urllib.request.Request(url)
    if auth:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    if bearer:
        request.add_header("Authorization", f"Bearer {bearer}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_without_a_role_it_prints_every_role_and_fails() -> None:
    done = subprocess.run(entrypoint(), capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    for role in entrypoint_roles() - {"h"}:
        assert role in done.stderr, f"usage does not mention {role}"


def test_anything_else_runs_as_a_command(tmp_path: Path) -> None:
    done = run_entrypoint("onegin", "--help", env=local_env({"HOME": str(tmp_path)}))
    assert done.returncode == 0 and "usage: onegin" in done.stdout


def test_migrate_creates_the_schema_and_bucket_and_is_idempotent(
        database_factory: object, s3_endpoint: str, tmp_path: Path) -> None:
    import boto3

    from onegin.records.migrate import current

    url = database_factory()  # type: ignore[operator]
    backends = Backends(url, "redis://unused:6379/0", s3_endpoint)
    env = backends.env_of("migrate", tmp_path)
    assert "ONEGIN_BROKER_URL" not in env, "migrate needs the database and S3 only"
    # as with S3_BUCKET=… in .env: a bucket of its own on the session's S3 endpoint
    env["ONEGIN_ARTIFACTS_URL"] = env["ONEGIN_ARTIFACTS_URL"].replace(
        "s3://onegin/", f"s3://onegin-{uuid.uuid4().hex[:8]}/")
    assert current(url) is None
    first = run_entrypoint("migrate", env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert current(url) is not None
    assert "created" in first.stderr
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1",
                      aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                      aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])
    bucket = env["ONEGIN_ARTIFACTS_URL"].split("/")[2]
    s3.head_bucket(Bucket=bucket)
    again = run_entrypoint("migrate", env=env)
    assert again.returncode == 0 and "exists" in again.stderr, again.stderr


WEB_WORKER_CLASSES = ("gevent", "gthread")  # deploy/entrypoint.sh's; its default first


@pytest.fixture(params=WEB_WORKER_CLASSES)
def web(request: pytest.FixtureRequest, backends: Backends,
        tmp_path: Path) -> Iterator[tuple[str, dict[str, str], Started]]:
    """The web role as compose runs it: the default worker class, then each other one."""
    port = free_port()
    chosen = {} if request.param == WEB_WORKER_CLASSES[0] else {
        "WEB_WORKER_CLASS": request.param}
    env = backends.env_of("web", tmp_path, ONEGIN_WEB_PORT=str(port), **chosen)
    process = Started(entrypoint("web"), env, tmp_path / "web.log")
    try:
        wait_for_port(port, timeout=60)
        yield f"http://127.0.0.1:{port}", env, process
    finally:
        process.stop()


def test_web_serves_under_gunicorn_with_websockets(
        web: tuple[str, dict[str, str], Started], request: pytest.FixtureRequest) -> None:
    """REST, probes, a Redis event relayed to a WebSocket client in its job's room, and
    importances ranked in the web app's child process, by the worker class asked for (by
    default, the entrypoint's); then a clean stop."""
    import socketio

    from onegin.events import SOCKETIO_NAMESPACE, make_event, open_event_bus
    from onegin.job_config import OptimizationConfig
    from onegin.records import RecordStore
    from orchestrator.study import open_study

    base, env, process = web
    assert f"Using worker: {request.node.callspec.params['web']}" in process.output()
    assert get(f"{base}/api/v1/healthz") == (200, b'{"status":"ok"}\n')
    status, body = get(f"{base}/api/v1/readyz")
    assert status == 200, body
    assert json.loads(body) == {"database": "ok", "broker": "ok", "events": "ok",
                                "artifacts": "ok"}
    assert run_entrypoint("health", "web", env=env).returncode == 0
    status, _ = get(f"{base}/api/v1/jobs")
    assert status == 401, "the compose web app requires a token"
    # exec: the container's main process is gunicorn itself, not a shell around it
    cmdline = Path(f"/proc/{process.proc.pid}/cmdline").read_bytes().split(b"\0")
    assert any(part.endswith(b"gunicorn") for part in cmdline[:2]), cmdline

    created = run_entrypoint("onegin", "token", "create", "deploy-test", env=env)
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip().splitlines()[-1]
    refused = socketio.Client(reconnection=False, handle_sigint=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        refused.connect(base, namespaces=[SOCKETIO_NAMESPACE], transports=["websocket"],
                        wait_timeout=10)
    records = RecordStore(env["ONEGIN_DATABASE_URL"])
    owner = records.find_token(token)
    assert owner is not None
    fields = {"dataset": "digits", "seed": 3}
    job_id = records.create_job(fields, owner=owner.id).id
    client = socketio.SimpleClient(handle_sigint=False)  # Ctrl-C is pytest's
    client.connect(base, namespace=SOCKETIO_NAMESPACE, transports=["websocket"],
                   auth={"token": token}, wait_timeout=10)
    try:
        assert client.transport == "websocket"
        assert client.call("join", {"job_id": job_id}, timeout=10) == {"ok": True,
                                                                        "job_id": job_id}
        name, snapshot = client.receive(timeout=10)
        assert name == "snapshot" and snapshot["job"]["id"] == job_id
        event = make_event("job_status", job_id, status="running")
        bus = open_event_bus(env["ONEGIN_EVENTS_URL"])
        bus.publish(event)  # as a worker does: through Redis, to the web app's room
        bus.close()
        assert client.receive(timeout=10) == ["job_status", event]
    finally:
        client.disconnect()

    config = OptimizationConfig.from_dict(fields)
    study, space = open_study(job_id, config, env["ONEGIN_DATABASE_URL"]), config.space()
    for value in (0.5, 0.7, 0.6):
        trial = study.ask()
        space.suggest(trial)
        study.tell(trial, value)
    # the first ranking starts the ranking process (a Python importing Optuna): seconds
    status, body = get(f"{base}/api/v1/jobs/{job_id}/study", bearer=token, timeout=90)
    assert status == 200, body
    assert json.loads(body)["importance_trials"] == 3  # the child process ranked them

    assert process.stop(signal.SIGTERM, timeout=30) == 0, "SIGTERM reaches gunicorn"
    assert "Handling signal: term" in process.output()


def test_web_refuses_an_unknown_worker_class(backends: Backends, tmp_path: Path) -> None:
    env = backends.env_of("web", tmp_path, ONEGIN_WEB_PORT=str(free_port()),
                          WEB_WORKER_CLASS="eventlet")
    done = run_entrypoint("web", env=env, timeout=30)
    assert done.returncode == 2
    assert "WEB_WORKER_CLASS must be gevent or gthread, not 'eventlet'" in done.stderr


def test_web_probe_fails_when_nothing_answers(backends: Backends, tmp_path: Path) -> None:
    env = backends.env_of("web", tmp_path, ONEGIN_WEB_PORT=str(free_port()))
    assert run_entrypoint("health", "web", env=env).returncode == 1


def test_flower_refuses_to_run_without_sign_in(backends: Backends, tmp_path: Path) -> None:
    env = backends.env_of("flower", tmp_path)
    del env["FLOWER_BASIC_AUTH"]
    done = run_entrypoint("flower", env=env, timeout=30)
    assert done.returncode == 2 and "FLOWER_BASIC_AUTH" in done.stderr


def test_flower_asks_for_its_password(backends: Backends, tmp_path: Path) -> None:
    port = free_port()
    env = backends.env_of("flower", tmp_path, FLOWER_PORT=str(port))
    user, password = env["FLOWER_BASIC_AUTH"].split(":", 1)
    assert "ONEGIN_DATABASE_URL" not in env
    process = Started(entrypoint("flower"), env, tmp_path / "flower.log")
    try:
        wait_for_port(port, timeout=60)
        base = f"http://127.0.0.1:{port}"
        assert get(f"{base}/")[0] == 401
        assert get(f"{base}/api/workers")[0] == 401
        assert get(f"{base}/", auth=(user, "wrong"))[0] == 401
        assert get(f"{base}/", auth=(user, password))[0] == 200
        assert run_entrypoint("health", "flower", env=env).returncode == 0
    finally:
        process.stop()
    assert password not in Path(f"{tmp_path}/flower.log").read_text()


def test_optuna_dashboard_shows_the_studies(backends: Backends, tmp_path: Path) -> None:
    import optuna

    name = f"job-deploy-{os.getpid()}"
    optuna.create_study(study_name=name, storage=backends.database_url)
    port = free_port()
    env = backends.env_of("optuna-dashboard", tmp_path, OPTUNA_DASHBOARD_PORT=str(port))
    assert set(k for k in env if k.startswith("ONEGIN_")) == {"ONEGIN_DATABASE_URL",
                                                              "ONEGIN_HOME"}
    process = Started(entrypoint("optuna-dashboard"), env, tmp_path / "dashboard.log")
    try:
        wait_for_port(port, timeout=60)
        status, body = get(f"http://127.0.0.1:{port}/api/studies")
        assert status == 200
        assert name in [s["study_name"] for s in json.loads(body)["study_summaries"]]
        assert run_entrypoint("health", "optuna-dashboard", env=env).returncode == 0
    finally:
        process.stop()
    assert backends.database_url.split("@")[0] not in process.output(), "no URL in logs"


# -- GPU assignment among replicas (compose --scale): a stand-in `onegin` reports the
#    GPU it was given and holds it, like a worker, until it is killed


def _fake_onegin(folder: Path) -> Path:
    folder.mkdir()
    fake = folder / "onegin"
    fake.write_text('#!/bin/sh\necho "gpu=${CUDA_VISIBLE_DEVICES:-none}"\nexec sleep 300\n')
    fake.chmod(0o755)
    return folder


def _replica(fake_bin: Path, locks: Path, **extra: str) -> subprocess.Popen[str]:
    env = local_env({"GPU_LOCK_DIR": str(locks), "GPU_COUNT": "2", "GPU_WAIT_SECONDS": "0.2"}
                    | extra)
    env["PATH"] = f"{fake_bin}{os.pathsep}{env['PATH']}"
    return subprocess.Popen(["bash", str(ENTRYPOINT), "gpu-worker"], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def _end(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def test_gpu_worker_replicas_each_take_their_own_gpu(tmp_path: Path) -> None:
    fake = _fake_onegin(tmp_path / "bin")
    locks = tmp_path / "locks"
    replicas = []
    try:
        first = _replica(fake, locks)
        replicas.append(first)
        assert read_line(first.stdout, 20).strip() == "gpu=0"
        second = _replica(fake, locks)
        replicas.append(second)
        assert read_line(second.stdout, 20).strip() == "gpu=1"
        third = _replica(fake, locks)
        replicas.append(third)
        assert "held by other replicas" in read_line(third.stderr, 20)
        _end(first)  # a replica goes away: its GPU is free again
        assert read_line(third.stdout, 20).strip() == "gpu=0"
        pinned = _replica(fake, locks, CUDA_VISIBLE_DEVICES="1")
        replicas.append(pinned)
        assert read_line(pinned.stdout, 20).strip() == "gpu=1", "an explicit pin wins"
        cpu_only = _replica(fake, locks, GPU_COUNT="0")
        replicas.append(cpu_only)
        assert read_line(cpu_only.stdout, 20).strip() == "gpu=none"
    finally:
        for proc in replicas:
            _end(proc)


def test_probes_of_workers_fail_without_a_worker(backends: Backends, tmp_path: Path) -> None:
    """The probes ask this host's node by name; with none running they must fail."""
    env = backends.env_of("gpu-worker", tmp_path)
    done = run_entrypoint("health", "gpu-worker", env=env | {"PROBE_TIMEOUT": "2"}, timeout=60)
    assert done.returncode == 1, done.stderr
