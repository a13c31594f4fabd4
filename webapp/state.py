"""What one web app holds: settings, services, metrics, and lazily the Celery app.

Stored in ``app.extensions["onegin"]`` so that several apps (tests) never share
handles. Views reach it through `state()`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flask import current_app

from onegin.services import Services
from onegin.settings import Settings
from webapp.metrics import Metrics

if TYPE_CHECKING:
    from celery import Celery

    from webapp.studies import StudyReader

EXTENSION = "onegin"
# seconds a request waits for Redis, the broker or S3 to come back before it answers 503
REQUEST_PATIENCE = 2.0
LOOPBACK_HOSTS: frozenset[str] = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def auth_required(mode: str, host: str) -> bool:
    """``auth`` setting and bind address -> must every request carry a token?"""
    if mode == "required":
        return True
    if mode == "off":
        return False
    return host.strip().lower() not in LOOPBACK_HOSTS


@dataclass
class WebState:
    settings: Settings
    services: Services
    metrics: Metrics
    auth_required: bool
    # Set when this process ends a session or revokes a token, so that its Socket.IO
    # relay checks its clients at once instead of at its next periodic check.
    credentials_revoked: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _celery: Celery | None = None
    _studies: StudyReader | None = None

    @property
    def celery(self) -> Celery:
        """The Celery app jobs are sent with (built on first use: it connects lazily anyway)."""
        with self._lock:
            if self._celery is None:
                from onegin.celery_app import create_celery

                self._celery = create_celery(self.settings, patience=REQUEST_PATIENCE)
            return self._celery

    @property
    def studies(self) -> StudyReader:
        """Reads jobs' Optuna studies (Optuna is imported on first use)."""
        with self._lock:
            if self._studies is None:
                from webapp.studies import StudyReader

                self._studies = StudyReader(self.settings.database_url)
            return self._studies


    def close(self) -> None:
        """Release pooled connections (tests build many apps; a server exits anyway)."""
        self.services.records.close()
        if self._studies is not None:
            self._studies.close()


def state() -> WebState:
    """The current app's `WebState`."""
    found: WebState = current_app.extensions[EXTENSION]
    return found
