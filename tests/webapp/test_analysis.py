"""GET /jobs/<id>/analysis: every trial's history, and a sample of trials with their
parameters, health and learning curves, chosen so a big job stays drawable."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from tests.webapp.conftest import Web, body
from tests.webapp.schema import assert_documented
from webapp.analysis import analysis_json, keep

HEALTH = {"neuron_utilization": 0.9, "parameter_efficiency": 0.8, "training_stability": 0.7,
          "gradient_health": 0.6, "convergence_quality": 0.5, "accuracy_consistency": 0.4}


def record(number: int, status: str = "completed", score: float | None = None,
           curve: dict[str, float] | None = None) -> dict[str, Any]:
    """A trial's `webapp.analysis.FIELDS`, as `RecordStore.trial_fields` reads them."""
    return {"number": number, "status": status, "params": {"units": number},
            "val_accuracy": score, "total_score": score, "health_score": None, "health": None,
            "intermediate": curve or {}}


def test_the_job_s_trials_come_with_their_history_parameters_health_and_curves(
        web: Web) -> None:
    _, secret = web.token()
    job_id = web.submit(secret)["id"]
    web.records.upsert_trial(job_id, 0, status="completed", params={"units": 32},
                             val_accuracy=0.9, total_score=0.85, health_score=0.7,
                             health=HEALTH | {"skill": 0.8}, intermediate={"1": 0.5, "2": 0.9})
    web.records.upsert_trial(job_id, 1, status="pruned", params={"units": 8},
                             val_accuracy=0.3, total_score=0.3, intermediate={"1": 0.3})
    web.records.upsert_trial(job_id, 2, status="failed", params={"units": 4},
                             error="out of memory")
    url = f"/api/v1/jobs/{job_id}/analysis"
    data = body(web.client.get(url, headers=web.bearer(secret)))
    assert_documented("/api/v1/jobs/{job_id}/analysis", "GET", 200, data)
    assert data["total"] == 3
    assert data["history"] == [[0, "completed", 0.85], [1, "pruned", 0.3], [2, "failed", None]]
    assert data["trials"][0] == {"number": 0, "status": "completed", "params": {"units": 32},
                                 "val_accuracy": 0.9, "total_score": 0.85,
                                 "health_score": 0.7, "health": HEALTH}
    assert [t["health"] for t in data["trials"][1:]] == [None, None]
    assert data["curves"] == {"0": {"1": 0.5, "2": 0.9}, "1": {"1": 0.3}}
    _, other = web.token("someone else")
    assert web.client.get(url, headers=web.bearer(other)).status_code == 404


def test_a_big_job_keeps_the_running_the_best_and_a_spread_of_the_rest() -> None:
    trials = [record(n, score=n / 100) for n in range(100)]
    trials[7] = record(7, status="running", curve={"1": 0.2})
    kept = [t["number"] for t in keep(trials, 20)]
    assert len(kept) == 20 and kept == sorted(kept)
    assert 7 in kept  # running: its curve moves
    assert set(range(95, 100)) <= set(kept)  # the best quarter (5 of 20)
    assert kept[0] == 0 and max(b - a for a, b in pairwise(kept)) <= 10
    assert keep(trials, 20) == keep(list(trials), 20)  # the same trials, the same choice
    assert keep(trials[:5], 20) == trials[:5]


def test_curves_are_a_sample_of_the_shown_trials_and_the_history_is_whole() -> None:
    trials = [record(n, score=n / 50, curve={"1": n / 50} if n % 2 else None)
              for n in range(50)]
    data = analysis_json(trials, trials_shown=20, curves_shown=4)
    shown = {t["number"] for t in data["trials"]}
    assert len(data["history"]) == 50 and len(shown) == 20
    assert len(data["curves"]) == 4 and {int(n) for n in data["curves"]} <= shown
    assert all(int(n) % 2 for n in data["curves"])  # only trials that reported an epoch
    assert "49" in data["curves"]  # the best
