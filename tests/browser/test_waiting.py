"""A job that no GPU worker takes says so, in the API and in the dashboard's job header.

The real ``onegin web`` (embedded: SQLite, the filesystem broker, the orchestrator in
its process) with NO GPU worker (``--workers 0``), in a subprocess; Debian's chromium.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import onegin_web, watch_errors


@pytest.fixture(scope="module")
def workerless(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with onegin_web(tmp_path_factory.mktemp("workerless"), workers=0,
                    ONEGIN_HEARTBEAT_INTERVAL="0.2", ONEGIN_HEARTBEAT_TIMEOUT="2") as url:
        yield url


def _submit(url: str, **config: Any) -> dict[str, Any]:
    request = urllib.request.Request(f"{url}/api/v1/jobs", data=json.dumps(config).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return dict(json.load(response))


def test_the_job_header_says_it_waits_for_workers_with_the_queue_depth(
        browser: Any, workerless: str, tmp_path: Path) -> None:
    job = _submit(workerless, dataset="digits", trials=4, concurrency=2, epochs=1)
    assert job["waiting"] is None  # nothing sent yet
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=workerless)
    context.set_default_timeout(30_000)
    page = context.new_page()
    errors = watch_errors(page)
    page.goto(f"/#/jobs/{job['id']}")
    line = page.wait_for_selector("#job-waiting:not([hidden])")
    text = line.inner_text()
    assert text.startswith("Waiting for GPU workers since ")
    assert "(2 trials in the GPU queue)" in text
    page.screenshot(path=str(tmp_path / "waiting.png"))
    with urllib.request.urlopen(f"{workerless}/api/v1/jobs/{job['id']}", timeout=10) as reply:
        waiting = json.load(reply)["waiting"]
    assert waiting["gpu_queue_depth"] == 2 and waiting["since"]
    page.click("#cancel-button")  # it was started: its orchestrator ends it
    page.wait_for_selector('#job-status .badge[data-status="cancelled"]')
    assert page.is_hidden("#job-waiting")
    context.close()
    assert not errors, "\n".join(errors)
