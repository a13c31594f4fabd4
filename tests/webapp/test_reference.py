"""Health, reference data, metrics, the JSON error shape and the OpenAPI document."""

from __future__ import annotations

import re
from typing import Any

import pytest
from openapi_spec_validator import validate

from onegin.datasets import DATASETS
from onegin.errors import ConfigErrors
from onegin.hopeless import CHANCE_MARGIN
from onegin.hyperparameters import describe as describe_hyperparameters
from onegin.job_config import FIELD_CHECKS, LEGACY_FIELDS, REQUEST_FIELDS, validate_config
from onegin.scoring import DEFAULT_HEALTH_WEIGHTS, HEALTH_COMPONENTS, ScoringWeights
from onegin.search_space import space_for
from onegin.statuses import describe as describe_statuses
from tests.webapp.conftest import Web, body
from tests.webapp.schema import assert_documented
from webapp.openapi import document

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def test_healthz_needs_no_token(web: Web) -> None:
    response = web.client.get("/api/v1/healthz")
    assert response.status_code == 200 and body(response) == {"status": "ok"}


def test_datasets_come_from_the_registry(web: Web) -> None:
    data = body(web.client.get("/api/v1/datasets"))
    assert [d["name"] for d in data["datasets"]] == list(DATASETS)
    digits = data["datasets"][0]
    assert digits == {"name": "digits", "title": DATASETS["digits"].title, "modality": "image",
                      "num_classes": 10, "input_shape": [8, 8, 1],
                      "url": DATASETS["digits"].url,
                      "description": DATASETS["digits"].description}


def test_search_space_per_modality_in_order(web: Web) -> None:
    data = body(web.client.get("/api/v1/search-space"))
    assert set(data) == {"image", "text"}
    for modality in ("image", "text"):
        assert data[modality] == space_for(modality).describe()
        assert list(data[modality]) == space_for(modality).names()


def test_search_space_lists_the_schedules_and_early_stopping(web: Web) -> None:
    """Opt-in: each is listed with every legal choice, and its own settings say when they
    apply; the OpenAPI document's job request takes them as parameters."""
    data = body(web.client.get("/api/v1/search-space"))
    for modality in ("image", "text"):
        space = data[modality]
        assert space["lr_schedule"]["allowed"] == [
            "constant", "cosine", "exponential", "step", "plateau"]
        assert space["early_stopping"]["allowed"] == [False, True]
        assert set(space["lr_decay_rate"]["ranges"]) == {"exponential", "step", "plateau"}
        assert space["lr_warmup"]["on"] == "lr_schedule"
        assert space["lr_step_epochs"]["applies_when"] == {"lr_schedule": ["step"]}
        assert space["lr_plateau_patience"]["applies_when"] == {"lr_schedule": ["plateau"]}
        assert space["early_stopping_patience"]["applies_when"] == {"early_stopping": [True]}
    request = document()["components"]["schemas"]["JobRequest"]
    names = request["properties"]["params"]["propertyNames"]["enum"]
    assert {"lr_schedule", "lr_warmup", "lr_decay_rate", "lr_step_epochs",
            "lr_plateau_patience", "early_stopping", "early_stopping_patience"} <= set(names)


def test_scoring_is_the_one_source_of_truth(web: Web) -> None:
    data = body(web.client.get("/api/v1/scoring"))
    assert data["objectives"] == ["simple", "health", "pareto"]
    assert data["components"] == list(HEALTH_COMPONENTS)
    assert data["default_weights"] == {"accuracy": 0.7, "health": dict(DEFAULT_HEALTH_WEIGHTS)}
    assert list(data["default_weights"]["health"]) == list(HEALTH_COMPONENTS)
    assert data["formula"].startswith("0.70·accuracy + 0.30·(0.25·neuron_utilization")
    assert data["formula"] == __import__("onegin.scoring").scoring.describe_formula(
        ScoringWeights())
    assert data["chance_margin"] == CHANCE_MARGIN  # the dashboard's chance-level flag


def test_statuses_are_served_from_the_one_set(web: Web) -> None:
    response = web.client.get("/api/v1/statuses")  # public: no token
    assert response.status_code == 200
    data = body(response)
    assert data == describe_statuses()
    assert data["job"]["terminal"] == ["cancelled", "completed", "failed"]
    assert data["trial"]["active"] == ["queued", "running"]
    assert_documented("/api/v1/statuses", "GET", 200, data)


