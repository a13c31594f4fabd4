"""The external services of one process, opened once from the settings.

Workers need only the control store, the event bus and the artifact store;
the record store (the database) is opened only by the orchestrator and the
web app. Handles are per process: a forked child opens its own. ``patience`` is
how long a call to Redis or the artifact store waits for an unreachable service:
the ``outage_limit`` for the processes that run jobs, a moment for the web app,
which answers 503 instead of keeping a request waiting.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from onegin.artifacts import ArtifactStore, open_artifact_store
from onegin.control import ControlStore, open_control_store
from onegin.events import EventBus, open_event_bus
from onegin.events.resolve import parse_backend_url
from onegin.settings import Settings, load_settings

if TYPE_CHECKING:
    from onegin.records import RecordStore


def control_url(events_url: str) -> str:
    """The control store lives beside the events: the same Redis, or a sibling folder."""
    if events_url.startswith("local://"):
        return events_url.rstrip("/").rsplit("/", 1)[0] + "/control"
    return events_url


@dataclass
class Services:
    settings: Settings
    pid: int = field(default_factory=os.getpid)
    patience: float | None = None  # seconds; None: settings.outage_limit

    @property
    def waits_for(self) -> float:
        """Seconds a call waits for an unreachable Redis or artifact store."""
        return self.settings.outage_limit if self.patience is None else self.patience

    @cached_property
    def control(self) -> ControlStore:
        return open_control_store(control_url(self.settings.events_url),
                                  patience=self.waits_for)

    @cached_property
    def events(self) -> EventBus:
        return open_event_bus(self.settings.events_url, patience=self.waits_for)

    @cached_property
    def artifacts(self) -> ArtifactStore:
        return open_artifact_store(
            self.settings.artifacts_url, endpoint_url=self.settings.s3_endpoint_url,
            region=self.settings.s3_region, patience=self.waits_for,
        )

    @cached_property
    def records(self) -> RecordStore:
        from onegin.records import open_record_store

        return open_record_store(self.settings.database_url, upgrade=self.settings.embedded)


def backend_modules(settings: Settings) -> list[str]:
    """The modules the clients for ``settings``'s URLs import (python-socketio, redis, boto3).

    A GPU worker imports them in its main process (`gpu_worker.warm_up`), so each
    pool child it forks has them: a recycled child importing them itself took
    0.3 s to 4 s on a busy 2-core machine while its trial waited.
    """
    modules: list[str] = []
    if parse_backend_url(settings.events_url, "events_url")[0] == "redis":
        modules += ["onegin.events.redis", "onegin.control.redis"]  # one Redis
    if settings.artifacts_url.startswith("s3:"):
        modules += ["boto3.session", "boto3.s3.transfer", "botocore.config"]
    return modules


_current: Services | None = None


def get_services() -> Services:
    """This process's services (re-opened in a forked child)."""
    global _current
    if _current is None or _current.pid != os.getpid():
        _current = Services(load_settings())
    return _current


def use_services(services: Services) -> None:
    """Install explicit services (tests, the embedded CLI)."""
    global _current
    _current = services
