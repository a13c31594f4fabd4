"""Access: bearer tokens, browser sessions with CSRF, ownership across tokens, open mode."""

from __future__ import annotations

import pytest

from onegin.records import hash_secret
from tests.webapp.conftest import Web, WebFactory, body
from tests.webapp.schema import assert_documented
from webapp.state import auth_required

PROTECTED = [("GET", "/api/v1/jobs"), ("POST", "/api/v1/jobs"), ("GET", "/api/v1/jobs/abc"),
             ("DELETE", "/api/v1/jobs/abc"), ("POST", "/api/v1/jobs/abc/cancel"),
             ("GET", "/api/v1/jobs/abc/trials"), ("GET", "/api/v1/jobs/abc/best"),
             ("GET", "/api/v1/jobs/abc/study"), ("GET", "/api/v1/session")]


@pytest.mark.parametrize(("method", "url"), PROTECTED)
def test_no_token_is_401(web: Web, method: str, url: str) -> None:
    response = web.client.open(url, method=method, json={})
    assert response.status_code == 401
    data = body(response)
    assert data["error"] and data["auth_required"] is True


@pytest.mark.parametrize("header", ["Bearer nope", "Bearer ", "Basic dXNlcjpwYXNz", "ogn_abc",
                                    "Bearer"])
def test_bad_or_malformed_token_is_401(web: Web, header: str) -> None:
    response = web.client.get("/api/v1/jobs", headers={"Authorization": header})
    assert response.status_code == 401
    assert_documented("/api/v1/jobs", "GET", 401, body(response))


def test_tokens_are_stored_hashed_and_revocation_is_immediate(web: Web) -> None:
    token, secret = web.token("ci", max_trials=5)
    assert secret.startswith("ogn_") and len(secret) > 40
    import sqlalchemy as sa

    engine = sa.create_engine(web.services.settings.database_url)
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT secret_hash FROM onegin_tokens WHERE id = :id"),
                              {"id": token.id}).scalar_one()
    engine.dispose()
    assert stored == hash_secret(secret) and secret not in stored
    assert web.client.get("/api/v1/jobs", headers=web.bearer(secret)).status_code == 200
    web.records.revoke_token(token.id)
    assert web.client.get("/api/v1/jobs", headers=web.bearer(secret)).status_code == 401


def test_jobs_belong_to_their_token(web: Web) -> None:
    _, alice = web.token("alice")
    _, bob = web.token("bob")
    job = web.submit(alice)
    assert web.records.get_job(job["id"]).owner == web.records.find_token(alice).id  # type: ignore[union-attr]
    own = body(web.client.get("/api/v1/jobs", headers=web.bearer(alice)))
    assert [j["id"] for j in own["jobs"]] == [job["id"]] and own["total"] == 1
    assert body(web.client.get("/api/v1/jobs", headers=web.bearer(bob)))["jobs"] == []
    for method, suffix in [("GET", ""), ("GET", "/trials"), ("GET", "/trials/0"),
                           ("GET", "/trials/0/artifacts"), ("GET", "/best"),
                           ("GET", "/best/model.keras"), ("GET", "/study"),
                           ("POST", "/cancel"), ("DELETE", "")]:
        response = web.client.open(f"/api/v1/jobs/{job['id']}{suffix}", method=method,
                                   headers=web.bearer(bob))
        assert response.status_code == 404, (method, suffix)
        assert body(response) == {"error": "job not found"}
    assert web.records.get_job(job["id"]).status == "queued"  # bob changed nothing


