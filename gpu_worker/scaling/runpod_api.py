"""The subset of RunPod's REST API (v1, https://rest.runpod.io/v1) the scaler uses.

``GET /pods`` (list), ``POST /pods`` (create, 201 with the pod) and
``DELETE /pods/{podId}`` (terminate, 204), authenticated with
``Authorization: Bearer <key>``. The stdlib's urllib keeps the scaler free of
extra dependencies. Idempotent calls (list, delete) are retried with backoff on
429, 5xx, timeouts and connection errors; a create is retried only when RunPod
refused it outright (429, connection refused), since a create that timed out
may have happened, and the next step lists pods again anyway.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from gpu_worker.scaling.tracking import ListedPod

_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
_MAX_RETRY_AFTER = 60.0


class RunPodError(RuntimeError):
    """A RunPod API call failed (after any retries); ``status`` is the HTTP status or None."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class RunPodAuthError(RunPodError):
    """RunPod rejected the API key (401/403): retrying cannot help."""


class RunPodClient:
    """Pods through RunPod's REST API; every failure is a `RunPodError` that says which call."""

    def __init__(self, base_url: str, api_key: str, *, timeout: float = 30.0,
                 attempts: int = 4, backoff: float = 1.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self.timeout = timeout
        self.attempts = attempts
        self.backoff = backoff
        self._sleep = sleep

    def __repr__(self) -> str:  # never the key
        return f"RunPodClient({self.base_url!r})"

    def list_pods(self) -> list[ListedPod]:
        data = self._call("GET", "/pods", idempotent=True)
        if not isinstance(data, list):
            raise RunPodError(f"GET /pods: expected a list of pods, got {type(data).__name__}")
        return [_pod(item) for item in data]

    def create_pod(self, body: Mapping[str, Any]) -> ListedPod:
        return _pod(self._call("POST", "/pods", body=dict(body), idempotent=False))

    def terminate_pod(self, pod_id: str) -> None:
        """Delete the pod; one that is already gone (404) counts as deleted."""
        try:
            self._call("DELETE", f"/pods/{quote(pod_id, safe='')}", idempotent=True)
        except RunPodError as exc:
            if exc.status != 404:
                raise

    def _call(self, method: str, path: str, *, body: Any = None, idempotent: bool) -> Any:
        what = f"{method} {path}"
        for attempt in range(1, self.attempts + 1):
            delay = self.backoff * 2 ** (attempt - 1)
            try:
                return self._once(method, path, body)
            except urllib.error.HTTPError as exc:
                status, detail = exc.code, _detail(exc)
                if status in (401, 403):
                    raise RunPodAuthError(
                        f"{what}: RunPod rejected the API key ({status}{detail}); "
                        "check runpod_api_key", status) from None
                retry = status == 429 or (idempotent and status in _RETRY_STATUS)
                error = RunPodError(f"{what}: HTTP {status}{detail}", status)
                delay = max(delay, _retry_after(exc.headers.get("Retry-After")))
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                reason = getattr(exc, "reason", exc)
                refused = isinstance(reason, ConnectionRefusedError)
                retry = idempotent or refused
                error = RunPodError(f"{what}: {reason or type(exc).__name__}")
            if not retry or attempt == self.attempts:
                tries = f" (after {attempt} attempts)" if attempt > 1 else ""
                raise RunPodError(f"{error}{tries}", error.status) from None
            self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _once(self, method: str, path: str, body: Any) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self._api_key}")
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            raw = response.read()
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise RunPodError(f"{method} {path}: response is not JSON: {raw[:200]!r}") from None


def _pod(item: Any) -> ListedPod:
    if not isinstance(item, dict) or not isinstance(item.get("id"), str):
        raise RunPodError(f"RunPod returned a pod without an id: {str(item)[:200]}")
    return ListedPod(id=item["id"], name=str(item.get("name") or ""),
                     status=str(item.get("desiredStatus") or "RUNNING").upper())


def _detail(exc: urllib.error.HTTPError) -> str:
    try:
        text = exc.read().decode("utf-8", "replace").strip()
    except OSError:
        return ""
    try:
        data = json.loads(text)
        if isinstance(data, dict):
            text = str(data.get("error") or data.get("message") or text)
    except ValueError:
        pass
    return f": {text[:300]}" if text else ""


def _retry_after(value: str | None) -> float:
    try:
        return min(_MAX_RETRY_AFTER, max(0.0, float(value))) if value else 0.0
    except ValueError:
        return 0.0  # an HTTP date: fall back to our own backoff
