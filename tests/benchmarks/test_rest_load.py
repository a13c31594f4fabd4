"""The load benchmark's REST client: what it counts as unanswered, against a loopback server."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from benchmarks.load_clients import REQUEST_TIMEOUT, RestLoad


class _Server(ThreadingHTTPServer):
    def __init__(self, stop_after: int) -> None:
        self.seen = 0
        self.stop_after = stop_after
        self.stop = threading.Event()
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        with self.server.lock:
            self.server.seen += 1
            if self.server.seen >= self.server.stop_after:
                self.server.stop.set()  # the load stops while requests are still queued
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[_Server]:
    srv = _Server(stop_after=3)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def test_requests_still_queued_when_the_load_stops_are_sent_not_counted_as_errors(
        server: _Server) -> None:
    # one connection and a rate far above what it serves: requests queue up client-side
    load = RestLoad(f"http://127.0.0.1:{server.server_port}", "s", [("x", "/x")],
                    rate=5000, threads=1)
    load.run(server.stop)
    assert len(load.requests) > server.stop_after  # some were queued when the load stopped
    assert [r.status for r in load.requests] == [200] * len(load.requests)
    assert server.seen == len(load.requests)


def test_a_request_that_waited_past_its_timeout_counts_unanswered_without_being_sent() -> None:
    # a closed port: sending would fail with a connection error instead
    load = RestLoad("http://127.0.0.1:9", "s", [("x", "/x")], rate=1)
    load._one(time.time() - REQUEST_TIMEOUT - 1, "x", "/x")
    (request,) = load.requests
    assert request.status is None
    assert request.error is not None and request.error.startswith("not sent")
    assert request.latency_s > REQUEST_TIMEOUT
