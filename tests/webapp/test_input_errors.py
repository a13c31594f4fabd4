"""Bad input gets a 4xx naming the field and the reason, never a 5xx: each case the
fuzzer found (issue 11), and the OpenAPI document stating the bounds the server keeps."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import BaseWSGIServer, make_server

from onegin.datasets import DATASETS
from onegin.records.store import TRIAL_NUMBER_MAX
from onegin.scoring import HEALTH_COMPONENTS
from tests.webapp.conftest import Web, WebFactory, body
from tests.webapp.schema import assert_documented
from webapp.pagination import MAX_PAGE

HUGE = "219710638991178080"


@pytest.fixture
def job(web: Web) -> tuple[Web, str, dict[str, str]]:
    _, secret = web.token()
    job_id = web.submit(secret)["id"]
    web.records.upsert_trial(job_id, 0, status="completed")
    return web, job_id, web.bearer(secret)


def post_job(web: Web, headers: dict[str, str], data: Any) -> Any:
    return web.client.post("/api/v1/jobs", headers=headers, json=data)


@pytest.mark.parametrize("path", ["/api/v1/jobs", "/api/v1/jobs/{job}/trials"])
@pytest.mark.parametrize(("page", "reason"), [
    (HUGE, f"must be between 1 and {MAX_PAGE}, got '{HUGE}'"),
    (str(2**63), f"must be between 1 and {MAX_PAGE}, got '{2**63}'"),
    ("9" * 5000, f"must be between 1 and {MAX_PAGE}, got '{'9' * 59}…"),
    ("0", f"must be between 1 and {MAX_PAGE}, got '0'"),
    ("1.5", "must be an integer, got '1.5'"),
    ("", "must be an integer, got ''"),
    ("١", "must be an integer, got '١'"),
])
def test_pages_out_of_range_are_422_naming_page(job: tuple[Web, str, dict[str, str]],
                                                path: str, page: str, reason: str) -> None:
    web, job_id, headers = job
    url = path.format(job=job_id)
    response = web.client.get(url, query_string={"page": page}, headers=headers)
    assert response.status_code == 422
    assert body(response)["fields"] == {"page": reason}
    largest = web.client.get(url, query_string={"page": MAX_PAGE, "per_page": 500},
                             headers=headers)
    assert largest.status_code == 200 and body(largest)["page"] == MAX_PAGE


@pytest.mark.parametrize(("path", "takes"), [("/api/v1/jobs", "page, per_page, q, status, "
                                              "dataset, objective, kind"),
                                             ("/api/v1/jobs/{job}/trials",
                                              "page, per_page, sort, status, min.<column>, "
                                              "max.<column>, params.<name>")])
def test_a_query_parameter_a_list_lacks_is_422_naming_it(job: tuple[Web, str, dict[str, str]],
                                                         path: str, takes: str) -> None:
    web, job_id, headers = job
    response = web.client.get(path.format(job=job_id), query_string={"perpage": "5"},
                              headers=headers)
    assert response.status_code == 422
    assert body(response)["fields"] == {"perpage": f"is not a parameter of this list (it takes "
                                                   f"{takes})"}


@pytest.mark.parametrize("status", ["", "Completed", "x" * 100])
def test_a_trial_status_filter_must_be_a_status(job: tuple[Web, str, dict[str, str]],
                                                status: str) -> None:
    web, job_id, headers = job
    response = web.client.get(f"/api/v1/jobs/{job_id}/trials", query_string={"status": status},
                              headers=headers)
    assert response.status_code == 422
    assert body(response)["fields"]["status"].startswith("must be one of queued, ")


def test_no_body_at_all_is_a_job_of_the_defaults(web: Web) -> None:
    _, secret = web.token()
    response = web.client.post("/api/v1/jobs", headers=web.bearer(secret))
    assert response.status_code == 201 and body(response)["config"]["trials"] == 8
    doc = body(web.client.get("/api/v1/openapi.json"))
    assert doc["paths"]["/api/v1/jobs"]["post"]["requestBody"]["required"] is False


@pytest.mark.parametrize("number", [TRIAL_NUMBER_MAX + 1, 2**63, 2**80])
@pytest.mark.parametrize("suffix", ["", "/artifacts", "/artifacts/metrics.json"])
def test_trial_numbers_beyond_any_trial_are_404(job: tuple[Web, str, dict[str, str]],
                                                number: int, suffix: str) -> None:
    web, job_id, headers = job
    response = web.client.get(f"/api/v1/jobs/{job_id}/trials/{number}{suffix}",
                              headers=headers)
    assert response.status_code == 404
    assert body(response) == {"error": "trial not found"}


def test_the_store_refuses_numbers_past_its_columns(web: Web) -> None:
    from onegin.records import InvalidField, RecordNotFound

    _, secret = web.token()
    job_id = web.submit(secret)["id"]
    for number in (-1, TRIAL_NUMBER_MAX + 1, 2**63):
        with pytest.raises(RecordNotFound):
            web.records.get_trial(job_id, number)
    for paging in ({"offset": 2**63}, {"limit": 2**63}):
        with pytest.raises(InvalidField, match="must be an integer from"):
            web.records.list_jobs(**paging)
        with pytest.raises(InvalidField, match="must be an integer from"):
            web.records.list_trials(job_id, **paging)


@pytest.mark.parametrize("job_id", ["%00", "abc%00def", "x" * 33, "a.b"])
def test_job_ids_no_job_can_have_are_404(web: Web, job_id: str) -> None:
    _, secret = web.token()
    response = web.client.get(f"/api/v1/jobs/{job_id}", headers=web.bearer(secret))
    assert response.status_code == 404 and body(response) == {"error": "job not found"}


@pytest.mark.parametrize(("weights", "fields"), [
    (True, {"weights": "must be a mapping with accuracy and/or health, got True"}),
    (5, {"weights": "must be a mapping with accuracy and/or health, got 5"}),
    ("even", {"weights": "must be a mapping with accuracy and/or health, got 'even'"}),
    ({"health": 5}, {"weights.health": "must be a mapping of health component to weight, "
                                       "got 5"}),
    ({"health": dict.fromkeys(HEALTH_COMPONENTS, 0)},
     {"weights.health": "must sum to 1, got 0"}),
    ({"accuracy": True, "health": dict.fromkeys(HEALTH_COMPONENTS, "x")},
     {"weights.accuracy": "must be a number, got True"}
     | {f"weights.health.{c}": "must be a number, got 'x'" for c in HEALTH_COMPONENTS}),
])
def test_weights_of_any_type_are_422_naming_each_part(web: Web, weights: Any,
                                                      fields: dict[str, str]) -> None:
    token, secret = web.token()
    response = post_job(web, web.bearer(secret), {"weights": weights})
    assert response.status_code == 422
    assert_documented("/api/v1/jobs", "POST", 422, body(response))
    assert body(response)["fields"] == fields
    assert web.records.list_jobs(owner=token.id)[1] == 0


def test_every_bad_parameter_is_named_at_once(web: Web) -> None:
    _, secret = web.token()
    response = post_job(web, web.bearer(secret), {"params": {
        "colour": 1, "conv_layers": "two", "dropout": 10**400, "filters": {"low": 0},
        "activation": {"choices": []}, "kernel_size": 3}})
    assert response.status_code == 422
    fields = body(response)["fields"]
    assert set(fields) == {"params.colour", "params.conv_layers", "params.dropout",
                           "params.filters.low", "params.activation"}
    assert fields["params.conv_layers"] == "'two' is not an integer within [1, 4]"
    assert fields["params.colour"].startswith("unknown parameter for image models; known: ")


def test_bad_schedule_settings_are_named(web: Web) -> None:
    _, secret = web.token()
    response = post_job(web, web.bearer(secret), {"params": {
        "lr_schedule": "linear", "lr_step_epochs": 2, "early_stopping": "yes",
        "early_stopping_patience": 0}})
    assert response.status_code == 422
    fields = body(response)["fields"]
    assert fields["params.lr_schedule"] == (
        "'linear' is not one of ['constant', 'cosine', 'exponential', 'step', 'plateau']")
    assert fields["params.early_stopping"] == "'yes' is not one of [False, True]"
    assert fields["params.early_stopping_patience"] == "0 is not an integer within [1, 50]"
    # the step schedule's own setting, in a job that never searches the step schedule
    assert fields["params.lr_step_epochs"].startswith(
        "applies only when lr_schedule is one of ['step']")


@pytest.mark.parametrize(("data", "fields"), [
    ({"dataset": ""}, {"dataset": f"unknown dataset ''; known: {', '.join(DATASETS)}"}),
    ({"name": "a\x00b"}, {"name": "must be a string of at most 200 characters without "
                                  "control characters"}),
    ({"continue_from": "ab\x00"}, {"continue_from": "must be the id of an earlier job, "
                                                    "got 'ab\\x00'"}),
    ({"trials": 2.5}, {"trials": "must be an integer, got 2.5"}),
    ({"trials": "8"}, {"trials": "must be an integer, got '8'"}),
    ({"seed": 10**30}, {"seed": "must be between 0 and 2147483647, got "
                                "1000000000000000000000000000000"}),
    ({"params": [1]}, {"params": "must be a mapping of parameter name to value or range"}),
    ({"params": False}, {"params": "must be a mapping of parameter name to value or range"}),
    ({"params": ""}, {"params": "must be a mapping of parameter name to value or range"}),
    ({"initial_params": False}, {"initial_params": "must be a list of at most 100 parameter "
                                                   "mappings"}),
    ({"initial_params": {}}, {"initial_params": "must be a list of at most 100 parameter "
                                                "mappings"}),
    ({"objective": ["health"]}, {"objective": "must be one of simple, health, pareto, got "
                                               "['health']"}),
])
def test_wrong_types_and_values_are_422_naming_the_field(web: Web, data: dict[str, Any],
                                                         fields: dict[str, str]) -> None:
    token, secret = web.token()
    response = post_job(web, web.bearer(secret), data)
    assert response.status_code == 422 and body(response)["fields"] == fields
    assert web.records.list_jobs(owner=token.id)[1] == 0


def test_numbers_too_large_for_a_float_are_422(web: Web) -> None:
    _, secret = web.token()
    response = web.client.post("/api/v1/jobs", data='{"time_limit": 1e400}',
                               headers=web.bearer(secret), content_type="application/json")
    assert response.status_code == 422 and body(response)["fields"] == {
        "time_limit": "must be a positive number of seconds, at most 3.1536e+08, got inf"}


def test_integral_numbers_count_as_integers_and_against_limits(
        web_factory: WebFactory) -> None:
    web = web_factory(limit_max_trials=20)
    _, secret = web.token()
    accepted = post_job(web, web.bearer(secret), {"trials": 12.0, "epochs": 1.0})
    assert accepted.status_code == 201 and body(accepted)["config"]["trials"] == 12
    over = post_job(web, web.bearer(secret), {"trials": 21.0})
    assert over.status_code == 422 and body(over)["limits"] == {"trials": 20}


@pytest.mark.parametrize(("payload", "status", "answer"), [
    (b"null", 422, {"error": "validation failed",
                    "fields": {"body": "must be a JSON object, got null"}}),
    (b"3", 422, {"error": "validation failed",
                 "fields": {"body": "must be a JSON object, got a number"}}),
    (b'{"trials": NaN}', 400, {"error": "the request body is not valid JSON"}),
    (b"[" * 200_000, 400, {"error": "the request body is not valid JSON"}),
    (b"\xff{}", 400, {"error": "the request body is not valid JSON"}),
])
@pytest.mark.parametrize("path", ["/api/v1/jobs", "/api/v1/session"])
def test_bodies_that_are_no_json_object(web: Web, payload: bytes, status: int,
                                        answer: dict[str, Any], path: str) -> None:
    _, secret = web.token()
    response = web.client.post(path, data=payload, content_type="application/json",
                               headers=web.bearer(secret))
    assert response.status_code == status and body(response) == answer
    assert_documented(path, "POST", status, body(response))


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          None])
@pytest.mark.parametrize("path", ["/api/v1/jobs", "/api/v1/session"])
def test_bodies_not_sent_as_json_are_415(web: Web, content_type: str | None,
                                         path: str) -> None:
    token, secret = web.token()
    headers = web.bearer(secret) | ({"Content-Type": content_type} if content_type else {})
    response = web.client.post(path, data='{"trials": 1}', headers=headers)
    assert response.status_code == 415
    assert body(response)["error"] == ("the request body must be JSON: send Content-Type: "
                                       "application/json")
    assert_documented(path, "POST", 415, body(response))
    suffixed = web.client.post(path, data="{}", headers=web.bearer(secret) | {
        "Content-Type": "application/merge-patch+json; charset=utf-8"})
    assert suffixed.status_code != 415  # any JSON media type is JSON
    assert web.records.list_jobs(owner=token.id)[1] == (1 if path.endswith("jobs") else 0)


@pytest.fixture
def served(web_factory: WebFactory) -> Iterator[tuple[Web, int]]:
    """An app with a 2 KiB body limit behind a real HTTP server, which de-chunks bodies."""
    web = web_factory(max_request_bytes=2048)
    server: BaseWSGIServer = make_server("127.0.0.1", 0, web.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield web, server.server_port
    server.shutdown()
    thread.join(timeout=10)


def post_chunked(port: int, secret: str, payload: bytes) -> tuple[int, Any]:
    """POST ``payload`` in 512-byte chunks with no Content-Length."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", "/api/v1/jobs", body=iter(
            [payload[i:i + 512] for i in range(0, len(payload), 512)]),
            headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json",
                     "Transfer-Encoding": "chunked"}, encode_chunked=True)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def padded(size: int) -> bytes:
    """A valid job request of exactly ``size`` bytes (spaces before the closing brace)."""
    core = b'{"trials": 1, "epochs": 1'
    return core + b" " * (size - len(core) - 1) + b"}"


