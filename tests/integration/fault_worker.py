"""A GPU-worker task module whose trainer is a FAULT-INJECTION STAND-IN (named so).

It registers the real task name and runs the real worker path (claim, heartbeat,
events, failure classes, upload, result); only training is replaced, by a quick
stand-in that fails on demand. The trial's ``learning_rate`` chooses, at values the
sampler never proposes exactly, so only a test's own starting configurations fail:

- `OOM_RATE`: the model "does not fit": it raises TensorFlow's own
  ``tf.errors.ResourceExhaustedError``, as a GPU out of memory does;
- `UNREACHABLE_RATE`: a service is "unreachable": it raises ``ConnectionError``;
- anything else completes at once with a score of `SCORE`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from celery import shared_task

from gpu_worker import pool_upkeep, warm_up  # noqa: F401  (the real worker's child start-up)
from gpu_worker.trainer import TrialHooks
from gpu_worker.trial_runner import run_trial
from onegin.celery_app import TRAIN_TRIAL
from onegin.progress import Progress
from onegin.services import get_services
from onegin.trial_message import TrialResult, TrialSpec
from tests.integration.fault_rates import OOM_RATE, SCORE, UNREACHABLE_RATE


def _is(value: object, rate: float) -> bool:
    return isinstance(value, float) and math.isclose(value, rate, rel_tol=1e-9)


def faulty_trainer(spec: TrialSpec, out: Path, hooks: TrialHooks) -> TrialResult:
    params = spec.params
    if _is(params.get("learning_rate"), OOM_RATE):
        import tensorflow as tf

        raise tf.errors.ResourceExhaustedError(
            None, None, "OOM when allocating tensor with shape[4096,4096] "
            "(fault-injection stand-in)")
    if _is(params.get("learning_rate"), UNREACHABLE_RATE):
        raise ConnectionError("connection to the feature store refused (fault-injection "
                              "stand-in)")
    if hooks.on_progress:
        hooks.on_progress(Progress("training", 1, spec.epochs, 1.0, {"val_accuracy": SCORE}))
    (out / "metrics.json").write_text("{}")
    return TrialResult(
        status="completed", params=dict(params), dataset={}, epochs_run=1, val_accuracy=SCORE,
        val_loss=0.3, test_accuracy=None, test_loss=None, health=None, health_score=None,
        total_score=SCORE, objective="simple", param_count=0,
        architecture_summary="fault-injection stand-in", timings={}, plots=[],
        artifacts=["metrics.json"])


@shared_task(name=TRAIN_TRIAL, acks_late=True, reject_on_worker_lost=True)
def faulty_trial_task(job_id: str, number: int, spec: dict[str, Any]) -> dict[str, Any]:
    return run_trial(job_id, number, spec, get_services(), trainer=faulty_trainer)
