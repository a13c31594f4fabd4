"""The REST API fuzzed from its own OpenAPI document by schemathesis, auth on and off.

`schemathesis run` (its command line, the documented interface) drives a real
HTTP server holding the real app on PostgreSQL with local artifacts. Every
phase runs: the document's examples, coverage cases (boundaries, each
constraint broken in turn), random valid and invalid requests, and stateful
sequences (create, read, cancel, delete). Every check must pass on every
answer: no 5xx; only documented status codes, content types, headers and
bodies; invalid data refused and valid data accepted; auth enforced where the
document says so; 405 for undocumented methods. Jobs go to an in-memory broker
that nothing consumes, so no training ever starts.

`tests/webapp/fuzz_hooks.py` points path parameters at a real job, trial and
file half of the time, so real records are checked too, and makes valid job
requests satisfy the rules that JSON Schema cannot state.

ONEGIN_TEST_FUZZ_SECONDS (default 50) is each run's time budget; a long run sets
more. The server counts every request and 5xx it answered.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from onegin.artifacts import best_prefix, report_prefix, trial_prefix
from onegin.records.migrate import upgrade
from tests.webapp.conftest import Web, WebFactory
from tests.webapp.fuzz_hooks import KNOWN_COMPARISON, KNOWN_JOB, REPORT_NAMES
from tests.webapp.test_best import FILES, HEALTH

SECONDS = int(os.environ.get("ONEGIN_TEST_FUZZ_SECONDS", "50"))


@dataclass
class Tally:
    """Status codes of every request the app answered (the fuzzer's probes included)."""

    statuses: Counter[int] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wrap(self, app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
        def counted(environ: dict[str, Any], start_response: Callable[..., Any]
                    ) -> Iterable[bytes]:
            def start(status: str, headers: Any, *args: Any) -> Any:
                with self.lock:
                    self.statuses[int(status.split()[0])] += 1
                return start_response(status, headers, *args)
            return app(environ, start)
        return counted

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)


def seed_job(web: Web, secret: str | None) -> str:
    """A running job (so DELETE answers 409 and it stays) with two trials and a best model."""
    headers = web.bearer(secret) if secret else {}
    response = web.client.post("/api/v1/jobs", headers=headers, json={"trials": 2, "epochs": 1})
    assert response.status_code == 201, response.get_json()
    job_id: str = response.get_json()["id"]
    web.records.upsert_trial(job_id, 0, status="completed", total_score=0.5, val_accuracy=0.6,
                             params={"filters": 16}, intermediate={"1": 0.6})
    web.records.upsert_trial(job_id, 1, status="completed", params={"filters": 32},
                             total_score=0.88, val_accuracy=0.93, health=HEALTH,
                             health_score=0.7, metrics={"test_accuracy": 0.91})
    web.records.update_job(job_id, status="running", best_trial_number=1, best_score=0.88,
                           best_accuracy=0.93)
    store = web.services.artifacts
    for name, data in FILES.items():
        store.put_bytes(trial_prefix(job_id, 1) + name, data)
    store.copy(trial_prefix(job_id, 1), best_prefix(job_id))
    store.put_bytes(best_prefix(job_id) + "best_hyperparameters.yaml",
                    yaml.safe_dump({"job_id": job_id, "trial": 1}).encode())
    return job_id


def seed_comparison(web: Web, secret: str | None) -> str:
    """A comparison with a stored report."""
    headers = web.bearer(secret) if secret else {}
    response = web.client.post("/api/v1/comparisons", headers=headers, json={"seeds": 1})
    assert response.status_code == 201, response.get_json()
    job_id: str = response.get_json()["job"]["id"]
    for name in REPORT_NAMES.values():
        web.services.artifacts.put_bytes(report_prefix(job_id) + name, b"{}")
    return job_id


class _Quiet(WSGIRequestHandler):
    """No access log line per request (thousands per run); errors still go to the log."""

    def log_request(self, *args: Any) -> None:
        pass


@pytest.fixture
def serve() -> Iterator[Callable[[Any], str]]:
    """Serves a WSGI app on a free loopback port (threaded, like production); its base URL."""
    servers: list[tuple[BaseWSGIServer, threading.Thread]] = []

    def start(app: Any) -> str:
        server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_Quiet)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append((server, thread))
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server, thread in servers:
        server.shutdown()
        thread.join(timeout=10)


def config_file(path: Path, secret: str | None) -> Path:
    """schemathesis.toml: every check and phase, this run's budget and the token.

    A job's trials, their files and its best model, and a comparison's report, are
    made later by the orchestrator and the workers, so "a resource just created
    answers 404" is no fault there (the stateful phase links every operation with a
    ``job_id`` to ``POST /jobs`` and ``POST /comparisons``). Nor is it for a
    comparison, which is a job: the fuzzer may delete it (cancel, then
    ``DELETE /jobs/{job_id}``) and cannot tell that this removed ``/comparisons/{job_id}``.
    """
    lines = [f"max-time = {SECONDS}", "", "[checks]", "enabled = true", "",
             "[generation]", 'mode = "all"', 'database = "none"', "",
             "[[operations]]", 'include-path-regex = "/(best|trials/|comparisons/)"',
             "checks.ensure_resource_availability.enabled = false"]
    if secret:
        lines += ["", "[auth.openapi.bearerAuth]", f"bearer = {json.dumps(secret)}"]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("auth", ["required", "off"])
def test_the_api_answers_as_its_document_says(auth: str, web_factory: WebFactory,
                                              serve: Callable[[Any], str],
                                              own_postgres_url: str, tmp_path: Path) -> None:
    # its own database: with auth off the job list shows every job, and other tests'
    # records (made straight in the store, not through the API) are not the API's to answer
    upgrade(own_postgres_url)
    web = web_factory(database_url=own_postgres_url, auth=auth)
    secret = web.token("fuzzer")[1] if auth == "required" else None
    job_id = seed_job(web, secret)
    comparison_id = seed_comparison(web, secret)
    tally = Tally()
    base = serve(tally.wrap(web.app))
    done = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "--no-color", "--config-file",
         str(config_file(tmp_path / "schemathesis.toml", secret)), "run",
         f"{base}/api/v1/openapi.json"],
        cwd=tmp_path, capture_output=True, text=True, timeout=SECONDS + 120, check=False,
        env=os.environ | {"SCHEMATHESIS_HOOKS": "tests.webapp.fuzz_hooks",
                          KNOWN_JOB: job_id, KNOWN_COMPARISON: comparison_id,
                          "PYTHONPATH": os.pathsep.join(sys.path)})
    print(f"\nfuzz (auth {auth}): {tally.requests} requests, {tally.server_errors} 5xx, "
          f"statuses {dict(sorted(tally.statuses.items()))}")
    assert done.returncode == 0, done.stdout[-12000:] + done.stderr[-3000:]
    assert tally.server_errors == 0
    assert tally.requests > 200  # the run really fuzzed (tens a second)