def test_chunked_bodies_over_the_limit_are_413(served: tuple[Web, int]) -> None:
    web, port = served
    token, secret = web.token()
    status, answer = post_chunked(port, secret, b'{"name": "' + b"x" * 1_572_864 + b'"}')
    assert status == 413 and answer == {"error": "request body too large", "limit_bytes": 2048}
    assert post_chunked(port, secret, padded(2049))[0] == 413
    status, job = post_chunked(port, secret, padded(2048))
    assert status == 201 and job["config"]["trials"] == 1
    assert [j.id for j in web.records.list_jobs(owner=token.id)[0]] == [job["id"]]


def test_the_document_states_the_servers_bounds(web_factory: WebFactory) -> None:
    web = web_factory(limit_max_trials=20, limit_max_epochs=5, limit_max_concurrency=4)
    doc = body(web.client.get("/api/v1/openapi.json"))
    request = doc["components"]["schemas"]["JobRequest"]["properties"]
    registered, uploaded = request["dataset"]["anyOf"]
    assert registered["enum"] == list(DATASETS)
    assert uploaded["pattern"] == "^upload:[0-9a-f]{16}$"
    assert (request["trials"]["maximum"], request["epochs"]["maximum"],
            request["concurrency"]["maximum"]) == (20, 5, 4)
    assert request["name"]["maxLength"] == 200 and "pattern" in request["name"]
    health = doc["components"]["schemas"]["JobRequest"]["properties"]["weights"]["properties"][
        "health"]
    assert health["required"] == list(HEALTH_COMPONENTS)
    assert all(p == {"type": "number", "minimum": 0, "maximum": 1}
               for p in health["properties"].values())
    assert "sum to 1" in health["description"]
    parameters = doc["components"]["parameters"]
    assert parameters["Page"]["schema"]["maximum"] == MAX_PAGE
    assert parameters["TrialNumber"]["schema"]["maximum"] == TRIAL_NUMBER_MAX
    assert parameters["JobId"]["schema"]["pattern"] == "^[0-9A-Za-z_-]{1,32}$"
    jobs_post = doc["paths"]["/api/v1/jobs"]["post"]["responses"]
    assert {"400", "413", "415", "422"} <= set(jobs_post)
    assert doc["security"] == [{"bearerAuth": []}, {"sessionCookie": []}]
    open_doc = body(web_factory(auth="off").client.get("/api/v1/openapi.json"))
    assert {} in open_doc["security"]  # anonymous calls are allowed too


def test_a_csrf_header_with_any_characters_is_403(web: Web) -> None:
    _, secret = web.token()
    signed_in = web.client.post("/api/v1/session", json={"token": secret})
    assert signed_in.status_code == 200
    for given in ("é", "\u00ff" * 50, "x"):
        response = post_job(web, {"X-CSRF-Token": given}, {"trials": 1})
        assert response.status_code == 403
        assert body(response) == {"error": "missing or wrong X-CSRF-Token header"}
    csrf = body(signed_in)["csrf_token"]
    assert post_job(web, {"X-CSRF-Token": csrf}, {"trials": 1}).status_code == 201


@pytest.mark.parametrize(("token", "status"), [("", 422), (5, 422), (None, 422),
                                               ("   ", 401), ("\x1f", 401), ("nope", 401)])
def test_sign_in_with_no_token_is_422_and_a_wrong_one_401(web: Web, token: Any,
                                                          status: int) -> None:
    response = web.client.post("/api/v1/session", json={"token": token})
    assert response.status_code == status
    assert_documented("/api/v1/session", "POST", status, body(response))
