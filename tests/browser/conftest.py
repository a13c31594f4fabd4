"""Fixtures for the dashboard's browser tests: real servers, Debian's chromium, screenshots.

Every server is the real app: `onegin web` (embedded: SQLite, the filesystem broker, the
orchestrator and GPU workers as local processes) in a subprocess on a free loopback port
with its own temporary ``ONEGIN_HOME``, started by `onegin_web`. The `dashboard` fixture
is ``onegin web --workers 2`` (auth is off on loopback), so jobs really train on
``digits``; or, with ``ONEGIN_TEST_BROWSER_URL``, a server that is already running.
`signin_server` is one with auth required and a token made by ``onegin token create``.
The chosen server is printed in pytest's header line and on each test's report.

Chromium is Debian's (/usr/bin/chromium, see scripts/browser.sh), driven by Python
Playwright through ``executable_path``; `playwright install` is never needed.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("ONEGIN_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
VENDOR = ROOT / "webapp" / "static" / "vendor"
VENDOR_FILES = ("socket.io.esm.min.js", "cytoscape.esm.min.js", "echarts.esm.min.js",
                "three.module.js")
REAL_START_TIMEOUT = 120.0
SCREENSHOTS_ENV = ("ONEGIN_TEST_SCREENSHOTS",)
TEST_ONLY_ENV = frozenset(SCREENSHOTS_ENV)


@dataclass
class Dashboard:
    url: str
    backend: str  # "real" (started here) or "external" (ONEGIN_TEST_BROWSER_URL)


@dataclass
class SignInServer:
    url: str
    token_name: str
    token: str  # the secret `onegin token create` printed


def _missing(reason: str) -> NoReturn:
    """Skip on a laptop without the browser; fail in CI, where it must be there."""
    if os.environ.get("ONEGIN_REQUIRE_SERVICES") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def backend_choice() -> str:
    return "external" if os.environ.get("ONEGIN_TEST_BROWSER_URL") else "real"


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


def _onegin_env(home: Path, settings: dict[str, str]) -> dict[str, str]:
    """The environment of an `onegin` command on ``home``: only real settings may reach it
    (the settings loader rejects unknown ONEGIN_* names)."""
    env = {k: v for k, v in os.environ.items() if k not in TEST_ONLY_ENV}
    env.update(ONEGIN_HOME=str(home), ONEGIN_OFFLINE="1",
               ONEGIN_TF_THREADS=os.environ.get("ONEGIN_TF_THREADS", "2"), **settings)
    return env


def onegin_command(home: Path, *args: str, **settings: str) -> str:
    """Run ``onegin ARGS`` on ``home`` and return its standard output."""
    done = subprocess.run([sys.executable, "-m", "onegin.cli", *args], cwd=ROOT,
                          env=_onegin_env(home, settings), capture_output=True, text=True,
                          timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"onegin {' '.join(args)} exited with {done.returncode}:\n"
                           f"{done.stderr[-4000:]}")
    return done.stdout


@contextmanager
def onegin_web(home: Path, *, workers: int, **settings: str) -> Iterator[str]:
    """``onegin web --workers N`` on ``home`` and a free loopback port, with ``settings``
    as ONEGIN_* variables; yields its URL once it answers, stops it (and its workers) after."""
    ensure_vendor_files()
    port = _free_port()
    log = home / "web.log"
    command = [sys.executable, "-m", "onegin.cli", "web", "--host", "127.0.0.1",
               "--port", str(port), "--workers", str(workers)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=_onegin_env(home, settings),
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, REAL_START_TIMEOUT, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    """The server under test (see the module docstring for how it is chosen)."""
    if backend_choice() == "external":
        ensure_vendor_files()
        url = os.environ["ONEGIN_TEST_BROWSER_URL"].rstrip("/")
        _wait_until_up(url, 30)
        yield Dashboard(url, "external")
        return
    with onegin_web(tmp_path_factory.mktemp("onegin-home"), workers=2) as url:
        yield Dashboard(url, "real")


@pytest.fixture(scope="session")
def signin_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SignInServer]:
    """The real app with sign-in required (``ONEGIN_AUTH=required``, although on loopback)
    and no GPU worker, and a token made as an operator makes one."""
    home = tmp_path_factory.mktemp("onegin-auth")
    name = "browser-tester"
    printed = onegin_command(home, "token", "create", name)
    token = printed.strip().splitlines()[-1]
    with onegin_web(home, workers=0, ONEGIN_AUTH="required") as url:
        yield SignInServer(url, name, token)


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
