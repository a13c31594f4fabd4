"""The real web app on a loopback port, and a Socket.IO client following one job: to see
that REST (PostgreSQL) and the live relay (Redis) come back by themselves after an outage."""

from __future__ import annotations

import dataclasses
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import socketio

from onegin.settings import Settings
from tests.webapp.test_realtime import serving

Message = tuple[str, Any]


@contextmanager
def serving_web(settings: Settings) -> Iterator[str]:
    """`create_app` (auth off) served by Werkzeug in a thread; yields its base URL."""
    from webapp.app import create_app

    with serving(create_app(dataclasses.replace(settings, auth="off"))) as url:
        yield url


@contextmanager
def following(url: str, job_id: str) -> Iterator[socketio.SimpleClient]:
    """A browser's Socket.IO client, joined to the job's room (snapshot received)."""
    client = socketio.SimpleClient(handle_sigint=False)  # Ctrl-C is pytest's
    client.connect(url, namespace="/jobs", transports=["polling"], wait_timeout=10)
    try:
        assert client.call("join", {"job_id": job_id}, timeout=10) == {
            "ok": True, "job_id": job_id}
        receive_until(client, lambda message: message[0] == "snapshot", timeout=10)
        yield client
    finally:
        client.disconnect()


def receive_until(client: socketio.SimpleClient, match: Callable[[Message], bool],
                  timeout: float) -> Message:
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            name, *args = client.receive(timeout=left)
        except socketio.exceptions.TimeoutError:
            break
        message = (name, args[0] if args else None)
        if match(message):
            return message
    raise TimeoutError(f"no matching Socket.IO message within {timeout}s")


def get_json(url: str) -> tuple[int, Any]:
    """HTTP GET: the status and the JSON body, whatever the status."""
    try:
        with urllib.request.urlopen(url, timeout=20) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
