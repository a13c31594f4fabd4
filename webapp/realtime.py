"""Live job events over Socket.IO: namespace ``/jobs``, one room per job.

A client connects (session cookie, or ``auth={"token": …}``), emits ``join``
``{"job_id"}`` and gets a ``snapshot`` ``{"job", "trials"}`` read from the
database after it joined the room, so a reconnect loses no state; then every
event of the job arrives under its own type (``trial_progress``, …) with the
whole event dict as payload.

Every client's token or browser session is re-checked against the records
database every ``session_check_interval`` seconds while any client is connected
(at once when this process itself revoked something): a client whose token was
revoked or whose session was signed out is disconnected. The database is the
one place every web process, and ``onegin token revoke``, can see, so this works
across gunicorn processes and needs no socket ids kept anywhere else.

Where events go through Redis, workers and the orchestrator emit into
Flask-SocketIO's message queue themselves (`RedisEventBus`), so no code of ours
sits between them and the browser. In the embedded mode events are only files:
one background task per watched job tails them and emits to the room, and
stops when the last watcher leaves.
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import Any

import socketio as socketio_lib
from flask import Flask, request
from flask_socketio import SocketIO, disconnect, emit, join_room, leave_room

from onegin.events import EVENT_TYPES, SOCKETIO_NAMESPACE, job_room
from onegin.events.redis import SOCKETIO_CHANNEL
from onegin.records import RecordError, RecordNotFound
from webapp.auth import Principal, socket_principal, still_valid
from webapp.serialize import job_json
from webapp.state import WebState

log = logging.getLogger(__name__)
SNAPSHOT_TRIALS = 200
TAIL_TIMEOUT = 1.0


class _CountsRelayedEvents(socketio_lib.Manager):
    """A client manager that counts the job events it delivers to rooms, by type.

    ``Manager.emit`` is the public method every emit passes through on its way to
    this process's clients: the process's own and, in a pub/sub manager, those
    read from the message queue. Set ``events_relayed`` before the server starts.
    """

    events_relayed: Any = None  # the app's Prometheus counter

    def emit(self, event: str, data: Any, *args: Any, **kwargs: Any) -> Any:
        if event in EVENT_TYPES:
            self.events_relayed.labels(event).inc()
        return super().emit(event, data, *args, **kwargs)


class CountingManager(_CountsRelayedEvents):
    """python-socketio's in-process manager (the embedded mode), counting."""


class CountingRedisManager(socketio_lib.RedisManager, _CountsRelayedEvents):
    """Flask-SocketIO's Redis message queue, counting: its ``emit`` publishes, and what
    reaches this process's clients goes on through ours to ``Manager.emit``."""


def async_mode() -> str:
    """``gevent`` in a process gevent has monkey-patched (gunicorn's gevent worker, which
    patches before it imports the app), else ``threading`` (`onegin web`, gthread).

    Asked of the process, not of what is installed: Flask-SocketIO's own choice takes
    gevent whenever it is importable, and `onegin web`'s threads would then block.
    """
    monkey = sys.modules.get("gevent.monkey")
    return "gevent" if monkey is not None and monkey.is_module_patched("socket") else "threading"


def create_socketio(app: Flask, web: WebState) -> SocketIO:
    """The app's SocketIO (`async_mode`), relaying through Redis when events do."""
    redis_events = web.settings.events_url.startswith(("redis://", "rediss://"))
    # with Redis: what SocketIO(message_queue=events_url, channel="flask-socketio") builds
    manager: _CountsRelayedEvents = (
        CountingRedisManager(web.settings.events_url, channel=SOCKETIO_CHANNEL)
        if redis_events else CountingManager())
    manager.events_relayed = web.metrics.events_relayed
    # named loggers of ours: given none, python-socketio and engine.io add a StreamHandler
    # bound to the stderr of the moment, which wrote besides onegin's handlers (and, in a
    # test process, into a later test's captured stderr once the first was closed)
    sio = SocketIO(app, async_mode=async_mode(), client_manager=manager,
                   logger=logging.getLogger("webapp.socketio"),
                   engineio_logger=logging.getLogger("webapp.engineio"))
    Relay(app, sio, web, tail=not redis_events).register()
    return sio


