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


def test_a_trials_own_failure_is_rerun_only_up_to_trial_retries() -> None:
    caps = {"trial_retries": 0, "lost_retries": 3}
    assert not policy.rerun("failed", [], **caps)  # the default: failed for good at once
    caps["trial_retries"] = 1
    assert policy.rerun("failed", [], **caps)
    assert not policy.rerun("failed", ["failed"], **caps)


def test_a_lost_trial_is_rerun_up_to_lost_retries_counting_only_losses() -> None:
    caps = {"trial_retries": 1, "lost_retries": 3}
    assert policy.rerun("lost", [], **caps)
    assert policy.rerun("lost", ["lost", "lost"], **caps)
    assert not policy.rerun("lost", ["lost", "lost", "lost"], **caps)  # a 4th loss: for good
    assert policy.rerun("lost", ["failed", "lost", "lost"], **caps)  # a failure is not a loss
    assert policy.rerun("failed", ["lost", "lost", "lost"], **caps)
    assert not policy.rerun("lost", [], trial_retries=5, lost_retries=0)


def test_only_failed_and_lost_trials_are_rerun() -> None:
    for status in ("completed", "pruned", "cancelled"):
        assert not policy.rerun(status, [], trial_retries=9, lost_retries=9)


@pytest.mark.parametrize(("statuses", "streak"), [
    ([], 0),
    (["failed", "failed"], 2),
    (["failed", "completed", "failed"], 1),  # a counted trial ends a streak
    (["failed", "pruned"], 0),
    (["failed", "lost", "cancelled", "failed"], 2),  # re-run losses and cancels are neutral
])
def test_the_failure_streak_counts_trials_failed_in_a_row(statuses, streak) -> None:
    assert policy.streak_of(statuses) == streak


def test_a_streak_at_the_limit_stops_the_job_naming_the_last_error() -> None:
    assert policy.streak_failure(2, 3, "bad data: x.png") is None
    message = policy.streak_failure(3, 3, "bad data: Cannot read image /d/a/x.png")
    assert message == "3 trials in a row failed; the last: bad data: Cannot read image /d/a/x.png"


def test_a_job_waits_for_workers_when_trials_are_sent_and_none_started() -> None:
    assert policy.waiting_since([], False, 0.0) is None  # nothing sent
    assert policy.waiting_since([10.0, 12.0], True, 0.0) is None  # a worker is on it
    assert policy.waiting_since([10.0, 12.0], False, 5.0) == 10.0  # since the oldest was sent
    assert policy.waiting_since([10.0], False, 20.0) == 20.0  # a worker was heard from since


def test_waiting_is_said_after_a_few_heartbeats_and_fails_only_past_the_timeout() -> None:
    assert not policy.is_waiting(None, 100.0, 2.0)
    assert not policy.is_waiting(95.0, 100.0, 2.0)
    assert policy.is_waiting(89.0, 100.0, 2.0)
    assert not policy.wait_timed_out(0.0, 1e9, None)  # no timeout: it waits
    assert not policy.wait_timed_out(50.0, 100.0, 60.0)
    assert policy.wait_timed_out(30.0, 100.0, 60.0)


def test_final_status() -> None:
    assert policy.final_job_status(True, {"completed": 3}) == "cancelled"
    assert policy.final_job_status(False, {"completed": 1}) == "completed"
    assert policy.final_job_status(False, {"failed": 4}) == "failed"
    assert policy.final_job_status(False, {"completed": 2}, "3 trials in a row failed") == \
        "failed"
    assert policy.final_job_status(True, {}, "3 trials in a row failed") == "cancelled"


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
