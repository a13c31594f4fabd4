from __future__ import annotations

import pytest

from orchestrator import policy


@pytest.mark.parametrize(
    ("counted", "in_flight", "budget", "concurrency", "expected"),
    [
        (0, 0, 8, 2, 2),   # start: fill the concurrency
        (0, 2, 8, 2, 0),   # full
        (5, 1, 8, 2, 1),   # one slot free
        (6, 1, 8, 4, 1),   # budget caps before concurrency: never overshoot
        (7, 1, 8, 4, 0),
        (8, 0, 8, 4, 0),   # done
        (0, 0, 3, 8, 3),
    ],
)
def test_slots_never_exceed_budget_or_concurrency(counted, in_flight, budget, concurrency,
                                                  expected) -> None:
    assert policy.slots_to_fill(counted, in_flight, budget, concurrency) == expected


def test_no_slots_once_not_accepting() -> None:
    assert policy.slots_to_fill(0, 0, 8, 2, accepting=False) == 0


def test_lost_only_after_a_stale_heartbeat() -> None:
    assert not policy.is_lost(None, 100.0, 30.0)  # never started: waiting in the queue
    assert not policy.is_lost(80.0, 100.0, 30.0)
    assert policy.is_lost(69.0, 100.0, 30.0)


def test_failures_give_up_eventually() -> None:
    assert not policy.too_many_failures(2, 1)
    assert policy.too_many_failures(3, 1)
    assert not policy.too_many_failures(15, 8)
    assert policy.too_many_failures(16, 8)


def test_worker_statuses_map_to_records() -> None:
    assert policy.trial_status("completed") == "completed"
    assert policy.trial_status("pruned") == "pruned"
    assert policy.trial_status("failed") == "failed"
    assert policy.trial_status("cancelled") == "cancelled"
    assert policy.trial_status("error") == "lost"


def test_final_status() -> None:
    assert policy.final_job_status(True, {"completed": 3}) == "cancelled"
    assert policy.final_job_status(False, {"completed": 1}) == "completed"
    assert policy.final_job_status(False, {"failed": 4}) == "failed"


def test_unstarted_trials_are_sent_again_only_after_long() -> None:
    assert not policy.needs_redispatch(0.0, 299.0, 30.0)
    assert policy.needs_redispatch(0.0, 301.0, 30.0)


@pytest.mark.parametrize(
    ("counted", "in_flight", "ready", "budget", "concurrency", "expected"),
    [
        (0, 2, 0, 8, 2, 2),  # one spare per running trial
        (0, 2, 2, 8, 2, 0),
        (5, 2, 0, 8, 2, 1),  # only the open budget
        (6, 2, 0, 8, 2, 0),
        (0, 1, 0, 1, 4, 0),
    ],
)
def test_asking_ahead_stays_inside_the_budget(counted, in_flight, ready, budget, concurrency,
                                              expected) -> None:
    ahead = policy.asks_ahead(counted, in_flight, ready, budget, concurrency)
    assert ahead == expected
    assert counted + in_flight + ready + ahead <= budget
