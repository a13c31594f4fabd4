"""Live events over Socket.IO, through a real server on a loopback port and a real
python-socketio client: join -> snapshot -> events published by other processes.

With Redis events, workers' events reach the browser through Flask-SocketIO's
message queue with no code of ours in between; in the embedded mode the server
tails the event files itself. No sleeps: every wait is on a received message.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import socketio
from flask import Flask
from werkzeug.serving import make_server

from onegin.celery_app import GPU_QUEUE, TRAIN_TRIAL
from onegin.events import make_event
from onegin.local_workers import child_environ, worker_command
from onegin.scoring import ScoringWeights
from onegin.search_space import space_for
from onegin.settings import GPU_WORKER
from tests.fixtures.services import free_port, redis_database, redis_databases
from tests.webapp.conftest import Web, WebFactory
from webapp.app import socketio_for

REPO = Path(__file__).resolve().parents[2]
Message = tuple[str, Any]


@pytest.fixture(scope="module")
def web_redis() -> Iterator[str]:
    """A Redis database of this module's own (broker queues and event streams)."""
    with redis_database(redis_databases()[0]) as url:  # the one redis_url never picks
        yield url


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    """The app on a free loopback port in a thread (Werkzeug, threaded: WebSocket works)."""
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@contextmanager
def connected(url: str, transport: str = "polling", **kwargs: Any
              ) -> Iterator[socketio.SimpleClient]:
    """A client on namespace /jobs. WebSocket is tested once: its client waits up to 3 s
    for a close frame when it disconnects, which adds up over many tests."""
    client = socketio.SimpleClient(handle_sigint=False)  # Ctrl-C is pytest's
    client.connect(url, namespace="/jobs", transports=[transport], wait_timeout=10, **kwargs)
    try:
        yield client
    finally:
        client.disconnect()


def receive_until(client: socketio.SimpleClient, match: Callable[[Message], bool],
                  timeout: float = 30.0) -> tuple[Message, list[Message]]:
    """The first message that matches, and every message received before it."""
    seen: list[Message] = []
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        name, *args = client.receive(timeout=left)
        message = (name, args[0] if args else None)
        if match(message):
            return message, seen
        seen.append(message)
    raise TimeoutError(f"no matching message within {timeout}s; got {seen}")


def of_type(kind: str) -> Callable[[Message], bool]:
    return lambda message: message[0] == kind


def publish_elsewhere(events_url: str, event: dict[str, Any]) -> None:
    """Publish ``event`` from a separate Python process, as a worker would."""
    code = ("import json, sys\nfrom onegin.events import open_event_bus\n"
            "bus = open_event_bus(sys.argv[1])\nbus.publish(json.loads(sys.argv[2]))\n"
            "bus.close()\n")
    subprocess.run([sys.executable, "-c", code, events_url, json.dumps(event)], check=True,
                   timeout=60, cwd=REPO)


def join(client: socketio.SimpleClient, job_id: str) -> dict[str, Any]:
    ack = client.call("join", {"job_id": job_id}, timeout=10)
    assert ack == {"ok": True, "job_id": job_id}
    (_, snapshot), before = receive_until(client, of_type("snapshot"), timeout=10)
    assert before == []
    data: dict[str, Any] = snapshot
    return data


def test_redis_events_from_other_processes_reach_the_room(web_factory: WebFactory,
                                                          web_redis: str) -> None:
    web = web_factory(events_url=web_redis, broker_url=web_redis)
    _, secret = web.token("watcher")
    job_id = web.submit(secret, trials=3)["id"]
    web.records.upsert_trial(job_id, 0, status="completed", val_accuracy=0.8)
    with serving(web.app) as url, \
            connected(url, "websocket", auth={"token": secret}) as client:
        assert client.transport == "websocket"
        snapshot = join(client, job_id)
        assert snapshot["job"]["id"] == job_id and snapshot["job"]["counts"]["completed"] == 1
        assert [t["number"] for t in snapshot["trials"]] == [0]

        event = make_event("job_status", job_id, status="running")
        publish_elsewhere(web_redis, event)
        (name, payload), _ = receive_until(client, of_type("job_status"))
        assert name == "job_status" and payload == event

        other = make_event("job_status", web.submit(secret)["id"], status="running")
        publish_elsewhere(web_redis, other)  # another job's room: not delivered here
        last = make_event("job_finished", job_id, status="completed", best_trial=0,
                          best_score=0.8, best_accuracy=0.8)
        publish_elsewhere(web_redis, last)
        (_, payload), skipped = receive_until(client, of_type("job_finished"))
        assert payload == last and skipped == []
    metrics = web.client.get("/metrics").get_data(as_text=True)
    # Redis channels span databases: other processes' events on this machine count too.
    relayed = re.search(r'^onegin_events_relayed_total\{type="job_finished"\} (\S+)', metrics,
                        re.M)
    assert relayed and float(relayed.group(1)) >= 1
    assert "onegin_socketio_joins_total 1.0" in metrics


