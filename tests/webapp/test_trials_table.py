"""The trials table's API: sorting, filtering and paging on the server (JSON fields included,
empty values last), the columns a job's trials have, the CSV export, and 422s by name.

Trials are written into the records as the orchestrator writes them, with gaps: a running
trial without scores, a failed one without parameters, text and boolean parameters.
Every query runs on PostgreSQL (`web`) and on SQLite (`sqlite_web`).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from benchmarks.trials_table import holdout_report
from tests.webapp.conftest import Web, body
from tests.webapp.schema import assert_documented

START = datetime(2026, 1, 1, tzinfo=UTC)
# number: status, params, val_accuracy, total_score, val_loss, gradient_health, seconds
TRIALS: dict[int, tuple[str, dict[str, Any], float | None, float | None, float | None,
                        float | None, float | None]] = {
    0: ("completed", {"learning_rate": 0.01, "activation": "relu", "batch_norm": True,
                      "dropout": 0.2}, 0.91, 0.80, 0.30, 0.9, 60),
    1: ("pruned", {"learning_rate": 0.001, "activation": "tanh", "batch_norm": False,
                   "dropout": 0.5}, 0.70, 0.60, 0.90, 0.4, 20),
    2: ("completed", {"learning_rate": 0.1, "activation": "relu", "batch_norm": False,
                      "dropout": 0.1}, 0.95, 0.85, 0.20, None, 120),
    3: ("running", {"learning_rate": 0.0001, "activation": "swish", "batch_norm": True,
                    "dropout": 0.3}, None, None, None, None, None),
    4: ("failed", {}, None, None, None, None, 5),
    5: ("completed", {"learning_rate": 0.05, "activation": "tanh", "batch_norm": True,
                      "dropout": 0.3}, 0.88, 0.90, 0.25, 0.7, 90),
}


@pytest.fixture(params=["postgresql", "sqlite"])
def table(request: pytest.FixtureRequest) -> tuple[Web, str, dict[str, str]]:
    """A job with `TRIALS`, on either database, and the headers of a caller who may see it."""
    web: Web = request.getfixturevalue("web" if request.param == "postgresql" else "sqlite_web")
    _, secret = web.token()
    job_id = web.submit(secret, trials=6)["id"]
    for number, (status, params, accuracy, score, loss, gradient, seconds) in TRIALS.items():
        web.records.upsert_trial(
            job_id, number, status=status, params=params, val_accuracy=accuracy,
            total_score=score, metrics=None if loss is None else {"val_loss": loss},
            health=None if gradient is None else {"gradient_health": gradient},
            started_at=START if seconds is not None else None,
            finished_at=START + timedelta(seconds=seconds) if seconds is not None else None)
    web.records.upsert_trial(job_id, 0, holdout=holdout_report(0.89))
    return web, job_id, web.bearer(secret)


def numbers(web: Web, job_id: str, headers: dict[str, str], query: str) -> list[int]:
    response = web.client.get(f"/api/v1/jobs/{job_id}/trials?{query}", headers=headers)
    data = body(response)
    assert response.status_code == 200, data
    assert_documented("/api/v1/jobs/{job_id}/trials", "GET", 200, data)
    return [t["number"] for t in data["trials"]]


@pytest.mark.parametrize(("query", "expected"), [
    ("", [0, 1, 2, 3, 4, 5]),
    ("sort=-number", [5, 4, 3, 2, 1, 0]),
    ("sort=-total_score", [5, 2, 0, 1, 3, 4]),  # empty last, then by number
    ("sort=total_score", [1, 0, 2, 5, 3, 4]),
    ("sort=val_loss", [2, 5, 0, 1, 3, 4]),
    ("sort=-health.gradient_health", [0, 5, 1, 2, 3, 4]),
    ("sort=holdout_accuracy", [0, 1, 2, 3, 4, 5]),
    ("sort=-duration", [2, 5, 0, 1, 4, 3]),
    ("sort=params.learning_rate", [3, 1, 0, 5, 2, 4]),
    ("sort=-params.dropout", [1, 3, 5, 0, 2, 4]),
    ("sort=params.activation", [0, 2, 3, 1, 5, 4]),
    ("sort=-params.batch_norm", [0, 3, 5, 1, 2, 4]),
    ("sort=params.nowhere", [0, 1, 2, 3, 4, 5]),
    ("sort=status", [0, 2, 5, 4, 1, 3]),
])
def test_sorts_by_every_kind_of_column_with_empty_values_last(
        table: tuple[Web, str, dict[str, str]], query: str, expected: list[int]) -> None:
    assert numbers(*table, query) == expected


@pytest.mark.parametrize(("query", "expected"), [
    ("status=completed,pruned", [0, 1, 2, 5]),
    ("min.val_accuracy=0.9", [0, 2]),
    ("min.val_accuracy=0.7&max.val_accuracy=0.9", [1, 5]),
    ("max.params.dropout=0.3&sort=-params.dropout", [3, 5, 0, 2]),
    ("min.params.learning_rate=1e-2", [0, 2, 5]),
    ("params.activation=relu,swish", [0, 2, 3]),
    ("params.batch_norm=true&status=completed", [0, 5]),
    ("min.health.gradient_health=0.5", [0, 5]),
    ("max.duration=60", [0, 1, 4]),
    ("min.params.activation=0", []),  # a text parameter has no numbers
    ("params.learning_rate=0.01", []),  # a number parameter has no texts
    ("min.val_accuracy=1&max.val_accuracy=0", []),
])
def test_filters_narrow_the_trials(table: tuple[Web, str, dict[str, str]], query: str,
                                   expected: list[int]) -> None:
    assert numbers(*table, query) == expected


def test_pages_of_a_sorted_filtered_list_count_and_never_overlap(
        table: tuple[Web, str, dict[str, str]]) -> None:
    web, job_id, headers = table
    url = f"/api/v1/jobs/{job_id}/trials?sort=-val_accuracy&min.params.dropout=0&per_page=2"
    pages = [body(web.client.get(f"{url}&page={n}", headers=headers)) for n in (1, 2, 3)]
    assert [[t["number"] for t in p["trials"]] for p in pages] == [[2, 0], [5, 1], [3]]
    assert {p["total"] for p in pages} == {5}
    assert pages[0]["trials"][0] == web.records.get_trial(job_id, 2).to_dict()


@pytest.mark.parametrize(("query", "names"), [
    ("sort=bogus", {"sort"}),
    ("sort=-", {"sort"}),
    ("sort=params.bad-name", {"sort"}),
    ("status=completed,sleeping", {"status"}),
    ("status=", {"status"}),
    ("min.val_accuracy=high", {"min.val_accuracy"}),
    ("max.params.dropout=nan", {"max.params.dropout"}),
    ("max.params.dropout=inf", {"max.params.dropout"}),
    ("min.status=1", {"min.status"}),
    ("min.nothing=1", {"min.nothing"}),
    ("params.activation=", {"params.activation"}),
    ("params.bad-name=x", {"params.bad-name"}),
    ("per_page=x&sort=nope&colour=red", {"per_page", "sort", "colour"}),
])
def test_every_bad_value_is_refused_naming_its_parameter(
        table: tuple[Web, str, dict[str, str]], query: str, names: set[str]) -> None:
    web, job_id, headers = table
    response = web.client.get(f"/api/v1/jobs/{job_id}/trials?{query}", headers=headers)
    data = body(response)
    assert response.status_code == 422, data
    assert_documented("/api/v1/jobs/{job_id}/trials", "GET", 422, data)
    assert set(data["fields"]) == names


def test_the_columns_are_the_fixed_ones_then_the_jobs_parameters(
        table: tuple[Web, str, dict[str, str]]) -> None:
    web, job_id, headers = table
    data = body(web.client.get(f"/api/v1/jobs/{job_id}/trials/columns", headers=headers))
    assert_documented("/api/v1/jobs/{job_id}/trials/columns", "GET", 200, data)
    columns = {c["name"]: c for c in data["columns"]}
    assert list(columns)[:3] == ["number", "status", "duration"]
    assert "health.gradient_health" in columns and "holdout_accuracy" in columns
    assert [c for c in columns if c.startswith("params.")] == [
        "params.activation", "params.batch_norm", "params.dropout", "params.learning_rate"]
    assert columns["params.activation"] == {"name": "params.activation", "kind": "text",
                                            "values": ["relu", "swish", "tanh"]}
    assert columns["params.batch_norm"]["values"] == ["false", "true"]
    assert columns["params.dropout"] == {"name": "params.dropout", "kind": "number"}
    assert "completed" in columns["status"]["values"]


def csv_rows(response: Any) -> list[list[str]]:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_the_csv_has_the_chosen_columns_of_every_matching_trial_in_order(
        table: tuple[Web, str, dict[str, str]]) -> None:
    web, job_id, headers = table
    response = web.client.get(
        f"/api/v1/jobs/{job_id}/trials.csv?sort=-total_score&status=completed,running"
        "&columns=number,params.activation,total_score,val_loss,duration,holdout_accuracy",
        headers=headers)
    assert response.is_streamed
    assert f'filename="onegin-{job_id}-trials.csv"' in response.headers["Content-Disposition"]
    assert csv_rows(response) == [
        ["number", "params.activation", "total_score", "val_loss", "duration",
         "holdout_accuracy"],
        ["5", "tanh", "0.9", "0.25", "90.0", ""],
        ["2", "relu", "0.85", "0.2", "120.0", ""],
        ["0", "relu", "0.8", "0.3", "60.0", "0.89"],
        ["3", "swish", "", "", "", ""],
    ]


def test_the_csv_defaults_to_every_column_and_refuses_what_the_list_refuses(
        table: tuple[Web, str, dict[str, str]]) -> None:
    web, job_id, headers = table
    url = f"/api/v1/jobs/{job_id}/trials.csv"
    rows = csv_rows(web.client.get(url, headers=headers))
    assert rows[0][:3] == ["number", "status", "duration"]
    assert rows[0][-4:] == ["params.activation", "params.batch_norm", "params.dropout",
                            "params.learning_rate"]
    assert [r[0] for r in rows[1:]] == ["0", "1", "2", "3", "4", "5"]
    assert rows[1][-4:] == ["relu", "true", "0.2", "0.01"]
    for query, names in [("columns=number,nope", {"columns"}), ("columns=", {"columns"}),
                         ("page=2&sort=x", {"page", "sort"}),
                         ("min.val_accuracy=x", {"min.val_accuracy"})]:
        response = web.client.get(f"{url}?{query}", headers=headers)
        assert response.status_code == 422, query
        assert_documented("/api/v1/jobs/{job_id}/trials.csv", "GET", 422, body(response))
        assert set(body(response)["fields"]) == names, query


def test_someone_elses_job_has_no_table(table: tuple[Web, str, dict[str, str]]) -> None:
    web, job_id, _ = table
    _, stranger = web.token("stranger")
    for path in ("trials?sort=-total_score", "trials.csv", "trials/columns"):
        response = web.client.get(f"/api/v1/jobs/{job_id}/{path}", headers=web.bearer(stranger))
        assert response.status_code == 404, path
