"""The terminal view of a job says when it waits for GPU workers (fed by real events)."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from onegin.display import JobDisplay
from onegin.events import make_event
from onegin.events.local import LocalEventBus


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
