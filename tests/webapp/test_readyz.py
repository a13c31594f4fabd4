"""Readiness: every backend answers (200), or 503 naming what failed and how."""

from __future__ import annotations

import uuid

from tests.fixtures.services import free_port
from tests.webapp.conftest import WebFactory, body
from tests.webapp.schema import assert_documented


def test_ready_on_postgres_redis_and_s3(web_factory: WebFactory, redis_url: str,
                                        s3_endpoint: str, s3_credentials: None) -> None:
    web = web_factory(broker_url=redis_url, events_url=redis_url,
                      artifacts_url=f"s3://ready-{uuid.uuid4().hex[:8]}/x",
                      s3_endpoint_url=s3_endpoint)
    response = web.client.get("/api/v1/readyz")
    assert response.status_code == 200
    data = body(response)
    assert_documented("/api/v1/readyz", "GET", 200, data)
    assert data == {"database": "ok", "broker": "ok", "events": "ok", "artifacts": "ok"}


def test_ready_on_the_embedded_backends(web_factory: WebFactory) -> None:
    response = web_factory(broker_url="filesystem://").client.get("/api/v1/readyz")
    assert response.status_code == 200


def test_unreachable_backends_are_named(web_factory: WebFactory, s3_credentials: None) -> None:
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    web = web_factory(events_url=dead_redis, artifacts_url="s3://nowhere/x",
                      s3_endpoint_url=f"http://127.0.0.1:{free_port()}")
    response = web.client.get("/api/v1/readyz")
    assert response.status_code == 503
    data = body(response)
    assert_documented("/api/v1/readyz", "GET", 503, data)
    assert data["error"] == "not ready"
    assert data["database"] == "ok" and data["broker"] == "ok"
    assert "unreachable" in data["events"] and "Connection" in data["events"]
    assert data["artifacts"] != "ok" and "nowhere" in data["artifacts"]


def test_an_unreachable_database_is_named_without_its_password(web_factory: WebFactory) -> None:
    url = f"postgresql+psycopg2://onegin:hunter2@127.0.0.1:{free_port()}/onegin"
    web = web_factory(database_url=url)
    response = web.client.get("/api/v1/readyz")
    assert response.status_code == 503
    data = body(response)
    assert data["database"].startswith("RecordStoreUnavailable")
    assert "hunter2" not in data["database"]
    assert data["artifacts"] == "ok"
