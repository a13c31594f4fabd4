"""Busy or idle, asked of real Celery worker processes over the real Redis broker."""

from __future__ import annotations

from pathlib import Path

import pytest

from gpu_worker.scaling.activity import worker_activity
from onegin.celery_app import create_celery
from onegin.queue_depth import BrokerUnavailable
from onegin.settings import Settings, load_settings
from tests.fixtures.services import free_port
from tests.gpu_worker.scaling.celery_workers import BLOCK, celery_workers, open_gate
from tests.gpu_worker.scaling.conftest import eventually, one_busy

A, B = "onegin-gpu-aaaaaaaaaa", "onegin-gpu-bbbbbbbbbb"


def test_a_worker_running_a_task_is_busy_and_the_other_idle(
        cluster: Settings, private_queue: str, tmp_path: Path) -> None:
    app = create_celery(cluster)
    gate = f"{private_queue}-gate"
    with celery_workers(cluster, [A, B], private_queue, tmp_path):
        assert worker_activity(app, timeout=1.0) == {A: False, B: False}
        app.send_task(BLOCK, args=[gate], queue=private_queue)
        seen = eventually(lambda: one_busy(app))
        assert sorted(seen.values()) == [False, True]  # one took it, the other is idle
        open_gate(cluster.broker_url, gate)
        eventually(lambda: worker_activity(app, timeout=1.0) == {A: False, B: False})
    assert worker_activity(app, timeout=0.5) == {}  # gone workers do not answer


def test_an_unreachable_broker_is_reported(tmp_path: Path) -> None:
    settings = load_settings(env={}, overrides={
        "home": str(tmp_path), "broker_url": f"redis://127.0.0.1:{free_port()}/0"})
    with pytest.raises(BrokerUnavailable, match="cannot ask the workers"):
        worker_activity(create_celery(settings), timeout=0.5)
