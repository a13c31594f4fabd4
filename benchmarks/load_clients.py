"""The load benchmark's clients: Socket.IO watchers (their own process) and a paced REST client.

Watchers behave as the dashboard's `live.js`: connect to ``/jobs`` with the
default transports (polling, then the WebSocket upgrade), join the job's room on
every connect (so a reconnect re-joins) and take each event as it comes. They run
in a process of their own so that their receive threads do not share a GIL with
the REST client; they report back through a queue once told to stop.

The REST client is open-loop: request *i* is due at ``start + i / rate`` whatever
earlier ones are doing, and its latency counts from when it was due, so a server
that stalls is charged for the queue it causes (no coordinated omission).
"""

from __future__ import annotations

import threading
import time
from array import array
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

CONNECT_PARALLEL = 10  # watchers connecting at once: a crowd arriving, not a stampede
CONNECT_TIMEOUT = 60.0
REQUEST_TIMEOUT = 10.0


@dataclass
class WatcherReport:
    """What one watcher saw: every event's publish ``ts`` and its latency, and its troubles."""

    ts: array = field(default_factory=lambda: array("d"))
    latency_s: array = field(default_factory=lambda: array("d"))
    snapshots: int = 0
    joined_after_s: float | None = None  # connect() called -> first join acknowledged
    disconnects: list[str] = field(default_factory=list)
    connect_errors: list[str] = field(default_factory=list)
    join_errors: list[str] = field(default_factory=list)


class Watcher:
    """One dashboard tab following one job."""

    def __init__(self, url: str, secret: str, job_id: str) -> None:
        import socketio

        from onegin.events import EVENT_TYPES, SOCKETIO_NAMESPACE

        self.url, self.secret, self.job_id = url, secret, job_id
        self.namespace = SOCKETIO_NAMESPACE
        self.report = WatcherReport()
        self.joined = threading.Event()
        self._closing = False
        self._began = 0.0
        # the dashboard's reconnect policy (live.js: reconnectionDelayMax 5000)
        self.sio = socketio.Client(reconnection=True, reconnection_delay_max=5)
        ns = self.namespace
        self.sio.on("connect", self._on_connect, namespace=ns)
        self.sio.on("disconnect", self._on_disconnect, namespace=ns)
        self.sio.on("connect_error", self._on_connect_error, namespace=ns)
        self.sio.on("snapshot", self._on_snapshot, namespace=ns)
        for kind in EVENT_TYPES:
            self.sio.on(kind, self._on_event, namespace=ns)

    def connect(self) -> None:
        self._began = time.monotonic()
        try:
            self.sio.connect(self.url, auth={"token": self.secret}, namespaces=[self.namespace],
                             wait_timeout=CONNECT_TIMEOUT)
        except Exception as exc:  # counted: a connection error is a result, not a crash
            self.report.connect_errors.append(f"{type(exc).__name__}: {exc}")

    def close(self) -> None:
        self._closing = True
        try:
            self.sio.disconnect()
        except Exception as exc:
            self.report.disconnects.append(f"while closing: {type(exc).__name__}: {exc}")

    def _on_connect(self) -> None:
        self.sio.emit("join", {"job_id": self.job_id}, namespace=self.namespace,
                      callback=self._on_join_ack)

    def _on_join_ack(self, reply: Any = None) -> None:
        if isinstance(reply, dict) and reply.get("ok"):
            if self.report.joined_after_s is None:
                self.report.joined_after_s = time.monotonic() - self._began
            self.joined.set()
        else:
            self.report.join_errors.append(repr(reply))

    def _on_disconnect(self, *reason: Any) -> None:
        if not self._closing:
            self.report.disconnects.append(str(reason[0]) if reason else "disconnected")

    def _on_connect_error(self, data: Any = None) -> None:
        self.report.connect_errors.append(repr(data))

    def _on_snapshot(self, _data: Any) -> None:
        self.report.snapshots += 1

    def _on_event(self, event: Any) -> None:
        received = time.time()
        if isinstance(event, dict) and event.get("job_id") == self.job_id:
            self.report.ts.append(float(event["ts"]))
            self.report.latency_s.append(received - float(event["ts"]))


def run_watchers(url: str, secret: str, job_id: str, count: int, ready: Any, stop: Any,
                 results: Any) -> None:
    """Process entry: ``count`` watchers; ``ready`` once all joined (or gave up), report
    on ``results`` after ``stop``."""
    watchers = [Watcher(url, secret, job_id) for _ in range(count)]
    with ThreadPoolExecutor(CONNECT_PARALLEL) as pool:
        list(pool.map(Watcher.connect, watchers))
    deadline = time.monotonic() + CONNECT_TIMEOUT
    for watcher in watchers:
        if not watcher.report.connect_errors:
            watcher.joined.wait(max(0.0, deadline - time.monotonic()))
    ready.set()
    stop.wait()
    for watcher in watchers:
        watcher.close()
    results.put([w.report for w in watchers])


@dataclass(frozen=True)
class Request:
    """One REST request: when it was due (epoch s), what, and how it went."""

    due: float
    endpoint: str
    status: int | None  # None: no response (connection error, timeout)
    latency_s: float
    error: str | None = None


class RestLoad:
    """Requests at a steady ``rate`` per second, round-robin over ``paths`` (name, path)."""

    def __init__(self, base_url: str, secret: str, paths: Sequence[tuple[str, str]],
                 rate: float, threads: int = 64,
                 clock: Callable[[], float] = time.time) -> None:
        self.base_url, self.paths, self.rate = base_url.rstrip("/"), list(paths), rate
        self._clock = clock
        self._headers = {"Authorization": f"Bearer {secret}"}
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="rest")
        self._local = threading.local()
        self.requests: list[Request] = []

    def run(self, stop: threading.Event) -> None:
        """Send until ``stop`` is set, then wait for every request sent to be answered
        or to run out of its time (`REQUEST_TIMEOUT` from when it was due)."""
        start, sent = self._clock(), 0
        while not stop.is_set():
            due = start + sent / self.rate
            if stop.wait(max(0.0, due - self._clock())):  # pacing, and a prompt stop
                break
            name, path = self.paths[sent % len(self.paths)]
            self._pool.submit(self._one, due, name, path)
            sent += 1
        self._pool.shutdown(wait=True)

    def _one(self, due: float, name: str, path: str) -> None:
        """Request ``path``, due at ``due``: it has until ``due + REQUEST_TIMEOUT``, the
        time it waited here for a free connection included."""
        import requests

        left = due + REQUEST_TIMEOUT - self._clock()
        if left <= 0:
            self._record(due, name, None, "not sent: no connection came free within "
                         f"{REQUEST_TIMEOUT:.0f} s (every one was waiting on the server)")
            return
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.headers.update(self._headers)
        try:
            response = session.get(self.base_url + path, timeout=left)
            response.content  # noqa: B018  (the whole body, as a browser reads it)
            status, error = response.status_code, None
            if status >= 400:
                error = response.text[:200]
        except requests.RequestException as exc:
            status, error = None, f"{type(exc).__name__}: {exc}"
        self._record(due, name, status, error)

    def _record(self, due: float, name: str, status: int | None, error: str | None) -> None:
        self.requests.append(Request(due, name, status, self._clock() - due, error))
