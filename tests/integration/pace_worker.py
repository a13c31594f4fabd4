"""A GPU-worker task module whose trainer is a PACED STAND-IN (named so): no model, a clock.

It registers the real task name and runs the real worker path (claim, heartbeat,
events, stop flag, upload, result), so the orchestrator's pace rule is tested on
trials whose length the test chooses: an epoch takes ``dropout × 100`` ticks.
Accuracy is EARLY until the last epoch, then FINAL, or only LATE for an ``elu`` model:
a curve that the median pruner would cut at the last epoch, if asked then.
"""

from __future__ import annotations

import time
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

TICK = 0.05  # seconds between progress reports (and stop-flag looks)
EARLY, FINAL, LATE = 0.5, 0.9, 0.6
SETTLE = 0.5  # past the stop poller's 0.25 s throttle


def paced_trainer(spec: TrialSpec, out: Path, hooks: TrialHooks) -> TrialResult:
    ticks = round(float(spec.params["dropout"]) * 100)  # per epoch
    report = hooks.on_progress or (lambda _progress: None)
    epochs_run, reason, accuracy = 0, None, EARLY
    for epoch in range(1, spec.epochs + 1):
        epochs_run = epoch
        for tick in range(1, ticks + 1):
            time.sleep(TICK)
            report(Progress("training", epoch, spec.epochs, tick / ticks))
            reason = hooks.should_prune() if hooks.should_prune else None
            if reason:
                break
        last = epoch == spec.epochs
        accuracy = EARLY if not last else LATE if spec.params["activation"] == "elu" else FINAL
        report(Progress("training", epoch, spec.epochs, 1.0, {"val_accuracy": accuracy}))
        if reason:
            break
    if not reason and hooks.should_prune:  # a flag raised after the last epoch still
        time.sleep(SETTLE)                  # reaches a real trainer: it reads it at epoch end
        reason = hooks.should_prune()
    (out / "metrics.json").write_text("{}")
    return TrialResult(
        status="pruned" if reason else "completed", params=dict(spec.params), dataset={},
        epochs_run=epochs_run, val_accuracy=accuracy, val_loss=0.3, test_accuracy=None,
        test_loss=None, health=None, health_score=None, total_score=accuracy,
        objective="simple", param_count=0, architecture_summary="paced stand-in",
        timings={"training": epochs_run * ticks * TICK}, plots=[], artifacts=["metrics.json"],
        prune_reason=reason, pruned_at_epoch=epochs_run if reason else None,
    )


@shared_task(name=TRAIN_TRIAL, acks_late=True, reject_on_worker_lost=True)
def paced_trial_task(job_id: str, number: int, spec: dict[str, Any]) -> dict[str, Any]:
    return run_trial(job_id, number, spec, get_services(), trainer=paced_trainer)
