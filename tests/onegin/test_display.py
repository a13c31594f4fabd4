"""The terminal view of a job says when it waits for GPU workers (fed by real events)."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from onegin.display import JobDisplay
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
    lines = console.export_text().splitlines()
    assert lines == ["trial 0: completed  score 0.8125  val acc 0.7500",
                     "trial 1: pruned (diverged)  val acc 0.5000",
                     "trial 2: completed  score 0.0000",
                     "trial 3: error (worker lost)"]
