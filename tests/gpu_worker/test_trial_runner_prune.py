"""The worker's stop flag reaches the trainer as a prune reason, and a pruned trial's
summary (what the orchestrator reads) carries the reason and its evidence (the real
`run_trial`, embedded backends, a trainer stand-in)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from gpu_worker.trial_runner import run_trial
from onegin.errors import TrialCancelled
from onegin.progress import Progress
from onegin.services import Services
from onegin.settings import load_settings
from onegin.trial_message import TrialResult, TrialSpec

SPEC: dict[str, Any] = {"dataset": "digits", "params": {"filters": 16}, "epochs": 4, "seed": 0,
                        "objective": "simple", "plot_mode": "none"}


@pytest.fixture
def services(tmp_path: Path) -> Services:
    return Services(load_settings(env={}, overrides={
        "home": str(tmp_path / "home"), "heartbeat_interval": 0.05, "heartbeat_timeout": 5.0}))


def until_pruned(job_id: str, services: Services, flag: str) -> Any:
    """Batches, asking ``should_prune`` after each as the trainer does; the flag is raised
    at batch 3; returns the pruned result the trainer would, evidence included."""

    def trainer(spec: TrialSpec, out: Path, hooks: Any) -> TrialResult:
        hooks.on_progress(Progress("training", 1, spec.epochs))
        give_up = time.monotonic() + 30
        batch = 0
        while time.monotonic() < give_up:
            batch += 1
            if batch == 3:
                services.control.request_stop(job_id, 0, flag)
            if hooks.is_cancelled():
                raise TrialCancelled("stopped")
            if reason := hooks.should_prune():
                (out / "metrics.json").write_text("{}")
                return TrialResult(
                    status="pruned", params=dict(spec.params), dataset={}, epochs_run=1,
                    val_accuracy=None, val_loss=None, test_accuracy=None, test_loss=None,
                    health=None, health_score=None, total_score=0.0, objective="simple",
                    param_count=1, architecture_summary="stand-in", timings={}, plots=[],
                    artifacts=["metrics.json"], pruned_at_epoch=1, prune_reason=reason,
                    prune_evidence={"epoch": 1, "batch": batch})
            time.sleep(0.01)
        raise AssertionError("the trial was never stopped")

    return trainer


@pytest.mark.parametrize(("flag", "reason"), [("prune", "pruner"), ("too_slow", "too_slow")])
def test_the_stop_flag_prunes_with_its_reason_and_the_summary_says_why(
        services: Services, flag: str, reason: str) -> None:
    outcome = run_trial("job-p", 0, SPEC, services, trainer=until_pruned("job-p", services, flag))
    assert outcome == {"status": "pruned"}
    summary = services.control.result("job-p", 0)
    assert summary is not None
    assert summary["prune_reason"] == reason
    assert summary["prune_evidence"]["epoch"] == 1 and summary["prune_evidence"]["batch"] >= 3
    assert summary["val_accuracy"] is None  # a non-finite metric travels as null
    json.dumps(summary, allow_nan=False)
    finished = services.events.read("job-p", None, limit=1000)[0][-1]
    assert finished["type"] == "trial_finished"
    assert finished["data"]["result"]["prune_reason"] == reason


def test_a_cancel_flag_cancels_rather_than_prunes(services: Services) -> None:
    outcome = run_trial("job-c", 0, SPEC, services,
                        trainer=until_pruned("job-c", services, "cancel"))
    assert outcome == {"status": "cancelled"}
