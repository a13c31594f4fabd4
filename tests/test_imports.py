"""TensorFlow must never be imported before a fork, nor by the web app or orchestrator."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    "module",
    ["onegin", "onegin.cli", "onegin.celery_app", "onegin.services", "onegin.api",
     "orchestrator.tasks", "orchestrator.runner", "gpu_worker.tasks", "gpu_worker.shutdown",
     "onegin.logs.worker", "gpu_worker.scaling.runpod_loop", "webapp", "webapp.app",
     "webapp.server", "gpu_worker.commands", "gpu_worker.scaling.commands", "webapp.commands",
     "orchestrator.local_run"],
)
def test_module_does_not_import_tensorflow(module: str) -> None:
    code = f"import sys, {module}; print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120).stdout.split()
    assert out == ["False", "False"], f"{module} imports TensorFlow/Keras at import time"