@pytest.mark.parametrize(("method", "url", "status", "message"), [
    ("GET", "/api/v1/nowhere", 404, "not found"),
    ("GET", "/nowhere/at/all", 404, "not found"),
    ("PUT", "/api/v1/jobs", 405, "method not allowed"),
    ("DELETE", "/api/v1/datasets", 405, "method not allowed"),
])
def test_flask_errors_are_json(web: Web, method: str, url: str, status: int,
                               message: str) -> None:
    response = web.client.open(url, method=method)
    assert response.status_code == status
    assert body(response) == {"error": message}
    if status == 405:
        assert "GET" in response.headers["Allow"]


def test_metrics_count_requests_jobs_and_trials(web: Web) -> None:
    _, secret = web.token()
    job = web.submit(secret)
    web.records.upsert_trial(job["id"], 0, status="running")
    web.client.get("/api/v1/healthz")
    response = web.client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    text = response.get_data(as_text=True)
    assert 'onegin_http_requests_total{method="GET",route="/api/v1/healthz",status="200"} 1.0' \
        in text
    assert 'route="/api/v1/jobs",status="201"' in text
    queued = re.search(r'^onegin_jobs\{status="queued"\} (\d+)', text, re.M)
    running = re.search(r'^onegin_trials\{status="running"\} (\d+)', text, re.M)
    assert queued and int(queued.group(1)) >= 1
    assert running and int(running.group(1)) >= 1
    assert "onegin_events_relayed_total" in text and "onegin_socketio_joins_total" in text


# -- the OpenAPI document ---------------------------------------------------------------

def _document(web: Web) -> dict[str, Any]:
    response = web.client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = body(response)
    return document


def test_openapi_document_is_valid(web: Web) -> None:
    validate(_document(web))


def _routes(web: Web) -> dict[str, set[str]]:
    """Every Flask rule under /api/v1 and /metrics, as OpenAPI paths with their methods."""
    routes: dict[str, set[str]] = {}
    for rule in web.app.url_map.iter_rules():
        if not (rule.rule.startswith("/api/v1/") or rule.rule == "/metrics"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        routes.setdefault(path, set()).update((rule.methods or set()) - IGNORED_METHODS)
    return routes


def test_openapi_paths_and_methods_are_exactly_the_routes(web: Web) -> None:
    documented = {path: {m.upper() for m in item if m in {"get", "post", "put", "patch",
                                                            "delete"}}
                  for path, item in _document(web)["paths"].items()}
    assert documented == _routes(web)


def test_openapi_path_parameters_match_the_rules(web: Web) -> None:
    document = _document(web)
    parameters = document["components"]["parameters"]
    for path, item in document["paths"].items():
        names = set(re.findall(r"{([^}]+)}", path))
        for method, operation in item.items():
            declared = {parameters[p["$ref"].rsplit("/", 1)[1]]["name"]
                        for p in operation.get("parameters", [])
                        if parameters[p["$ref"].rsplit("/", 1)[1]]["in"] == "path"}
            assert declared == names, f"{method.upper()} {path}"


def test_openapi_marks_exactly_the_public_endpoints(web: Web) -> None:
    public = {(path, method) for path, item in _document(web)["paths"].items()
              for method, operation in item.items() if operation.get("security") == []}
    for path, method in public:
        concrete = path.replace("{job_id}", "x")
        response = web.client.open(concrete, method=method.upper(), json={})
        assert response.status_code != 401, f"{method.upper()} {path} is documented public"
    assert ("/api/v1/jobs", "get") not in public
    assert web.client.get("/api/v1/jobs").status_code == 401


def test_the_job_request_documents_exactly_the_fields_a_job_takes() -> None:
    request = document()["components"]["schemas"]["JobRequest"]["properties"]
    assert set(request) == set(REQUEST_FIELDS) | set(LEGACY_FIELDS)
    assert request["initial_trials"]["deprecated"] is True


@pytest.mark.parametrize("name", sorted(FIELD_CHECKS))
def test_a_job_fields_documented_bounds_are_its_checks(name: str) -> None:
    """A value just past a documented bound is refused, naming the field."""
    schema = FIELD_CHECKS[name].schema
    outside = ([schema["maximum"] + 1] if "maximum" in schema else []) + \
        (["not one of them"] if "enum" in schema else [])
    for value in outside:
        with pytest.raises(ConfigErrors) as refused:
            validate_config({name: value})
        assert name in refused.value.as_dict()


def test_hyperparameter_texts_are_served_from_the_one_source(web: Web) -> None:
    response = web.client.get("/api/v1/hyperparameters")  # public: the form reads it
    assert response.status_code == 200
    assert body(response) == {"hyperparameters": describe_hyperparameters()}
