"""The load benchmark's pure summary: percentiles, memory growth, undelivered events, verdicts."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.common import markdown
from benchmarks.load import (
    Sample,
    cpu_use,
    error_counts,
    growth,
    latency_ms,
    memory_windows,
    percentile,
    rest_summary,
    schedule,
    side_by_side,
    undelivered,
    verdicts,
    window_mean,
)
from benchmarks.load_clients import Request, WatcherReport


@pytest.mark.parametrize("values", [[5.0], [3.0, 1.0], [0.4, 0.1, 9.0, 2.5, 2.5, 7.0, 0.0]])
@pytest.mark.parametrize("q", [0, 50, 95, 99, 100])
def test_percentile_is_numpys_linear_one(values: list[float], q: float) -> None:
    assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))


def test_latency_is_reported_in_milliseconds_and_empty_is_none() -> None:
    row = latency_ms([0.010, 0.020, 0.030])
    assert row["count"] == 3
    assert (row["p50_ms"], row["max_ms"]) == (pytest.approx(20.0), pytest.approx(30.0))
    assert latency_ms([]) == {"count": 0, "p50_ms": None, "p95_ms": None, "p99_ms": None,
                              "max_ms": None}


def test_window_mean_takes_only_samples_inside_the_window() -> None:
    samples = [(0.0, 100.0), (1.0, 110.0), (2.0, 120.0), (3.0, 1000.0)]
    assert window_mean(samples, 1.0, 2.0) == 115.0
    assert window_mean(samples, 5.0, 6.0) is None


def test_growth_compares_the_last_window_with_the_first() -> None:
    samples = [(t, 200.0) for t in range(10)] + [(t, 210.0) for t in range(50, 60)]
    row = growth(samples, (0, 9), (50, 59))
    assert row["growth"] == pytest.approx(0.05)
    assert (row["first_mean"], row["last_mean"]) == (200.0, 210.0)
    assert growth(samples, (20, 30), (50, 59))["growth"] is None  # nothing sampled then


def test_memory_windows_follow_the_warm_up_and_end_the_run() -> None:
    first, last = memory_windows(1000.0, 1600.0, warmup=60, window=60)
    assert first == (1060.0, 1120.0)
    assert last == (1540.0, 1600.0)
    with pytest.raises(ValueError, match="too short"):
        memory_windows(0.0, 150.0, warmup=60, window=60)


def test_undelivered_counts_each_published_event_missing_from_a_watcher() -> None:
    published = [1.0, 2.0, 2.0, 3.0]  # two events may share a timestamp
    assert undelivered(published, [1.0, 2.0, 2.0, 3.0]) == 0
    assert undelivered(published, [2.0, 3.0]) == 2
    assert undelivered(published, [1.0, 1.0, 2.0, 2.0, 3.0, 9.0]) == 0  # extras never offset


def test_rest_summary_splits_http_errors_from_missing_responses() -> None:
    rows = [Request(0.0, "job", 200, 0.01), Request(0.1, "job", 500, 0.02, "boom"),
            Request(0.2, "study", None, 10.0, "ReadTimeout"), Request(0.3, "study", 200, 0.03)]
    summary = rest_summary(rows, 0.0, 2.0)
    assert summary["overall"]["requests"] == 4
    assert (summary["overall"]["http_errors"], summary["overall"]["no_response"]) == (1, 1)
    assert summary["overall"]["rate_per_s"] == 2.0
    assert summary["by_endpoint"]["study"]["no_response"] == 1
    assert summary["by_endpoint"]["job"]["latency"]["max_ms"] == pytest.approx(20.0)


def test_every_error_kind_counts_against_the_target() -> None:
    rest = rest_summary([Request(0.0, "job", 200, 0.01)], 0.0, 1.0)
    fine = WatcherReport(joined_after_s=0.3)
    assert not any(error_counts(rest, [fine], missed=0, worker_restarts=0).values())
    dropped = WatcherReport(joined_after_s=0.3, disconnects=["transport close"])
    never = WatcherReport(connect_errors=["ConnectionError: refused"])
    errors = error_counts(rest, [fine, dropped, never], missed=4, worker_restarts=1)
    assert errors["socket_disconnects"] == 1
    assert errors["socket_connect_errors"] == 1
    assert errors["socket_never_joined"] == 1
    assert (errors["events_not_delivered"], errors["web_worker_restarts"]) == (4, 1)
    assert verdicts(errors, 50.0, 0.01)["no_errors"] is False


def test_verdicts_hold_the_targets_at_their_edges() -> None:
    none = {"http_errors": 0}
    assert verdicts(none, 100.0, 0.099) == {"no_errors": True, "event_p95_at_most_100_ms": True,
                                            "rss_growth_under_10_percent": True}
    late = verdicts({"http_errors": 1}, 100.1, 0.10)
    assert late == {"no_errors": False, "event_p95_at_most_100_ms": False,
                    "rss_growth_under_10_percent": False}
    assert verdicts(none, None, None)["event_p95_at_most_100_ms"] is False


def test_cpu_use_is_cores_kernel_share_and_run_queue_wait_over_the_run() -> None:
    first = Sample(t=100.0, rss_bytes=0, cpu_s=10.0, system_s=2.0, waiting_s=1.0,
                   worker_pids=(7,))
    last = Sample(t=110.0, rss_bytes=0, cpu_s=15.0, system_s=3.0, waiting_s=4.0,
                  worker_pids=(7,))
    assert cpu_use([first, last]) == {"cores": 0.5, "kernel_share": 0.2,
                                      "run_queue_wait_per_s": 0.3}
    assert cpu_use([first]) == {"cores": None, "kernel_share": None,
                                "run_queue_wait_per_s": None}


def test_worker_classes_alternate_round_by_round() -> None:
    assert schedule(["gthread", "gevent"], 2) == [
        ("gthread #1", "gthread"), ("gevent #1", "gevent"),
        ("gthread #2", "gthread"), ("gevent #2", "gevent")]
    assert schedule(["gevent"], 1) == [("gevent", "gevent")]


def test_runs_side_by_side_as_one_markdown_table() -> None:
    table = side_by_side([[("p95", "90"), ("errors", "0")], [("p95", "200"), ("errors", "3")]])
    assert table == [("p95", "90", "200"), ("errors", "0", "3")]
    assert markdown(table, ("figure", "gevent", "gthread")).splitlines() == [
        "| figure | gevent | gthread |", "| --- | --- | --- |",
        "| p95 | 90 | 200 |", "| errors | 0 | 3 |"]
