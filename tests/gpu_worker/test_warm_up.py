"""A pool child connects at start-up; a backend that is down does not stop the child."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

import onegin.services
from gpu_worker.warm_up import open_connections
from onegin.services import Services, backend_modules
from onegin.settings import load_settings


def test_child_start_opens_every_worker_service(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    services = Services(load_settings(env={}, overrides={"home": str(tmp_path)}))
    monkeypatch.setattr(onegin.services, "_current", services)
    open_connections()
    assert {"control", "events", "artifacts"} <= set(vars(services))  # opened, cached
    assert "records" not in vars(services)  # workers never open the database


def test_an_unreachable_backend_is_logged_not_raised(tmp_path: Path,
                                                     caplog: pytest.LogCaptureFixture,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(onegin.services, "_current", Services(load_settings(env={}, overrides={
        "home": str(tmp_path), "events_url": "redis://127.0.0.1:1/0"})))
    with caplog.at_level(logging.WARNING, logger="gpu_worker.warm_up"):
        open_connections()
    assert "warm-up could not connect" in caplog.text


@pytest.mark.parametrize(("urls", "expected"), [
    ({}, []),
    ({"events_url": "redis://127.0.0.1:6379/3"},
     ["onegin.events.redis", "onegin.control.redis"]),
    ({"events_url": "rediss://cache:6380/0", "artifacts_url": "s3://bucket/runs"},
     ["onegin.events.redis", "onegin.control.redis", "boto3.session",
      "boto3.s3.transfer", "botocore.config"]),
])
def test_backend_modules_follow_the_urls(tmp_path: Path, urls: dict[str, str],
                                         expected: list[str]) -> None:
    settings = load_settings(env={}, overrides={"home": str(tmp_path), **urls})
    assert backend_modules(settings) == expected


def test_the_main_process_imports_the_clients_before_forking(tmp_path: Path) -> None:
    """In a fresh interpreter: nothing heavy before `worker_init`, all of it after."""
    script = (
        "import sys, gpu_worker.warm_up as w\n"
        "heavy = ('socketio', 'redis', 'boto3')\n"
        "assert not any(m in sys.modules for m in heavy), [m for m in heavy if m in sys.modules]\n"
        "w._before_fork()\n"
        "assert all(m in sys.modules for m in heavy), [m for m in heavy if m not in sys.modules]\n"
    )
    env = os.environ | {"ONEGIN_HOME": str(tmp_path), "ONEGIN_EVENTS_URL": "redis://127.0.0.1:1/0",
                        "ONEGIN_ARTIFACTS_URL": "s3://bucket/runs"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
