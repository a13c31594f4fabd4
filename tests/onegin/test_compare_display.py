"""`onegin compare`'s lines while it runs: one per run as it starts and as it ends."""

from __future__ import annotations

from pathlib import Path

import pytest

from onegin.compare_display import ComparisonDisplay, run_lines
from onegin.records import RecordStore, open_record_store


@pytest.fixture
def records(tmp_path: Path) -> RecordStore:
    return open_record_store(f"sqlite:///{tmp_path / 'records.db'}", upgrade=True)


def test_each_change_of_a_run_is_said_once(records: RecordStore) -> None:
    comparison = records.create_job({}, kind="compare")
    search = records.create_job({"objective": "simple", "seed": 4}, parent_id=comparison.id)
    retrain = records.create_job({"objective": "health", "seed": 9, "data_seed": 4},
                                 parent_id=comparison.id)
    seen: dict[str, str] = {}
    assert run_lines(seen, records.list_children(comparison.id)) == [
        f"accuracy arm, seed 4: job {search.id} queued",
        f"health arm, retrain on seed 4: job {retrain.id} queued"]
    assert run_lines(seen, records.list_children(comparison.id)) == []
    records.update_job(search.id, status="running")
    records.update_job(search.id, status="completed", best_trial_number=1, best_score=0.9,
                       best_accuracy=0.91234)
    assert run_lines(seen, records.list_children(comparison.id)) == [
        f"accuracy arm, seed 4: job {search.id} completed, best validation accuracy 0.9123"]


def test_the_display_says_the_last_changes_when_it_stops(records: RecordStore) -> None:
    comparison = records.create_job({}, kind="compare")
    said: list[str] = []
    with ComparisonDisplay(records, comparison.id, said.append):
        run = records.create_job({"objective": "health", "seed": 2}, parent_id=comparison.id)
        records.update_job(run.id, status="cancelled")
    assert said[-1] == f"health arm, seed 2: job {run.id} cancelled"
