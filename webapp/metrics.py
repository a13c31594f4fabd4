"""Prometheus metrics of one web app: requests, event relays, jobs and trials by status.

Each app has its own registry (several apps may live in one test process).
Job and trial totals are read from the database at scrape time, so they are
right whichever process changed them; a database outage leaves them out of
that scrape rather than failing it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from onegin.records import RecordError, RecordStore

log = logging.getLogger(__name__)
disable_created_metrics()  # the *_created series only add noise to a scrape


class _RecordTotals(Collector):
    def __init__(self, records: RecordStore) -> None:
        self.records = records

    def collect(self) -> Iterator[Metric]:
        try:
            jobs, trials = self.records.status_totals()
        except RecordError as exc:
            log.warning("metrics: cannot count jobs and trials: %s", exc)
            return
        for name, doc, counts in (("onegin_jobs", "Jobs by status.", jobs),
                                  ("onegin_trials", "Trials by status.", trials)):
            family = GaugeMetricFamily(name, doc, labels=["status"])
            for status, count in counts.items():
                family.add_metric([status], count)
            yield family


class Metrics:
    """The app's registry and the counters its views and relays increment."""

    def __init__(self, records: RecordStore) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "onegin_http_requests", "HTTP requests served, by method, route and status.",
            ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram(
            "onegin_http_request_seconds", "Time to answer HTTP requests, by route.",
            ["route"], registry=self.registry)
        self.events_relayed = Counter(
            "onegin_events_relayed", "Job events relayed to Socket.IO rooms, by event type.",
            ["type"], registry=self.registry)
        self.socket_joins = Counter(
            "onegin_socketio_joins", "Socket.IO clients that joined a job's room.",
            registry=self.registry)
        self.registry.register(_RecordTotals(records))

    def render(self) -> bytes:
        return generate_latest(self.registry)
