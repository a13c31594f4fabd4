"""A pool child connects at start-up; a backend that is down does not stop the child."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

import onegin.services
from gpu_worker.warm_up import open_connections
from onegin.services import Services
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
