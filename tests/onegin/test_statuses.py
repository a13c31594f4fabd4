"""The one set of statuses: the enums, the sets derived from their transition tables, and
the JSON the API serves from them."""

from __future__ import annotations

import pytest

from onegin.statuses import (
    JOB_ACTIVE,
    JOB_TERMINAL,
    JOB_TRANSITIONS,
    TRIAL_ACTIVE,
    TRIAL_TERMINAL,
    TRIAL_TRANSITIONS,
    JobStatus,
    TrialStatus,
    describe,
    is_legal,
)


def test_every_status_has_a_row_and_moves_only_to_statuses_of_its_own_entity() -> None:
    for enum, table in ((JobStatus, JOB_TRANSITIONS), (TrialStatus, TRIAL_TRANSITIONS)):
        assert list(table) == list(enum)
        assert all(isinstance(to, enum) for moves in table.values() for to in moves)


def test_terminal_and_active_sets_come_from_the_tables() -> None:
    assert {"cancelled", "completed", "failed"} == JOB_TERMINAL
    assert {"queued", "running", "cancelling"} == JOB_ACTIVE
    assert {"completed", "pruned", "failed", "lost", "cancelled"} == TRIAL_TERMINAL
    assert {"queued", "running"} == TRIAL_ACTIVE
    assert "pending" not in {*JobStatus, *TrialStatus}


def test_statuses_are_plain_strings_where_they_are_stored_and_sent() -> None:
    assert JobStatus.CANCELLING == "cancelling" and f"{TrialStatus.LOST}" == "lost"
    assert TrialStatus("pruned") is TrialStatus.PRUNED


@pytest.mark.parametrize(("table", "current", "requested", "legal"), [
    (JOB_TRANSITIONS, "queued", "running", True),
    (JOB_TRANSITIONS, "cancelling", "completed", True),
    (JOB_TRANSITIONS, "failed", "failed", True),  # staying put
    (JOB_TRANSITIONS, "completed", "running", False),
    (JOB_TRANSITIONS, "running", "queued", False),
    (TRIAL_TRANSITIONS, "queued", "completed", True),  # the result beat its started event
    (TRIAL_TRANSITIONS, "running", "lost", True),
    (TRIAL_TRANSITIONS, "completed", "running", False),
    (TRIAL_TRANSITIONS, "lost", "queued", False),  # a re-run is a new trial number
    (TRIAL_TRANSITIONS, "running", "paused", False),
])
def test_is_legal_follows_the_table(table: object, current: str, requested: str,
                                    legal: bool) -> None:
    assert is_legal(table, current, requested) is legal  # type: ignore[arg-type]


def test_describe_is_plain_json_in_lifecycle_order() -> None:
    data = describe()
    assert data["job"] == {
        "statuses": ["queued", "running", "cancelling", "cancelled", "completed", "failed"],
        "terminal": ["cancelled", "completed", "failed"],
        "active": ["queued", "running", "cancelling"],
        "transitions": {
            "queued": ["running", "cancelling", "cancelled", "failed"],
            "running": ["cancelling", "completed", "failed"],
            "cancelling": ["cancelled", "completed", "failed"],
            "cancelled": [], "completed": [], "failed": [],
        },
    }
    assert data["trial"]["statuses"] == list(TrialStatus)
    assert data["trial"]["active"] == ["queued", "running"]
    assert data["trial"]["transitions"]["running"] == [
        "completed", "pruned", "failed", "lost", "cancelled"]
    assert all(type(s) is str for s in data["trial"]["statuses"])
