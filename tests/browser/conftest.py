"""Fixtures for the dashboard's browser tests: a server, Debian's chromium, screenshots.

Which server (`dashboard` fixture), in this order:
  - ``ONEGIN_TEST_BROWSER_URL``: a server that is already running (e.g. ``onegin web``);
  - ``ONEGIN_TEST_BROWSER_BACKEND=real|fake`` forces one of the two below;
  - the REAL back end when ``webapp.server`` exists: ``onegin web --workers 2`` in a
    subprocess on a free loopback port with a temporary ``ONEGIN_HOME`` (auth is off on
    loopback), so jobs really train on ``digits``;
  - else the FAKE back end (tests/browser/fake_backend.py), in a thread.
The chosen back end is printed in pytest's header line and on each test's report.

Chromium is Debian's (/usr/bin/chromium, see scripts/browser.sh), driven by Python
Playwright through ``executable_path``; `playwright install` is never needed.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("ONEGIN_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
VENDOR = ROOT / "webapp" / "static" / "vendor"
VENDOR_FILES = ("socket.io.esm.min.js", "cytoscape.esm.min.js")
REAL_START_TIMEOUT = 120.0
SCREENSHOTS_ENV = ("ONEGIN_TEST_SCREENSHOTS",)
TEST_ONLY_ENV = frozenset(SCREENSHOTS_ENV)


@dataclass
class Dashboard:
    url: str
    backend: str  # "real", "fake" or "external"



def _missing(reason: str) -> None:
    """Skip on a laptop without the browser; fail in CI, where it must be there."""
    if os.environ.get("ONEGIN_REQUIRE_SERVICES") == "1":
        pytest.fail(reason)
    pytest.skip(reason)

def backend_choice() -> str:
    if os.environ.get("ONEGIN_TEST_BROWSER_URL"):
        return "external"
    forced = os.environ.get("ONEGIN_TEST_BROWSER_BACKEND", "").strip().lower()
    if forced in ("real", "fake"):
        return forced
    try:
        real = importlib.util.find_spec("webapp.server") is not None
    except ImportError:
        real = False
    return "real" if real else "fake"


def pytest_report_header(config: pytest.Config) -> str:
    return f"onegin browser tests: back end = {backend_choice()}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(url: str, timeout: float, process: subprocess.Popen[bytes] | None = None,
                   log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            tail = log.read_text(errors="replace")[-4000:] if log else ""
            raise RuntimeError(f"the server exited with {process.returncode}:\n{tail}")
        try:
            with urllib.request.urlopen(url + "/api/v1/session", timeout=2):
                return
        except urllib.error.HTTPError:
            return  # 401: up, with auth on
        except OSError:
            time.sleep(0.25)
    raise RuntimeError(f"no server answered at {url} within {timeout:.0f}s")


def ensure_vendor_files() -> None:
    """Build webapp/static/vendor with npm when it is missing (scripts/setup.sh does this)."""
    if all((VENDOR / name).is_file() for name in VENDOR_FILES):
        return
    npm = shutil.which("npm")
    if npm is None:
        _missing("webapp/static/vendor is not built and npm is not installed")
    frontend = ROOT / "webapp" / "frontend"
    if not (frontend / "node_modules").is_dir():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=frontend, check=True)
    subprocess.run([npm, "run", "build"], cwd=frontend, check=True)


def _serve_in_thread(app: Any) -> tuple[str, Any]:
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, name="fake-backend", daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


@pytest.fixture(scope="session")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    """The server under test (see the module docstring for how it is chosen)."""
    ensure_vendor_files()
    choice = backend_choice()
    if choice == "external":
        url = os.environ["ONEGIN_TEST_BROWSER_URL"].rstrip("/")
        _wait_until_up(url, 30)
        yield Dashboard(url, "external")
    elif choice == "fake":
        from tests.browser.fake_backend import create_fake_app

        app, _socketio = create_fake_app(auth=False, step=0.12)
        url, server = _serve_in_thread(app)
        _wait_until_up(url, 10)
        yield Dashboard(url, "fake")
        server.shutdown()
    else:
        home = tmp_path_factory.mktemp("onegin-home")
        port = _free_port()
        log = home / "web.log"
        # Only real settings may reach it: the settings loader rejects unknown ONEGIN_* names.
        env = {k: v for k, v in os.environ.items() if k not in TEST_ONLY_ENV}
        env.update(ONEGIN_HOME=str(home), ONEGIN_OFFLINE="1",
                   ONEGIN_TF_THREADS=os.environ.get("ONEGIN_TF_THREADS", "2"))
        command = [sys.executable, "-m", "onegin.cli", "web", "--host", "127.0.0.1",
                   "--port", str(port), "--workers", "2"]
        with log.open("wb") as out:
            process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_until_up(url, REAL_START_TIMEOUT, process, log)
            yield Dashboard(url, "real")
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="session")
def fake_with_auth() -> Iterator[str]:
    """A FAKE back end with sign-in required (token fake_backend.TOKEN), for the sign-in form."""
    from tests.browser.fake_backend import create_fake_app

    ensure_vendor_files()
    app, _socketio = create_fake_app(auth=True, step=0.12)
    url, server = _serve_in_thread(app)
    _wait_until_up(url, 10)
    yield url
    server.shutdown()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).is_file():
        _missing(f"no chromium at {CHROMIUM} (run scripts/browser.sh)")
    from playwright.sync_api import sync_playwright  # test_dashboard skips without it

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: $ONEGIN_TEST_SCREENSHOTS, else a
    temporary folder."""
    configured = next((os.environ[k] for k in SCREENSHOTS_ENV if os.environ.get(k)), None)
    folder = Path(configured) if configured else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class ConsoleErrors(list[str]):
    """JavaScript errors and failed requests seen by a page (checked at teardown)."""


@pytest.fixture
def page(browser: Any, dashboard: Dashboard, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800},
                                  accept_downloads=True, base_url=dashboard.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors = watch_errors(page)
    request.node.user_properties.append(("backend", dashboard.backend))
    yield page
    context.close()
    assert not errors, "\n".join(errors)


# Every Content-Security-Policy violation, reported as a console error the watcher sees
# (Chromium logs most of them anyway; this names the directive and what was blocked).
REPORT_CSP_VIOLATIONS = """document.addEventListener("securitypolicyviolation", (e) =>
  console.error(`CSP violation: ${e.effectiveDirective} blocked ${e.blockedURI || "inline"}`
                + ` (${e.sourceFile || "?"}:${e.lineNumber})`));"""


def watch_errors(page: Any) -> ConsoleErrors:
    """Collect uncaught exceptions, console errors and CSP violations; an HTTP error status
    the dashboard handles itself (such as 404 from /best before the best model is copied)
    is not one."""
    errors = ConsoleErrors()
    page.add_init_script(REPORT_CSP_VIOLATIONS)
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))

    def on_console(message: Any) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(f"console error: {message.text}")

    page.on("console", on_console)
    return errors