def test_a_worker_process_trial_streams_to_the_browser(web_factory: WebFactory,
                                                       web_redis: str, tmp_path: Path) -> None:
    """A real Celery GPU-worker process (its trainer a SLEEP stand-in: benchmarks/
    sleep_worker.py) claims the trial, heartbeats, publishes progress and finishes."""
    web = web_factory(events_url=web_redis, broker_url=web_redis, heartbeat_interval=0.5,
                      heartbeat_timeout=10.0)
    _, secret = web.token()
    job_id = web.submit(secret, trials=1)["id"]
    env = child_environ(web.services.settings, GPU_WORKER) | {"SLEEP_TRAINER_SECONDS": "0.4"}
    log = (tmp_path / "sleep-worker.log").open("ab")
    worker = subprocess.Popen(
        worker_command(f"web-test-{uuid.uuid4().hex[:6]}", GPU_QUEUE,
                       module="benchmarks.sleep_worker"),
        env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        with serving(web.app) as url, connected(url, auth={"token": secret}) as client:
            join(client, job_id)
            spec = {"dataset": "digits", "params": space_for("image").defaults(), "epochs": 2,
                    "seed": 0, "objective": "simple", "weights": ScoringWeights().to_dict(),
                    "plot_mode": "none", "plot_threshold": None, "max_train_samples": None,
                    "max_eval_samples": None, "data_dir": None}
            web.state.celery.send_task(TRAIN_TRIAL, task_id=f"{job_id}-0", queue=GPU_QUEUE,
                                       kwargs={"job_id": job_id, "number": 0, "spec": spec})
            (_, finished), before = receive_until(client, of_type("trial_finished"), 60)
        assert finished["job_id"] == job_id and finished["data"]["status"] == "completed"
        kinds = [name for name, _ in before]
        assert kinds[0] == "trial_started" and kinds.count("trial_progress") >= 2
        epochs = [p["data"]["epoch"] for n, p in before if n == "trial_progress"
                  and p["data"]["phase"] == "training"]
        assert epochs == [1, 2]
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)
        log.close()


def test_who_may_connect_and_join(web_factory: WebFactory, web_redis: str) -> None:
    web = web_factory(events_url=web_redis, broker_url=web_redis)
    _, alice = web.token("alice")
    _, bob = web.token("bob")
    job_id = web.submit(alice)["id"]
    with serving(web.app) as url:
        with pytest.raises(socketio.exceptions.ConnectionError):
            connected(url).__enter__()
        with pytest.raises(socketio.exceptions.ConnectionError):
            connected(url, auth={"token": "ogn_wrong"}).__enter__()
        with connected(url, auth={"token": bob}) as client:
            assert client.call("join", {"job_id": job_id}, timeout=10) == \
                {"error": "job not found"}
            assert client.call("join", {}, timeout=10) == {"error": "job_id is required"}
        signed_in = web.client.post("/api/v1/session", json={"token": alice})
        cookie = signed_in.headers["Set-Cookie"].split(";", 1)[0]
        with connected(url, headers={"Cookie": cookie}) as client:
            assert join(client, job_id)["job"]["id"] == job_id


def test_embedded_events_are_tailed_to_the_room(web: Web) -> None:
    """Local (file) events: the server tails the job's log while someone watches."""
    events_url = web.services.settings.events_url
    assert events_url.startswith("local://")
    _, secret = web.token()
    job_id = web.submit(secret)["id"]
    web.services.events.publish(make_event("job_status", job_id, status="running"))  # old
    with serving(web.app) as url, connected(url, auth={"token": secret}) as client:
        join(client, job_id)
        progress = make_event("trial_progress", job_id, trial=0, phase="training", epoch=1,
                              epochs=2, epoch_fraction=1.0, fraction=0.5,
                              metrics={"val_accuracy": 0.5})
        publish_elsewhere(events_url, progress)
        (_, payload), before = receive_until(client, of_type("trial_progress"))
        assert payload == progress and before == []  # the old event was not replayed
        assert client.call("leave", {"job_id": job_id}, timeout=10) == \
            {"ok": True, "job_id": job_id}
        join(client, job_id)  # a new tailer starts from the end again
        done = make_event("job_finished", job_id, status="completed", best_trial=None,
                          best_score=None, best_accuracy=None)
        publish_elsewhere(events_url, done)
        (_, payload), before = receive_until(client, of_type("job_finished"))
        assert payload == done and before == []
    metrics = web.client.get("/metrics").get_data(as_text=True)
    relayed = dict(re.findall(r'^onegin_events_relayed_total\{type="(\w+)"\} (\S+)', metrics,
                              re.M))
    assert relayed["trial_progress"] == relayed["job_finished"] == "1.0"  # each one, once
    assert relayed["job_status"] == "0.0"  # published before anyone watched: not relayed


def test_async_mode_follows_gevent_patching_not_what_is_installed(web: Web) -> None:
    """gevent is installed here, yet an unpatched process (`onegin web`, gthread) must
    keep threads; gunicorn's gevent worker patches before it imports the app."""
    assert socketio_for(web.app).async_mode == "threading"
    code = ("from gevent import monkey\nmonkey.patch_all()\n"
            "from webapp.realtime import async_mode\nprint(async_mode())\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, cwd=REPO, check=True)
    assert done.stdout.strip() == "gevent"



def test_socketio_logs_through_onegins_loggers_not_a_stderr_of_its_own(web: Web) -> None:
    """Errors of the Socket.IO relay (a Redis it cannot reach) reach the process's logging
    setup, not a StreamHandler python-socketio binds to the stderr of the moment (once
    closed, as pytest's capture of an earlier test is, every later error failed there)."""
    import logging

    server = socketio_for(web.app).server
    assert (server.logger.name, server.eio.logger.name) == ("webapp.socketio", "webapp.engineio")
    assert not any(isinstance(handler, logging.StreamHandler)
                   for name in ("socketio.server", "engineio.server")
                   for handler in logging.getLogger(name).handlers)
