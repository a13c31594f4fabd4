"""A STAND-IN for RunPod's REST API (v1), not RunPod: a real HTTP server in a thread.

It implements the subset `onegin scale runpod` uses, as RunPod documents it
(https://rest.runpod.io/v1, OpenAPI in RunPod's docs): ``GET /v1/pods`` (with
the ``name`` and ``desiredStatus`` filters), ``GET /v1/pods/{id}``,
``POST /v1/pods`` (201 with the pod) and ``DELETE /v1/pods/{id}`` (204), each
requiring ``Authorization: Bearer <key>`` (401 otherwise). Tests seed pods
(including ones the scaler does not own), change their status, and inject
failures: an HTTP status (with ``Retry-After``) or a stall longer than the
client's timeout. Every request is recorded, so tests can assert what was sent.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

PREFIX = "/v1"


@dataclass
class Injected:
    status: int | None = None  # an HTTP error to answer with
    stall: float = 0.0  # seconds to hold the response (until released) before answering
    retry_after: str | None = None


@dataclass
class Recorded:
    method: str
    path: str
    body: Any
    authorized: bool


@dataclass
class _State:
    pods: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: dict[str, deque[Injected]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)


class RunPodStandIn:
    """Start with ``with RunPodStandIn(api_key) as standin:``; point the client at ``.url``."""

    def __init__(self, api_key: str = "standin-key") -> None:
        self.api_key = api_key
        self.state = _State()
        self.lock = threading.Lock()
        self.release = threading.Event()  # ends every stall at once (shutdown)
        self._server = _QuietServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{PREFIX}"

    def __enter__(self) -> RunPodStandIn:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    # -- what tests arrange ----------------------------------------------------------------

    def add_pod(self, name: str, status: str = "RUNNING", **extra: Any) -> str:
        pod_id = secrets.token_hex(7)
        with self.lock:
            self.state.pods[pod_id] = {"id": pod_id, "name": name, "desiredStatus": status,
                                       "image": "someone/else:latest", "env": {}, **extra}
        return pod_id

    def set_status(self, pod_id: str, status: str) -> None:
        with self.lock:
            self.state.pods[pod_id]["desiredStatus"] = status

    def fail(self, method: str, status: int | None = None, *, times: int = 1,
             stall: float = 0.0, retry_after: str | None = None) -> None:
        """The next ``times`` requests with ``method`` fail with ``status`` and/or stall."""
        with self.lock:
            queue = self.state.failures.setdefault(method, deque())
            queue.extend(Injected(status, stall, retry_after) for _ in range(times))

    # -- what tests read -------------------------------------------------------------------

    def pods(self) -> list[dict[str, Any]]:
        with self.lock:
            return [json.loads(json.dumps(p)) for p in self.state.pods.values()]

    def pod_names(self) -> set[str]:
        return {p["name"] for p in self.pods()}

    def requests(self, method: str | None = None) -> list[Recorded]:
        with self.lock:
            return [r for r in self.state.requests if method in (None, r.method)]


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out on a stall hangs up: expected here, not a failure


def _handler(standin: RunPodStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: tests assert on recorded requests instead

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_DELETE(self) -> None:
            self._serve("DELETE")

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode("utf-8", "replace")
            authorized = self.headers.get("Authorization") == f"Bearer {standin.api_key}"
            parts = urlsplit(self.path)
            with standin.lock:
                standin.state.requests.append(Recorded(method, parts.path, body, authorized))
                queue = standin.state.failures.get(method)
                injected = queue.popleft() if queue else None
            if injected and injected.stall:
                standin.release.wait(injected.stall)
            if injected and injected.status:
                headers = {"Retry-After": injected.retry_after} if injected.retry_after else {}
                return self._send(injected.status, {"error": "injected failure"}, headers)
            if not authorized:
                return self._send(401, {"error": "Unauthorized"})
            status, payload = _route(standin, method, parts.path, parse_qs(parts.query), body)
            self._send(status, payload)

        def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            data = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            if data:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


def _route(standin: RunPodStandIn, method: str, path: str, query: dict[str, list[str]],
           body: Any) -> tuple[int, Any]:
    if not path.startswith(PREFIX + "/pods"):
        return 404, {"error": f"no route {path}"}
    pod_id = path[len(PREFIX + "/pods"):].strip("/")
    with standin.lock:
        pods = standin.state.pods
        if method == "GET" and not pod_id:
            listed = [p for p in pods.values()
                      if all(p.get(k) == v[0] for k, v in query.items()
                             if k in ("name", "desiredStatus"))]
            return 200, listed
        if method == "GET":
            return (200, pods[pod_id]) if pod_id in pods else (404, {"error": "pod not found"})
        if method == "DELETE" and pod_id:
            if pods.pop(pod_id, None) is None:
                return 404, {"error": "pod not found"}
            return 204, None
        if method == "POST" and not pod_id:
            problem = _invalid(body)
            if problem:
                return 400, {"error": problem}
            new_id = secrets.token_hex(7)
            pods[new_id] = {
                "id": new_id, "name": body.get("name", "my pod"), "desiredStatus": "RUNNING",
                "image": body["imageName"], "env": body.get("env", {}),
                "dockerEntrypoint": body.get("dockerEntrypoint", []),
                "dockerStartCmd": body.get("dockerStartCmd", []),
                "gpuTypeIds": body.get("gpuTypeIds", []), "gpuCount": body.get("gpuCount", 1),
                "lastStartedAt": None, "publicIp": None, "portMappings": {}}
            return 201, pods[new_id]
    return 405, {"error": f"{method} not allowed on {path}"}


def _invalid(body: Any) -> str | None:
    """RunPod's 400 'Invalid input' for the fields the scaler sends."""
    if not isinstance(body, dict):
        return "body must be a JSON object"
    if not isinstance(body.get("imageName"), str) or not body["imageName"]:
        return "imageName is required"
    if len(str(body.get("name", ""))) > 191:
        return "name is longer than 191 characters"
    env = body.get("env", {})
    if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
        return "env must map names to strings"
    for key in ("dockerEntrypoint", "dockerStartCmd", "gpuTypeIds", "ports"):
        value = body.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return f"{key} must be a list of strings"
    if not isinstance(body.get("gpuCount", 1), int) or body.get("gpuCount", 1) < 1:
        return "gpuCount must be an integer >= 1"
    return None
