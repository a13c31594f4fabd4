"""Prometheus metrics of one web app, served at ``/metrics``.

Counted here: HTTP requests and their latency, job events relayed to browsers
(by type, every type from zero so ``rate()`` works from the first event) and
Socket.IO joins. Read from the cluster at scrape time, so they are right
whichever process changed them: jobs and trials by status (database), tasks
waiting per broker queue (the GPU autoscaling signal), and for every running
trial the age of its worker's last heartbeat (control store). A backend that is
down leaves its metrics out of that scrape, with a warning, rather than failing
it. Each app has its own registry (several apps may live in one test process).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING

from flask import current_app, has_app_context
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from onegin.events import EVENT_TYPES
from onegin.queue_depth import BrokerUnavailable, queue_depth
from onegin.records import RecordError, RecordStore
from onegin.statuses import TrialStatus

if TYPE_CHECKING:
    from webapp.state import WebState

log = logging.getLogger(__name__)
disable_created_metrics()  # the *_created series only add noise to a scrape
QUEUE_DEPTH_TIMEOUT = 4.0  # seconds: a hung broker must not make the scrape time out


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


def _web() -> WebState | None:
    """The scraped app's state; the /metrics view always runs inside its app context."""
    if not has_app_context():
        return None
    from webapp.state import EXTENSION

    found: WebState | None = current_app.extensions.get(EXTENSION)
    return found


class _QueueDepth(Collector):
    """``onegin_queue_depth{queue}``: tasks waiting in each queue the Celery app declares.

    Asked in a thread with a deadline, so a broker that does not answer leaves the
    gauge out of the scrape instead of stalling it past Prometheus' timeout.
    """

    def collect(self) -> Iterator[Metric]:
        web = _web()
        if web is None:
            return
        celery = web.celery
        names = [queue.name for queue in celery.conf.task_queues or ()]
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="metrics-queues")
        future = pool.submit(lambda: [(name, queue_depth(celery, name)) for name in names])
        try:
            depths = future.result(timeout=QUEUE_DEPTH_TIMEOUT)
        except (BrokerUnavailable, FutureTimeout) as exc:
            log.warning("metrics: queue depth left out, the broker is unavailable: %s",
                        exc or f"no answer within {QUEUE_DEPTH_TIMEOUT:g}s")
            return
        finally:
            pool.shutdown(wait=False)
        family = GaugeMetricFamily(
            "onegin_queue_depth", "Tasks waiting in a broker queue, not yet taken by a worker.",
            labels=["queue"])
        for name, depth in depths:
            family.add_metric([name], depth)
        yield family


class _Heartbeats(Collector):
    """How fresh the heartbeats of running trials are: a dead worker shows up here first.

    Ages are against this host's clock, as the orchestrator's lost-trial check is.
    """

    def collect(self) -> Iterator[Metric]:
        web = _web()
        if web is None:
            return
        records, control = web.services.records, web.services.control
        timeout = web.settings.heartbeat_timeout
        trial_age = GaugeMetricFamily(
            "onegin_trial_heartbeat_age_seconds",
            "Seconds since the worker of each running trial last heart-beat.",
            labels=["job_id", "trial", "worker"])
        worker_age = GaugeMetricFamily(
            "onegin_worker_heartbeat_age_seconds",
            "Seconds since each worker with a running trial last heart-beat (its freshest).",
            labels=["worker"])
        stale = GaugeMetricFamily(
            "onegin_trials_heartbeat_stale",
            f"Running trials without a heartbeat for over heartbeat_timeout ({timeout:g}s): "
            "their worker is gone and the orchestrator re-runs them.")
        try:
            _, totals = records.status_totals()
            trials = records.running_trials() if totals.get(TrialStatus.RUNNING) else []
            beats = [(t, control.last_heartbeat(t.job_id, t.number)) for t in trials]
        except Exception as exc:  # RecordError, redis.RedisError, OSError: a backend is down
            log.warning("metrics: heartbeats left out: %s: %s", type(exc).__name__, exc)
            return
        now = time.time()
        freshest: dict[str, float] = {}
        late = 0
        for trial, beat in beats:
            if beat is None:  # running in the records, yet no claim: nobody heart-beats it
                late += 1
                continue
            owner, stamp = beat
            worker = owner.rsplit(":", 1)[0]  # host:pid:claim -> host:pid
            age = max(0.0, now - stamp)
            late += age > timeout
            trial_age.add_metric([trial.job_id, str(trial.number), worker], age)
            freshest[worker] = min(age, freshest.get(worker, age))
        for worker, age in sorted(freshest.items()):
            worker_age.add_metric([worker], age)
        stale.add_metric([], late)
        yield from (trial_age, worker_age, stale)


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
            "onegin_events_relayed", "Job events relayed to Socket.IO rooms, by event type "
            "(with Redis events: every event any worker or orchestrator published).",
            ["type"], registry=self.registry)
        for kind in sorted(EVENT_TYPES):  # a series from zero: rate() sees the first event
            self.events_relayed.labels(kind)
        self.socket_joins = Counter(
            "onegin_socketio_joins", "Socket.IO clients that joined a job's room.",
            registry=self.registry)
        self.registry.register(_RecordTotals(records))
        self.registry.register(_QueueDepth())
        self.registry.register(_Heartbeats())

    def render(self) -> bytes:
        return generate_latest(self.registry)
