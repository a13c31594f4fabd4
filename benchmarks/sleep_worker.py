"""A GPU-worker task module whose trainer is a fixed-duration SLEEP (a stand-in, named so).

It registers the real task name and runs the real worker path (claim, heartbeat,
events, artifact upload, result), so the orchestration benchmark measures
everything except training. The sleep length comes from SLEEP_TRAINER_SECONDS.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from celery import shared_task

from gpu_worker import pool_upkeep, warm_up  # noqa: F401  (the real worker's child start-up)
from gpu_worker.trial_runner import run_trial
from onegin.celery_app import TRAIN_TRIAL
from onegin.progress import Progress
from onegin.services import get_services
from onegin.trial_message import TrialResult, TrialSpec


def sleep_trainer(spec: TrialSpec, out: Path, hooks: Any) -> TrialResult:
    """Sleeps ``SLEEP_TRAINER_SECONDS`` seconds split over the epochs, reporting like a trainer."""
    seconds = float(os.environ.get("SLEEP_TRAINER_SECONDS", "1.0"))
    rng_value = (hash((spec.seed, tuple(sorted(spec.params.items())))) % 1000) / 1000
    for epoch in range(1, spec.epochs + 1):
        time.sleep(seconds / spec.epochs)
        if hooks.on_progress:
            hooks.on_progress(Progress("training", epoch, spec.epochs, 1.0,
                                       {"val_accuracy": rng_value}))
    (out / "metrics.json").write_text(json.dumps({"val_accuracy": rng_value}))
    return TrialResult(
        status="completed", params=dict(spec.params), dataset={}, epochs_run=spec.epochs,
        val_accuracy=rng_value, val_loss=1 - rng_value, test_accuracy=rng_value,
        test_loss=1 - rng_value, health=None, health_score=None, total_score=rng_value,
        objective="simple", param_count=0, architecture_summary="sleep",
        timings={"training": seconds}, plots=[], artifacts=["metrics.json"],
    )


@shared_task(name=TRAIN_TRIAL, acks_late=True, reject_on_worker_lost=True)
def sleep_trial_task(job_id: str, number: int, spec: dict[str, Any]) -> dict[str, Any]:
    return run_trial(job_id, number, spec, get_services(), trainer=sleep_trainer)
