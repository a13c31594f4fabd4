"""What local worker processes inherit (only their role's settings), and how they stop."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import fields
from pathlib import Path

import pytest

from onegin import parent_death
from onegin.local_workers import child_environ, settings_env, stop_processes
from onegin.settings import (
    EVERY,
    GPU_WORKER,
    ORCHESTRATOR,
    Role,
    Settings,
    env_name,
    load_settings,
    role_settings,
)
from tests.fixtures.proc_tree import Proc, descendants, wait_gone

PRINT_ENV = "import json, os; print(json.dumps(dict(os.environ)))"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    config = tmp_path / "onegin.yaml"  # a settings file may hold secrets too
    config.write_text("secret_key: from-the-file\n")
    return load_settings(config, env={}, overrides={
        "home": str(tmp_path), "secret_key": "session-signing-key",
        "runpod_api_key": "rp-secret", "heartbeat_timeout": 45,
        "database_url": "postgresql+psycopg2://onegin:pw@db.example/onegin",
        "broker_url": "redis://:pw@redis.example:6379/0"})


def spawned_env(env: dict[str, str]) -> dict[str, str]:
    """The environment a real child process sees."""
    done = subprocess.run([sys.executable, "-c", PRINT_ENV], env=env, capture_output=True,
                          text=True, check=True)
    seen: dict[str, str] = json.loads(done.stdout)
    return seen


def test_a_gpu_worker_gets_its_settings_and_no_secret_or_database(
        settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ONEGIN_RUNPOD_API_KEY", "rp-secret-from-env")
    monkeypatch.setenv("ONEGIN_SECRET_KEY", "session-key-from-env")
    monkeypatch.setenv("ONEGIN_CONFIG", str(tmp_path / "onegin.yaml"))
    monkeypatch.setenv("ONEGIN_WEB_PORT", "9999")
    env = spawned_env(child_environ(settings, GPU_WORKER))
    for secret in ("ONEGIN_SECRET_KEY", "ONEGIN_RUNPOD_API_KEY", "ONEGIN_CONFIG",
                   "ONEGIN_DATABASE_URL", "ONEGIN_WEB_PORT"):
        assert secret not in env, secret
    assert not any(value in text for text in env.values()
                   for value in ("session-signing-key", "rp-secret", "from-the-file", "pw@db"))
    assert env["ONEGIN_BROKER_URL"] == settings.broker_url
    assert env["ONEGIN_HEARTBEAT_TIMEOUT"] == "45.0"
    assert env["ONEGIN_HOME"] == str(tmp_path)
    assert env.get("PATH") == os.environ.get("PATH")  # the rest of the environment stays
    # the worker loads the very settings it reads, and defaults for the rest
    reloaded = load_settings(env={k: v for k, v in env.items() if k.startswith("ONEGIN_")})
    for name in role_settings(GPU_WORKER):
        assert getattr(reloaded, name) == getattr(settings, name), name
    assert reloaded.secret_key is None and reloaded.runpod_api_key is None


def test_an_orchestrator_gets_the_database_and_no_secret(settings: Settings) -> None:
    env = spawned_env(child_environ(settings, ORCHESTRATOR))
    assert env["ONEGIN_DATABASE_URL"] == settings.database_url
    assert env["ONEGIN_BROKER_URL"] == settings.broker_url
    assert "ONEGIN_SECRET_KEY" not in env and "ONEGIN_RUNPOD_API_KEY" not in env


def test_each_setting_names_its_readers_and_secrets_stay_with_theirs() -> None:
    for f in fields(Settings):
        roles = f.metadata["roles"]
        assert roles and roles <= EVERY, f.name
        if f.metadata["secret"]:
            assert not roles & {GPU_WORKER, ORCHESTRATOR}, f"{f.name} must not reach workers"
    assert "secret_key" in role_settings(Role.WEB)
    assert "runpod_api_key" in role_settings(Role.SCALER)
    assert set(settings_env(load_settings(env={}), GPU_WORKER)) <= \
        {env_name(name) for name in role_settings(GPU_WORKER)}


def test_stop_kills_what_a_worker_leaves_in_its_group_and_keeps_one_deadline(
        tmp_path: Path) -> None:
    """Two "workers" that ignore SIGTERM, each with a child in its group: both are
    killed after one shared timeout, their children with them."""
    stubborn = ("import signal, subprocess, sys, time; signal.signal(signal.SIGTERM, "
                "signal.SIG_IGN); subprocess.Popen([sys.executable, '-c', "
                "'import time; time.sleep(300)']); print('ready', flush=True); time.sleep(300)")
    procs = [subprocess.Popen([sys.executable, "-c", stubborn], stdout=subprocess.PIPE,
                              start_new_session=True) for _ in range(2)]
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
    family = {p for proc in procs for p in descendants(proc.pid)} | \
        {Proc.of(proc.pid) for proc in procs}
    assert len(family) == 4
    started = time.monotonic()
    stop_processes(procs, timeout=1.0)
    assert time.monotonic() - started < 3.0, "one deadline for all, not one each"
    assert all(proc.returncode == -signal.SIGKILL for proc in procs)
    assert not wait_gone(family, timeout=10)  # SIGKILL lands a moment after killpg


def test_a_wrapped_child_gets_sigterm_when_its_parent_is_killed(tmp_path: Path) -> None:
    """`onegin.parent_death`: SIGKILL to the parent, and the grandchild still hears of it."""
    marker = tmp_path / "got-sigterm"
    child = ("import pathlib, signal, sys, time\n"
             f"def bye(*_):\n    pathlib.Path({str(marker)!r}).write_text('yes'); sys.exit(0)\n"
             "signal.signal(signal.SIGTERM, bye); print('ready', flush=True); time.sleep(300)")
    parent_code = ("import subprocess, sys\n"
                   "from onegin import parent_death\n"
                   f"subprocess.Popen(parent_death.wrap([sys.executable, '-c', {child!r}]))\n"
                   "import time; time.sleep(300)")
    parent = subprocess.Popen([sys.executable, "-c", parent_code], stdout=subprocess.PIPE,
                              env=os.environ | {"PYTHONPATH": str(Path.cwd())},
                              start_new_session=True)
    try:
        assert parent.stdout is not None and parent.stdout.readline() == b"ready\n"
        (grandchild,) = descendants(parent.pid)
        assert "-c" in grandchild.cmdline, "the wrapper became the command (same pid)"
        parent.kill()
        parent.wait()
        assert not wait_gone({grandchild}, timeout=30)
        assert marker.read_text() == "yes", "it was told to stop (SIGTERM), not killed"
    finally:
        if parent.poll() is None:
            os.killpg(parent.pid, signal.SIGKILL)


def test_a_wrapped_command_whose_parent_is_already_gone_does_not_start() -> None:
    done = subprocess.run(parent_death.wrap(["true"], parent_pid=1), capture_output=True,
                          text=True, check=False)
    assert done.returncode == parent_death.EXIT_PARENT_GONE
    assert "parent 1 is gone" in done.stderr


def test_no_local_workers_start_and_stop_cleanly_when_tf_threads_is_unset(
        tmp_path: Path) -> None:
    # `onegin web --workers 0` crashed dividing the cores among zero workers (CI, where
    # ONEGIN_TF_THREADS is unset; developers' shells set it)
    from onegin.local_workers import LocalWorkers

    bare = load_settings(env={}, overrides={"home": str(tmp_path)})
    assert bare.tf_threads is None
    with LocalWorkers(bare, 0) as workers:
        assert workers.processes == []
