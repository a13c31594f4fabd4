"""Security headers: the dashboard's Content-Security-Policy (no framing, no inline code but
its nonce'd import map), and nosniff / no framing / same-origin referrers everywhere."""

from __future__ import annotations

import re

import pytest

from onegin.artifacts import trial_prefix
from tests.webapp.conftest import Web
from webapp.headers import OTHER_POLICY, dashboard_policy, security_headers

EVERYWHERE = {"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
              "Referrer-Policy": "same-origin"}


def directives(policy: str) -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *values = part.split()
        assert name not in parsed, f"{name} given twice"
        parsed[name] = values
    return parsed


def test_the_dashboard_page_carries_its_policy(web: Web) -> None:
    first, second = web.client.get("/"), web.client.get("/")
    assert first.status_code == 200 and first.mimetype == "text/html"
    for name, value in EVERYWHERE.items():
        assert first.headers[name] == value
    policy = directives(first.headers["Content-Security-Policy"])
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["default-src"] == ["'self'"] and policy["object-src"] == ["'none'"]
    assert policy["connect-src"] == ["'self'"] and policy["base-uri"] == ["'none'"]
    assert not {"'unsafe-inline'", "'unsafe-eval'", "*"} & {
        v for values in policy.values() for v in values}
    nonce = next(v for v in policy["script-src"] if v.startswith("'nonce-"))[7:-1]
    page = first.get_data(as_text=True)
    assert re.search(r'<script type="importmap" nonce="([^"]+)">', page).group(1) == nonce  # type: ignore[union-attr]
    assert len(nonce) >= 22  # 128 bits or more
    assert nonce not in second.headers["Content-Security-Policy"]  # one per response
    assert "<script>" not in page and " style=" not in page and " on" + "click=" not in page


@pytest.mark.parametrize(("url", "status"), [
    ("/api/v1/healthz", 200), ("/api/v1/openapi.json", 200), ("/metrics", 200),
    ("/static/css/app.css", 200), ("/api/v1/jobs", 401), ("/api/v1/nope", 404),
])
def test_every_other_response_gets_the_headers(web: Web, url: str, status: int) -> None:
    response = web.client.get(url)
    assert response.status_code == status
    for name, value in EVERYWHERE.items():
        assert response.headers[name] == value, (url, name)
    assert response.headers["Content-Security-Policy"] == OTHER_POLICY


def test_a_download_keeps_its_own_sandbox(web: Web) -> None:
    _, secret = web.token()
    job_id = web.submit(secret)["id"]
    web.records.upsert_trial(job_id, 0, status="completed")
    web.services.artifacts.put_bytes(trial_prefix(job_id, 0) + "page.html", b"<script>x</script>")
    response = web.client.get(f"/api/v1/jobs/{job_id}/trials/0/artifacts/page.html",
                              headers=web.bearer(secret))
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"].startswith("sandbox;")
    assert response.headers["X-Frame-Options"] == "DENY"


def test_security_headers_by_content_type() -> None:
    html = security_headers("text/html; charset=utf-8", "abc")
    assert html["Content-Security-Policy"] == dashboard_policy("abc")
    assert "'nonce-abc'" in html["Content-Security-Policy"]
    assert "'nonce-" not in dashboard_policy(None)
    for other in ("application/json", None, "text/html-sandboxed"):
        assert security_headers(other, "abc")["Content-Security-Policy"] == OTHER_POLICY