class Relay:
    """Socket.IO handlers of one app, and the embedded mode's event tailers."""

    def __init__(self, app: Flask, sio: SocketIO, web: WebState, *, tail: bool) -> None:
        self.app = app
        self.sio = sio
        self.web = web
        self.tail = tail
        self._lock = threading.Lock()
        self._guarding = False  # a credentials guard task runs (while anyone is connected)
        self._principals: dict[str, Principal] = {}
        self._joined: dict[str, set[str]] = {}  # sid -> job ids
        self._watchers: dict[str, set[str]] = {}  # job id -> sids (tailed jobs only)

    def register(self) -> None:
        for name, handler in (("connect", self.on_connect), ("disconnect", self.on_disconnect),
                              ("join", self.on_join), ("leave", self.on_leave)):
            self.sio.on_event(name, handler, namespace=SOCKETIO_NAMESPACE)

    # -- handlers (run inside the app and a request context) ----------------------------

    def on_connect(self, auth: Any = None) -> bool:
        principal = socket_principal(auth)
        if principal is None:
            return False  # the client sees a connect_error
        with self._lock:
            self._principals[_sid()] = principal
            self._joined[_sid()] = set()
            start_guard, self._guarding = not self._guarding, True
        if start_guard:
            self.sio.start_background_task(self._guard_credentials)
        return True

    def on_disconnect(self, reason: Any = None) -> None:
        sid = _sid()
        with self._lock:
            self._principals.pop(sid, None)
            jobs = self._joined.pop(sid, set())
        for job_id in jobs:
            self._unwatch(sid, job_id)

    def on_join(self, data: Any) -> dict[str, Any]:
        """Join the job's room, then send the snapshot; the ack says ok or why not."""
        sid = _sid()
        principal = self._principals.get(sid)
        job_id = data.get("job_id") if isinstance(data, dict) else None
        if principal is None:
            return {"error": "not authenticated"}
        if not isinstance(job_id, str) or not job_id:
            return {"error": "job_id is required"}
        records = self.web.services.records
        try:
            job = records.get_job(job_id)
            if not principal.can_see(job):
                raise RecordNotFound("job", job_id)
            join_room(job_room(job.id))
            with self._lock:
                self._joined.setdefault(sid, set()).add(job.id)
            if self.tail:
                self._watch(sid, job.id)
            trials, total = records.list_trials(job.id, limit=SNAPSHOT_TRIALS)
            snapshot = {"job": job_json(job, records.trial_counts(job.id)),
                        "trials": [t.to_dict() for t in trials], "total_trials": total}
        except RecordNotFound:
            return {"error": "job not found"}
        except RecordError as exc:
            log.warning("join %s: %s", job_id, exc)
            return {"error": "records unavailable, try again"}
        emit("snapshot", snapshot)
        self.web.metrics.socket_joins.inc()
        return {"ok": True, "job_id": job.id}

    def on_leave(self, data: Any) -> dict[str, Any]:
        sid = _sid()
        job_id = data.get("job_id") if isinstance(data, dict) else None
        if not isinstance(job_id, str):
            return {"error": "job_id is required"}
        with self._lock:
            joined = job_id in self._joined.get(sid, set())
            self._joined.get(sid, set()).discard(job_id)
        if joined:
            leave_room(job_room(job_id))
            self._unwatch(sid, job_id)
        return {"ok": True, "job_id": job_id}

    # -- revocation --------------------------------------------------------------------

    def _guard_credentials(self) -> None:
        """Disconnect clients whose token or session has ended; stops with the last client."""
        revoked = self.web.credentials_revoked
        while True:
            revoked.wait(self.web.settings.session_check_interval)
            revoked.clear()
            with self._lock:
                if not self._principals:
                    self._guarding = False  # the next connect starts a new guard
                    return
                principals = dict(self._principals)
            try:
                ended = self._ended(principals)
            except RecordError as exc:  # keep the clients; check again next time
                log.warning("checking Socket.IO clients' credentials: %s", exc)
                continue
            for sid in ended:
                with self.app.app_context():
                    disconnect(sid=sid, namespace=SOCKETIO_NAMESPACE)

    def _ended(self, principals: dict[str, Principal]) -> list[str]:
        """The sids whose credentials no longer hold (two queries for all clients)."""
        records = self.web.services.records
        tokens = {p.token.id for p in principals.values()
                  if p.token is not None and p.session is None}
        sessions = {p.session for p in principals.values() if p.session is not None}
        live_tokens = records.active_token_ids(tokens) if tokens else set()
        live_sessions = records.live_sessions(sessions) if sessions else set()
        return [sid for sid, p in principals.items()
                if not still_valid(p, live_tokens, live_sessions)]

    # -- embedded relay ------------------------------------------------------------------

    def _watch(self, sid: str, job_id: str) -> None:
        with self._lock:
            watchers = self._watchers.get(job_id)
            if watchers is not None:  # a tailer runs already
                watchers.add(sid)
                return
            self._watchers[job_id] = {sid}
        # From the log's end as of now: the snapshot, read after this, covers the rest.
        cursor = self._end_of_log(job_id)
        self.sio.start_background_task(self._tail, job_id, cursor)

    def _unwatch(self, sid: str, job_id: str) -> None:
        with self._lock:
            watchers = self._watchers.get(job_id)
            if watchers is not None:
                watchers.discard(sid)

    def _end_of_log(self, job_id: str) -> str | None:
        bus, cursor = self.web.services.events, None
        while True:
            events, cursor = bus.read(job_id, cursor, limit=10_000)
            if not events:
                return cursor

    def _tail(self, job_id: str, cursor: str | None) -> None:
        bus, room = self.web.services.events, job_room(job_id)
        while True:
            with self._lock:
                if not self._watchers.get(job_id):
                    self._watchers.pop(job_id, None)  # a later join starts a new tailer
                    return
            try:
                events, cursor = bus.read(job_id, cursor, timeout=TAIL_TIMEOUT)
            except Exception:
                log.exception("relay of job %s: reading events failed", job_id)
                self.sio.sleep(TAIL_TIMEOUT)
                continue
            for event in events:
                self.sio.emit(event["type"], event, namespace=SOCKETIO_NAMESPACE, to=room)


def _sid() -> str:
    sid: str = getattr(request, "sid")  # noqa: B009 (set by Flask-SocketIO, untyped)
    return sid
