"""The terminal view of a job says when it waits for GPU workers (fed by real events)."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from onegin.display import JobDisplay, prune_detail
from onegin.events import make_event
from onegin.events.local import LocalEventBus
from onegin.trial_message import TrialResult


def test_a_job_waiting_for_workers_is_said_with_the_queue_depth(tmp_path: Path) -> None:
    console = Console(record=True, width=200)
    display = JobDisplay(LocalEventBus(tmp_path), "job-w", 4, console=console)
    waiting = {"since": "2030-01-02T03:04:05+00:00", "gpu_queue_depth": 2}
    display.show(make_event("job_status", "job-w", status="running", waiting=waiting))
    display.show(make_event("job_status", "job-w", status="running", waiting=None))
    text = console.export_text()
    assert text.count("waiting for GPU workers") == 1
    assert ("waiting for GPU workers since 2030-01-02T03:04:05+00:00: no worker has started "
            "its trials (2 trials in the GPU queue)") in text


def test_a_finished_trial_is_said_from_its_result_message(tmp_path: Path) -> None:
    console = Console(record=True, width=200)
    display = JobDisplay(LocalEventBus(tmp_path), "job-r", 4, console=console)
    results = {
        0: TrialResult(status="completed", total_score=0.8125, val_accuracy=0.75),
        1: TrialResult(status="pruned", total_score=0.1, val_accuracy=0.5,
                       prune_reason="diverged"),
        2: TrialResult(status="completed", total_score=0.0, val_accuracy=None),  # diverged
    }
    for number, result in results.items():
        display.show(make_event("trial_finished", "job-r", trial=number, status=result.status,
                                result=result.to_dict()))
    display.show(make_event("trial_finished", "job-r", trial=3, status="error", result={},
                            error="worker lost"))
    display.show(make_event("trial_finished", "job-r", trial=4, status="failed", result={},
                            error="data: KeyError: ['label']"))
    lines = console.export_text().splitlines()
    assert lines == ["trial 0: completed  score 0.8125  val acc 0.7500",
                     "trial 1: pruned (diverged)  val acc 0.5000",
                     "trial 2: completed  score 0.0000",
                     "trial 3: error (worker lost)",
                     "trial 4: failed (data: KeyError: ['label'])"]


def test_a_pruned_trial_says_what_it_measured_against_its_limit(tmp_path: Path) -> None:
    console = Console(record=True, width=200)
    display = JobDisplay(LocalEventBus(tmp_path), "job-p", 4, console=console)
    results = {
        0: TrialResult(status="pruned", total_score=0.0, val_accuracy=0.11, pruned_at_epoch=2,
                       prune_reason="chance",
                       prune_evidence={"val_accuracy": 0.11, "chance": 0.107,
                                       "accuracy_limit": 0.117, "val_loss": 2.31,
                                       "prior_loss": 2.302, "loss_limit": 2.233, "epoch": 2}),
        1: TrialResult(status="pruned", total_score=0.0, pruned_at_epoch=1,
                       prune_reason="diverged",
                       prune_evidence={"loss": "nan", "limit": 230.2585}),
        2: TrialResult(status="pruned", total_score=0.0, pruned_at_epoch=1,
                       prune_reason="diverged",
                       prune_evidence={"loss": 12345.678, "limit": 230.2585}),
        3: TrialResult(status="pruned", total_score=0.0, val_accuracy=0.4, pruned_at_epoch=3,
                       prune_reason="pruner", prune_evidence={"epoch": 3}),  # no threshold
        4: TrialResult(status="completed", total_score=0.9, val_accuracy=0.95, stopped_epoch=7),
    }
    for number, result in results.items():
        display.show(make_event("trial_finished", "job-p", trial=number, status=result.status,
                                result=result.to_dict()))
    assert console.export_text().splitlines() == [
        "trial 0: pruned (chance) at epoch 2  val acc 0.1100  "
        "[val acc 11.0% <= 11.7%, val loss 2.310 >= 2.233: chance level]",
        "trial 1: pruned (diverged) at epoch 1  [training loss nan, limit 230.3]",
        "trial 2: pruned (diverged) at epoch 1  [training loss 1.235e+04, limit 230.3]",
        "trial 3: pruned (pruner) at epoch 3  val acc 0.4000",
        "trial 4: completed  score 0.9000  val acc 0.9500  early-stopped at epoch 7"]


def test_the_records_pruner_and_pace_evidence_read_in_short() -> None:
    assert prune_detail("pruner", {"rule": "median", "value": 0.41, "threshold": 0.55}) == \
        "best val acc 41.0% < 55.0% (median)"
    assert prune_detail("too_slow", {"predicted_seconds": 320.4, "limit_seconds": 240.0,
                                     "factor": 3}) == \
        "predicted 320 s > 240 s (3 x the median trial)"
    assert prune_detail("too_slow", {"predicted_seconds": None, "limit_seconds": 240.0}) == ""
    assert prune_detail("chance", {"val_accuracy": True, "accuracy_limit": 0.1,
                                   "val_loss": 1.0, "loss_limit": 1.0}) == ""
