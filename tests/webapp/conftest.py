"""Web app fixtures: a real PostgreSQL database (migrated once), local events and
artifacts under tmp_path, an in-memory Celery broker, and tokens per test.

Tests share the database but never each other's jobs: every test makes its own
tokens, and jobs are visible only to the token that made them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from onegin.records import RecordStore, TokenRecord
from onegin.records.migrate import upgrade
from onegin.services import Services
from onegin.settings import Settings, load_settings
from webapp.app import create_app
from webapp.state import EXTENSION, WebState


@pytest.fixture(scope="module")
def web_db(postgres_url: str) -> str:
    """The module's PostgreSQL database with Onegin's schema."""
    upgrade(postgres_url)
    return postgres_url


def make_settings(home: Path, database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "home": str(home), "database_url": database_url, "broker_url": "memory://",
        "auth": "required", "secret_key": "test-secret-key",
    }
    return load_settings(env={}, overrides=values | overrides)


@dataclass
class Web:
    """An app, its test client and helpers to make tokens and jobs."""

    app: Flask
    client: FlaskClient

    @property
    def state(self) -> WebState:
        found: WebState = self.app.extensions[EXTENSION]
        return found

    @property
    def services(self) -> Services:
        return self.state.services

    @property
    def records(self) -> RecordStore:
        return self.services.records

    def token(self, name: str = "tester", **limits: int | None) -> tuple[TokenRecord, str]:
        return self.records.create_token(name, **limits)

    def bearer(self, secret: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {secret}"}

    def submit(self, secret: str, **config: Any) -> dict[str, Any]:
        body = {"dataset": "digits", "trials": 2, "epochs": 1} | config
        response = self.client.post("/api/v1/jobs", json=body, headers=self.bearer(secret))
        assert response.status_code == 201, response.get_json()
        data: dict[str, Any] = response.get_json()
        return data


WebFactory = Callable[..., Web]


@pytest.fixture
def web_factory(tmp_path: Path, web_db: str) -> Iterator[WebFactory]:
    """Builds apps on PostgreSQL (or ``database_url=``) with settings ``overrides``."""
    made: list[Web] = []

    def build(database_url: str | None = None, **overrides: Any) -> Web:
        home = tmp_path / f"home{len(made)}"
        app = create_app(make_settings(home, database_url or web_db, **overrides))
        web = Web(app, app.test_client())
        made.append(web)
        return web

    yield build
    for web in made:
        web.state.close()


@pytest.fixture
def web(web_factory: WebFactory) -> Web:
    """An app with auth required, on PostgreSQL."""
    return web_factory()


@pytest.fixture
def sqlite_web(web_factory: WebFactory, tmp_path: Path) -> Web:
    """The same app on a SQLite file."""
    url = f"sqlite:///{tmp_path}/web.db"
    upgrade(url)
    return web_factory(database_url=url)


def body(response: Any) -> Any:
    """The JSON body, asserting the response is JSON."""
    assert response.content_type.startswith("application/json"), response.content_type
    return json.loads(response.get_data())
