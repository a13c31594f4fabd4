"""The runner's write-behind bookkeeping on the real record store (SQLite in tmp_path):
a burst of writes for one trial costs one write, and an outage keeps a write queued."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis.exceptions

from onegin.records import RecordStore
from orchestrator.write_behind import WriteBehind


@pytest.fixture
def records(tmp_path: Path) -> RecordStore:
    return RecordStore(f"sqlite:///{tmp_path}/records.db", upgrade=True)


def test_writes_of_one_trial_merge_into_one_and_the_newest_value_wins(
        records: RecordStore) -> None:
    job = records.create_job({"dataset": "digits", "trials": 2})
    behind = WriteBehind(records, job.id)
    behind.record_later(0, status="queued", worker=None)
    behind.record_later(1, status="queued")
    behind.record_later(0, status="running", worker="gpu:1")
    assert len(behind) == 2  # one per trial
    behind.write_next()
    assert records.get_trial(job.id, 0).status == "running"
    assert records.get_trial(job.id, 0).worker == "gpu:1"
    behind.write_record(1, status="completed")  # now, with what was queued for it
    assert records.get_trial(job.id, 1).status == "completed"
    behind.write_all()  # the queued write of trial 1 has nothing left to write
    assert not behind and records.get_trial(job.id, 1).status == "completed"


def test_an_outage_keeps_a_write_queued_and_another_error_drops_it(
        records: RecordStore) -> None:
    job = records.create_job({"dataset": "digits", "trials": 1})
    behind = WriteBehind(records, job.id)
    outages = [redis.exceptions.ConnectionError("Redis is restarting")]

    def during_outage() -> None:
        if outages:
            raise outages.pop()

    def broken() -> None:
        raise ValueError("a write that can never go through")

    behind.later(during_outage)
    behind.later(broken)
    behind.record_later(0, status="queued")
    with pytest.raises(redis.exceptions.ConnectionError):
        behind.write_through_outage()
    assert len(behind) == 3  # nothing lost while the service is away
    behind.write_through_outage()  # back: the broken one is dropped, the rest written
    assert not behind and records.get_trial(job.id, 0).status == "queued"
