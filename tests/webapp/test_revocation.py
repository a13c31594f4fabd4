"""Ending access: sign-out ends the session on the server (copies of its cookie too),
admins list and revoke tokens over the API and the CLI, and a revoked token or an
ended session loses its live Socket.IO clients.

Real HTTP through Flask's test client, a real server on a loopback port for
Socket.IO (python-socketio's client), and the real `onegin` command in a separate
process. Every wait is on an event (a client's disconnect) with a deadline.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import socketio

from onegin.records import TOKEN_LISTED, hash_secret
from onegin.settings import load_settings
from tests.webapp.conftest import Web, WebFactory, body
from tests.webapp.schema import assert_documented
from tests.webapp.test_cli import onegin
from tests.webapp.test_realtime import serving
from webapp.app import create_app

JOB = {"dataset": "digits", "trials": 1, "epochs": 1}
DISCONNECT_DEADLINE = 10.0


def sign_in(web: Web, secret: str) -> tuple[str, str]:
    """Sign ``web.client`` in; the cookie (``name=value``) and the CSRF token."""
    response = web.client.post("/api/v1/session", json={"token": secret})
    assert response.status_code == 200
    return response.headers["Set-Cookie"].split(";", 1)[0], body(response)["csrf_token"]


# -- sign-out ----------------------------------------------------------------------------

def test_a_copied_cookie_stops_working_after_sign_out(web: Web) -> None:
    _, secret = web.token("browser")
    cookie, csrf = sign_in(web, secret)
    thief = web.app.test_client(use_cookies=False)
    copied = {"Cookie": cookie, "X-CSRF-Token": csrf}
    assert thief.get("/api/v1/jobs", headers=copied).status_code == 200
    assert thief.post("/api/v1/jobs", json=JOB, headers=copied).status_code == 201

    signed_out = web.client.delete("/api/v1/session", headers={"X-CSRF-Token": csrf})
    assert signed_out.status_code == 204
    for response in (thief.get("/api/v1/jobs", headers=copied),
                     thief.post("/api/v1/jobs", json=JOB, headers=copied),
                     thief.get("/api/v1/session", headers=copied)):
        assert response.status_code == 401
        assert "sign in again" in body(response)["error"]
    assert web.client.get("/api/v1/jobs").status_code == 401
    assert thief.delete("/api/v1/session", headers=copied).status_code == 204  # idempotent


def test_signing_in_again_ends_the_previous_session(web: Web) -> None:
    _, secret = web.token()
    old, _ = sign_in(web, secret)
    new, _ = sign_in(web, secret)
    assert old != new
    other = web.app.test_client(use_cookies=False)
    assert other.get("/api/v1/jobs", headers={"Cookie": old}).status_code == 401
    assert other.get("/api/v1/jobs", headers={"Cookie": new}).status_code == 200


@pytest.mark.parametrize("contents", [{"tid": "TOKEN"}, {"sid": "guessed"}, {"sid": 7}])
def test_a_cookie_without_a_live_server_session_is_refused(web: Web,
                                                           contents: dict[str, Any]) -> None:
    """A signed cookie alone (e.g. one from before server-side sessions) is not enough."""
    token, _ = web.token()
    with web.client.session_transaction() as session:
        session.update({k: token.id if v == "TOKEN" else v for k, v in contents.items()})
        session["csrf"] = "x"
    assert web.client.get("/api/v1/jobs").status_code == 401


# -- the admin API -------------------------------------------------------------------------

def test_only_admins_list_and_revoke_tokens(web: Web) -> None:
    token, secret = web.token("ci")
    for method, url in (("GET", "/api/v1/tokens"), ("DELETE", f"/api/v1/tokens/{token.id}")):
        assert web.client.open(url, method=method).status_code == 401
        refused = web.client.open(url, method=method, headers=web.bearer(secret))
        assert refused.status_code == 403 and "admin" in body(refused)["error"]
        assert_documented(url.replace(token.id, "{token_id}"), method, 403, body(refused))
    assert web.records.get_token(token.id).active


def test_an_admin_lists_tokens_without_secrets(web: Web) -> None:
    admin, admin_secret = web.records.create_token("ops", admin=True)
    ci, ci_secret = web.token("ci")
    assert web.client.get("/api/v1/jobs", headers=web.bearer(ci_secret)).status_code == 200
    response = web.client.get("/api/v1/tokens", headers=web.bearer(admin_secret))
    assert response.status_code == 200
    assert_documented("/api/v1/tokens", "GET", 200, body(response))
    rows = {row["id"]: row for row in body(response)["tokens"]}  # the database is shared
    assert tuple(rows[ci.id]) == TOKEN_LISTED
    assert rows[ci.id]["name"] == "ci" and rows[ci.id]["admin"] is False
    assert rows[ci.id]["last_used_at"] is not None and rows[ci.id]["revoked_at"] is None
    assert rows[admin.id]["admin"] is True
    text = response.get_data(as_text=True)
    for secret in (admin_secret, ci_secret, hash_secret(ci_secret)):
        assert secret not in text


def test_an_admin_revokes_a_token_and_its_sessions(web: Web) -> None:
    _, admin_secret = web.records.create_token("ops", admin=True)
    ci, ci_secret = web.token("ci")
    browser = web.app.test_client()
    browser.post("/api/v1/session", json={"token": ci_secret})
    assert browser.get("/api/v1/jobs").status_code == 200

    revoked = web.client.delete(f"/api/v1/tokens/{ci.id}", headers=web.bearer(admin_secret))
    assert revoked.status_code == 200
    assert_documented("/api/v1/tokens/{token_id}", "DELETE", 200, body(revoked))
    assert body(revoked)["id"] == ci.id and body(revoked)["revoked_at"] is not None
    assert web.client.get("/api/v1/jobs", headers=web.bearer(ci_secret)).status_code == 401
    assert browser.get("/api/v1/jobs").status_code == 401
    again = web.client.delete(f"/api/v1/tokens/{ci.id}", headers=web.bearer(admin_secret))
    assert again.status_code == 200 and body(again) == body(revoked)  # idempotent
    missing = web.client.delete("/api/v1/tokens/nope", headers=web.bearer(admin_secret))
    assert missing.status_code == 404 and body(missing) == {"error": "token not found"}
    assert_documented("/api/v1/tokens/{token_id}", "DELETE", 404, body(missing))


def test_an_admin_session_needs_its_csrf_token_to_revoke(web: Web) -> None:
    _, admin_secret = web.records.create_token("ops", admin=True)
    ci, _ = web.token("ci")
    _, csrf = sign_in(web, admin_secret)
    assert web.client.get("/api/v1/tokens").status_code == 200
    assert web.client.delete(f"/api/v1/tokens/{ci.id}").status_code == 403
    assert web.records.get_token(ci.id).active
    done = web.client.delete(f"/api/v1/tokens/{ci.id}", headers={"X-CSRF-Token": csrf})
    assert done.status_code == 200 and not web.records.get_token(ci.id).active


def test_the_local_user_of_an_open_server_is_the_admin(web_factory: WebFactory) -> None:
    web = web_factory(auth="off")
    token, secret = web.token("ci")
    assert web.client.get("/api/v1/tokens").status_code == 200
    assert web.client.get("/api/v1/tokens", headers=web.bearer(secret)).status_code == 403
    assert web.client.delete(f"/api/v1/tokens/{token.id}").status_code == 200
    assert not web.records.get_token(token.id).active


# -- Socket.IO clients -----------------------------------------------------------------------

@contextmanager
def watched(url: str, **kwargs: Any) -> Iterator[tuple[socketio.Client, threading.Event]]:
    """A client on namespace /jobs (no reconnection) and an event set when it is dropped."""
    client = socketio.Client(reconnection=False, handle_sigint=False)
    dropped = threading.Event()
    client.on("disconnect", lambda *_reason: dropped.set(), namespace="/jobs")
    client.connect(url, namespaces=["/jobs"], transports=["polling"], wait_timeout=10,
                   **kwargs)
    try:
        yield client, dropped
    finally:
        client.disconnect()


def joins(client: socketio.Client, job_id: str) -> bool:
    ack = client.call("join", {"job_id": job_id}, namespace="/jobs", timeout=10)
    return bool(ack == {"ok": True, "job_id": job_id})


def test_revoking_a_token_ends_its_session_and_disconnects_its_clients(
        web_factory: WebFactory) -> None:
    # A long periodic check: the process that revokes must act at once, not on its timer.
    web = web_factory(session_check_interval=600.0)
    _, admin = web.records.create_token("ops", admin=True)
    alice, alice_secret = web.token("alice")
    _, bob_secret = web.token("bob")
    bobs_job = web.submit(bob_secret)["id"]
    cookie, _ = sign_in(web, alice_secret)
    with serving(web.app) as url, \
            watched(url, auth={"token": alice_secret}) as (_, by_token), \
            watched(url, headers={"Cookie": cookie}) as (_, by_cookie), \
            watched(url, auth={"token": bob_secret}) as (bob, bob_dropped):
        revoked = web.client.delete(f"/api/v1/tokens/{alice.id}", headers=web.bearer(admin))
        assert revoked.status_code == 200
        assert by_token.wait(DISCONNECT_DEADLINE) and by_cookie.wait(DISCONNECT_DEADLINE)
        assert joins(bob, bobs_job) and not bob_dropped.is_set()  # others are untouched
        with pytest.raises(socketio.exceptions.ConnectionError):  # and none come back
            watched(url, headers={"Cookie": cookie}).__enter__()
    assert web.client.get("/api/v1/jobs").status_code == 401  # alice's session ended


def test_sign_out_disconnects_that_sessions_clients_only(web_factory: WebFactory) -> None:
    web = web_factory(session_check_interval=600.0)
    _, secret = web.token()
    job_id = web.submit(secret)["id"]
    cookie, csrf = sign_in(web, secret)
    with serving(web.app) as url, \
            watched(url, headers={"Cookie": cookie}) as (_, by_cookie), \
            watched(url, auth={"token": secret}) as (by_token, token_dropped):
        assert web.client.delete("/api/v1/session",
                                 headers={"X-CSRF-Token": csrf}).status_code == 204
        assert by_cookie.wait(DISCONNECT_DEADLINE)
        assert joins(by_token, job_id) and not token_dropped.is_set()


def test_a_revoke_from_another_process_reaches_this_ones_clients(
        web_factory: WebFactory, web_db: str, tmp_path: Path) -> None:
    """`onegin token revoke` runs in its own process: this server learns of it from the
    database, at its next periodic check."""
    web = web_factory(session_check_interval=0.2)
    token, secret = web.token("laptop")
    cookie, _ = sign_in(web, secret)
    env = {"ONEGIN_HOME": str(tmp_path / "cli-home"), "ONEGIN_DATABASE_URL": web_db}
    with serving(web.app) as url, \
            watched(url, auth={"token": secret}) as (_, by_token), \
            watched(url, headers={"Cookie": cookie}) as (_, by_cookie):
        done = onegin("token", "revoke", token.id, env=env)
        assert done.returncode == 0, done.stderr
        assert by_token.wait(DISCONNECT_DEADLINE) and by_cookie.wait(DISCONNECT_DEADLINE)


# -- the CLI ---------------------------------------------------------------------------------

def test_token_list_and_revoke_commands(tmp_path: Path) -> None:
    env = {"ONEGIN_HOME": str(tmp_path / "home")}
    made = [onegin("token", "create", *args, env=env)
            for args in (("ops", "--admin"), ("ci",), ("ci",))]
    assert [m.returncode for m in made] == [0, 0, 0], [m.stderr for m in made]
    assert made[0].stderr.startswith("admin token ") and made[1].stderr.startswith("token ")
    ops_secret, *ci_secrets = (m.stdout.strip() for m in made)

    listed = onegin("token", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    header, *lines = listed.stdout.splitlines()
    assert re.split(r"\s{2,}", header) == ["ID", "NAME", "ADMIN", "CREATED (UTC)", "LAST USED",
                                           "REVOKED"]
    rows = [line.split() for line in lines]
    assert [(r[1], r[2]) for r in rows] == [("ops", "yes"), ("ci", "no"), ("ci", "no")]
    assert all(r[-2:] == ["-", "-"] for r in rows)  # never used, not revoked
    assert not any(secret in listed.stdout for secret in (ops_secret, *ci_secrets))
    first_ci, second_ci = rows[1][0], rows[2][0]

    ambiguous = onegin("token", "revoke", "ci", env=env)
    assert ambiguous.returncode == 2
    assert f"{first_ci}, {second_ci}" in ambiguous.stderr and "give the id" in ambiguous.stderr
    assert onegin("token", "revoke", first_ci, env=env).returncode == 0
    by_name = onegin("token", "revoke", "ci", env=env)  # now it names one active token
    assert by_name.returncode == 0 and second_ci in by_name.stderr
    again = onegin("token", "revoke", first_ci, env=env)
    assert again.returncode == 0 and "already revoked" in again.stderr
    unknown = onegin("token", "revoke", "nobody", env=env)
    assert unknown.returncode == 2 and "no token has the id or name 'nobody'" in unknown.stderr

    relisted = onegin("token", "list", env=env).stdout.splitlines()[1:]
    revoked = [line.split()[0] for line in relisted
               if re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d$", line)]
    assert revoked == [first_ci, second_ci]
    client = create_app(load_settings(env=env)).test_client()
    for secret, status in ((ops_secret, 200), *((s, 401) for s in ci_secrets)):
        assert client.get("/api/v1/jobs", headers={"Authorization": f"Bearer {secret}"}
                          ).status_code == status
