"""`onegin token create` and `onegin web`, run as the commands they are."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

import pytest
import socketio

from onegin.settings import load_settings
from tests.fixtures.services import free_port, wait_for_port
from tests.integration.harness import TINY
from tests.webapp.test_realtime import connected, join, of_type, receive_until
from webapp.app import create_app

REPO = Path(__file__).resolve().parents[2]


def onegin(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "onegin.cli", *args], capture_output=True,
                          text=True, env=os.environ | env, cwd=REPO, timeout=120, check=False)


def test_token_create_prints_the_secret_once(tmp_path: Path) -> None:
    env = {"ONEGIN_HOME": str(tmp_path / "home"), "ONEGIN_AUTH": "required"}
    done = onegin("token", "create", "laptop", "--max-trials", "3", env=env)
    assert done.returncode == 0, done.stderr
    secret = done.stdout.strip()
    assert secret.startswith("ogn_") and "\n" not in secret
    assert "laptop" in done.stderr and "only this once" in done.stderr

    app = create_app(load_settings(env=env))
    session = app.test_client().get("/api/v1/session",
                                    headers={"Authorization": f"Bearer {secret}"})
    assert session.status_code == 200
    assert session.get_json()["name"] == "laptop"
    assert session.get_json()["limits"]["max_trials"] == 3

    refused = onegin("token", "create", "x", "--max-epochs", "0", env=env)
    assert refused.returncode == 2 and "max-epochs" in refused.stderr


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()


def _post(url: str, data: dict[str, Any]) -> Any:
    request = urllib.request.Request(url, data=json.dumps(data).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _alive(name: str) -> bool:
    """Whether a process whose command line holds ``name`` (our unique worker name) runs."""
    for proc in Path("/proc").iterdir():
        try:
            if name.encode() in (proc / "cmdline").read_bytes():
                return True
        except (OSError, ValueError):
            continue
    return False


@pytest.mark.slow
def test_onegin_web_runs_a_job_from_the_browser_with_no_servers(tmp_path: Path) -> None:
    """The embedded `onegin web`: its own orchestrator and GPU worker processes train a
    real trial; the browser side (REST + Socket.IO on local event files) sees it end."""
    port = free_port()
    env = os.environ | {"ONEGIN_HOME": str(tmp_path / "home"), "ONEGIN_OFFLINE": "1",
                        "ONEGIN_TF_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    server = subprocess.Popen(
        [sys.executable, "-m", "onegin.cli", "web", "--port", str(port), "--workers", "1"],
        env=env, cwd=REPO, stdout=(tmp_path / "web.log").open("wb"), stderr=subprocess.STDOUT,
        start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_port(port, timeout=60)
        assert b"<html" in _get(f"{base}/").lower()
        job = _post(f"{base}/api/v1/jobs", TINY | {"trials": 1, "concurrency": 1})
        with connected(base) as client:
            snapshot = join(client, job["id"])
            assert snapshot["job"]["status"] in ("queued", "running")
            (_, finished), seen = receive_until(client, of_type("job_finished"), timeout=400)
        assert finished["data"]["status"] == "completed", finished
        kinds = {name for name, _ in seen}
        assert {"trial_started", "trial_progress", "trial_finished"} <= kinds
        best = json.loads(_get(f"{base}/api/v1/jobs/{job['id']}/best"))
        assert best["trial"] == 0 and best["architecture"]["total_params"] > 0
        bundle = zipfile.ZipFile(io.BytesIO(_get(f"{base}/api/v1/jobs/{job['id']}/best/"
                                                 "bundle.zip")))
        assert {"model.keras", "best_hyperparameters.yaml", "metrics.json"} <= \
            set(bundle.namelist())
        assert any(name.startswith("plots/") for name in bundle.namelist())
    except (socketio.exceptions.TimeoutError, TimeoutError, AssertionError):
        print((tmp_path / "web.log").read_text()[-4000:])
        for log in (tmp_path / "home" / "logs").glob("*.log"):
            print(log, log.read_text()[-3000:])
        raise
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=90)
    assert server.returncode == 0
    assert not _alive(f"orchestrator-{server.pid}@") and not _alive(f"gpu0-{server.pid}@")
