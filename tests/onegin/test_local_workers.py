"""What local worker processes inherit: every setting, never a secret."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from onegin.local_workers import child_environ, settings_env
from onegin.settings import load_settings


def test_children_get_the_settings_but_no_secrets(monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path) -> None:
    monkeypatch.setenv("ONEGIN_RUNPOD_API_KEY", "rp-secret-from-env")
    settings = load_settings(env={}, overrides={
        "home": str(tmp_path), "secret_key": "session-signing-key",
        "runpod_api_key": "rp-secret", "heartbeat_timeout": 45})
    env = settings_env(settings)
    assert env["ONEGIN_HEARTBEAT_TIMEOUT"] == "45.0"
    assert env["ONEGIN_HOME"] == str(tmp_path)
    assert "ONEGIN_SECRET_KEY" not in env and "ONEGIN_RUNPOD_API_KEY" not in env
    inherited = child_environ(settings)
    assert "ONEGIN_RUNPOD_API_KEY" not in inherited  # stripped from this process's env too
    assert inherited["ONEGIN_HEARTBEAT_TIMEOUT"] == "45.0"
    assert inherited.get("PATH") == os.environ.get("PATH")
    # the child loads exactly the same non-secret settings
    reloaded = load_settings(env=env)
    assert reloaded.redacted() | {"secret_key": None, "runpod_api_key": None} == \
        settings.redacted() | {"secret_key": None, "runpod_api_key": None}