def test_browser_session_cookie_and_csrf(web: Web) -> None:
    _, secret = web.token("browser", max_epochs=7)
    response = web.client.post("/api/v1/session", json={"token": secret})
    assert response.status_code == 200
    session = body(response)
    assert_documented("/api/v1/session", "POST", 200, session)
    assert session["name"] == "browser" and session["limits"]["max_epochs"] == 7
    csrf = session["csrf_token"]
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("onegin_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert secret not in cookie

    who = web.client.get("/api/v1/session")
    assert who.status_code == 200 and body(who)["csrf_token"] == csrf
    assert web.client.get("/api/v1/jobs").status_code == 200  # safe: no CSRF header needed

    job = {"dataset": "digits", "trials": 1, "epochs": 1}
    denied = web.client.post("/api/v1/jobs", json=job)
    assert denied.status_code == 403 and "X-CSRF-Token" in body(denied)["error"]
    wrong = web.client.post("/api/v1/jobs", json=job, headers={"X-CSRF-Token": "guess"})
    assert wrong.status_code == 403
    made = web.client.post("/api/v1/jobs", json=job, headers={"X-CSRF-Token": csrf})
    assert made.status_code == 201

    assert web.client.delete("/api/v1/session").status_code == 403
    assert web.client.delete("/api/v1/session", headers={"X-CSRF-Token": csrf}).status_code \
        == 204
    assert web.client.get("/api/v1/session").status_code == 401
    assert web.client.get("/api/v1/jobs").status_code == 401


def test_bearer_requests_need_no_csrf_even_with_a_cookie(web: Web) -> None:
    _, secret = web.token()
    web.client.post("/api/v1/session", json={"token": secret})
    response = web.client.post("/api/v1/jobs", json={"trials": 1, "epochs": 1},
                               headers=web.bearer(secret))
    assert response.status_code == 201


def test_session_cookie_is_secure_over_https(web: Web) -> None:
    _, secret = web.token()
    response = web.client.post("/api/v1/session", json={"token": secret},
                               base_url="https://onegin.example")
    assert "Secure" in response.headers["Set-Cookie"]


def test_https_is_read_from_a_trusted_proxy(web_factory: WebFactory) -> None:
    forwarded = {"X-Forwarded-Proto": "https"}
    for hops, secure in ((0, False), (1, True)):
        web = web_factory(trusted_proxies=hops)
        _, secret = web.token()
        response = web.client.post("/api/v1/session", json={"token": secret}, headers=forwarded)
        assert ("Secure" in response.headers["Set-Cookie"]) is secure


def test_sign_in_refusals(web: Web) -> None:
    bad = web.client.post("/api/v1/session", json={"token": "ogn_wrong"})
    assert bad.status_code == 401
    missing = web.client.post("/api/v1/session", json={})
    assert missing.status_code == 422 and "token" in body(missing)["fields"]
    assert_documented("/api/v1/session", "POST", 422, body(missing))


def test_a_revoked_token_ends_its_sessions(web: Web) -> None:
    token, secret = web.token()
    web.client.post("/api/v1/session", json={"token": secret})
    web.records.revoke_token(token.id)
    assert web.client.get("/api/v1/jobs").status_code == 401
    assert web.client.get("/api/v1/session").status_code == 401


@pytest.mark.parametrize(("mode", "host", "required"), [
    ("auto", "127.0.0.1", False), ("auto", "localhost", False), ("auto", "::1", False),
    ("auto", "0.0.0.0", True), ("auto", "10.1.2.3", True), ("required", "127.0.0.1", True),
    ("off", "0.0.0.0", False),
])
def test_auth_required_by_mode_and_bind_address(mode: str, host: str, required: bool) -> None:
    assert auth_required(mode, host) is required


def test_auto_on_loopback_runs_open_and_beyond_it_requires_tokens(
        web_factory: WebFactory) -> None:
    open_web = web_factory(auth="auto", web_host="127.0.0.1")
    made = open_web.client.post("/api/v1/jobs", json={"trials": 1, "epochs": 1})
    assert made.status_code == 201
    assert body(open_web.client.get("/api/v1/jobs"))["total"] >= 1
    who = open_web.client.get("/api/v1/session")
    assert who.status_code == 401 and body(who)["auth_required"] is False
    # a token still identifies its caller, who then sees only their own jobs
    _, secret = open_web.token()
    assert body(open_web.client.get("/api/v1/jobs", headers=open_web.bearer(secret))) \
        ["total"] == 0
    assert open_web.client.get("/api/v1/jobs", headers=open_web.bearer("ogn_bad")) \
        .status_code == 401

    closed = web_factory(auth="auto", web_host="0.0.0.0")
    assert closed.client.get("/api/v1/jobs").status_code == 401
