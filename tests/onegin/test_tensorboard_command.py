"""`onegin tensorboard`, run as the command it is: the job's records in PostgreSQL, its
trials' logs in moto's S3 server (as a worker on another machine would have left them),
and TensorBoard's own HTTP API asked which runs it serves and what they hold."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from onegin.artifacts import ArtifactStore, open_artifact_store, tensorboard_prefix
from onegin.cli import main
from onegin.records import RecordStore, open_record_store
from tests.fixtures.proc_tree import descendants, wait_gone
from tests.fixtures.services import free_port
from tests.fixtures.tensorboard_logs import event_files, store_logs

REPO = Path(__file__).resolve().parents[2]
LOSSES = {0: [1.0, 0.5], 1: [0.9, 0.6], 2: [2.0, 1.9]}
PARAMS = {0: {"conv_layers": 2, "learning_rate": 0.0012, "batch_norm": True},
          1: {"conv_layers": 3, "learning_rate": 0.01, "batch_norm": True},
          2: {"conv_layers": 3, "learning_rate": 0.1, "batch_norm": True},
          3: {"conv_layers": 1, "learning_rate": 0.5, "batch_norm": True},
          4: {"conv_layers": 1, "learning_rate": 0.2, "batch_norm": False}}
STATUSES = {0: "completed", 1: "completed", 2: "pruned", 3: "failed", 4: "running"}
START_SECONDS = 90.0  # TensorBoard starts in about 2 s; a busy machine may take far longer


@dataclass
class Stand:
    """A job of 5 trials (3 with logs) and the environment a command needs to reach it."""

    job_id: str
    records: RecordStore
    store: ArtifactStore
    env: dict[str, str]


@pytest.fixture(scope="module")
def stand(postgres_url: str, s3_endpoint: str) -> Iterator[Stand]:
    credentials = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                   "AWS_DEFAULT_REGION": "us-east-1"}
    artifacts = f"s3://onegin-tb-{uuid.uuid4().hex[:8]}/cluster"
    with pytest.MonkeyPatch.context() as patch:
        for name, value in credentials.items():
            patch.setenv(name, value)
        records = open_record_store(postgres_url, upgrade=True)
        store = open_artifact_store(artifacts, endpoint_url=s3_endpoint)
        job = records.create_job({"dataset": "digits", "trials": 5})
        records.update_job(job.id, status="running")
        for number, status in STATUSES.items():
            records.upsert_trial(job.id, number, status=status, params=PARAMS[number])
        store_logs(store, job.id, event_files(LOSSES))
        env = {"ONEGIN_DATABASE_URL": postgres_url, "ONEGIN_ARTIFACTS_URL": artifacts,
               "ONEGIN_S3_ENDPOINT_URL": s3_endpoint, **credentials}
        yield Stand(job.id, records, store, env)
        records.close()


class Command:
    """``onegin tensorboard …`` in its own process, once it has printed its URL."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "onegin.cli", "tensorboard", *args], cwd=REPO, text=True,
            env=os.environ | env | {"COLUMNS": "200"},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert self.process.stdout is not None
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.append(self.process.stdout.readline()))
        reader.start()
        reader.join(START_SECONDS)
        if not lines or not lines[0].startswith("http://127.0.0.1:"):
            self.process.kill()
            pytest.fail(f"no URL: {lines} {self.process.communicate()[1]}")
        self.url = lines[0].strip()
        self.port = int(self.url.rsplit(":", 1)[1].strip("/"))

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.url + path, timeout=10) as response:
            return json.loads(response.read())

    def runs(self, expected: int) -> list[str]:
        """The runs TensorBoard lists once it has read ``expected`` of them (it reads the
        folder in the background after it starts serving)."""
        deadline = time.monotonic() + 30
        runs: list[str] = self.get("data/runs")
        while len(runs) < expected and time.monotonic() < deadline:
            time.sleep(0.2)  # readiness poll of the server under test, with a deadline
            runs = self.get("data/runs")
        return sorted(runs)

    def stop(self, signum: int) -> tuple[int, str]:
        """Send ``signum``; the exit code and stderr once the command and every process it
        started (TensorBoard, its data server) have ended."""
        children = descendants(self.process.pid)
        assert children, "TensorBoard runs in a process of its own"
        self.process.send_signal(signum)
        _, stderr = self.process.communicate(timeout=30)
        assert not wait_gone(children, timeout=15)
        return self.process.returncode, stderr


def listens(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_serves_the_trials_logs_from_s3_and_reuses_the_cache(stand: Stand,
                                                             tmp_path: Path) -> None:
    env = stand.env | {"ONEGIN_HOME": str(tmp_path)}
    job = Command([stand.job_id], env)
    names = ["trial-000 · conv_layers=2 learning_rate=0.0012",
             "trial-001 · conv_layers=3 learning_rate=0.01",
             "trial-002 · conv_layers=3 learning_rate=0.1"]
    assert job.runs(6) == sorted(f"{n}/{split}" for n in names for split in
                                 ("train", "validation"))
    loss = job.get("data/plugin/scalars/scalars?tag=epoch_loss&run="
                   + urllib.request.quote(f"{names[2]}/train"))
    assert [(step, value) for _, step, value in loss] == [(0, 2.0), (1, pytest.approx(1.9))]
    code, stderr = job.stop(signal.SIGTERM)
    assert code == -signal.SIGTERM and not listens(job.port)
    assert "left out, no logs: trial 3 (failed); trial 4 (running: its logs are stored " \
           "when it ends)" in stderr
    assert f"job {stand.job_id}: 3 runs; fetched 6 files" in stderr
    job_cache = next(tmp_path.glob(f"tensorboard/*/{stand.job_id}"))
    assert sorted(p.name for p in job_cache.iterdir()) == ["0", "1", "2", "3", "4"]  # no runs-*

    # The ended trials' logs are final: a second run takes them from the cache, never asking
    # the store (here it no longer has trial 1's), and names the runs by what differs.
    stand.store.delete(tensorboard_prefix(stand.job_id, 1))
    some = Command([stand.job_id, "2", "1"], env)
    assert some.runs(4) == ["trial-001 · learning_rate=0.01/train",
                            "trial-001 · learning_rate=0.01/validation",
                            "trial-002 · learning_rate=0.1/train",
                            "trial-002 · learning_rate=0.1/validation"]
    code, stderr = some.stop(signal.SIGINT)
    assert code == 130 and not listens(some.port)
    assert "2 runs; fetched 0 files (0 bytes), 4 already in" in stderr


def onegin_tensorboard(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["tensorboard", *args])
    return code, capsys.readouterr().err


@pytest.fixture
def settings_env(stand: Stand, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in (stand.env | {"ONEGIN_HOME": str(tmp_path), "COLUMNS": "200"}).items():
        monkeypatch.setenv(name, value)


@pytest.mark.usefixtures("settings_env")
@pytest.mark.parametrize(("args", "code", "said"), [
    (["nope"], 2, "invalid job: no job 'nope'"),
    (["{job}", "1", "12", "9"], 2, "invalid trials: job {job} has no trial 9, 12 "
                                    "(its trials are 0–4)"),
    (["{job}", "0", "3", "4"], 2, "nothing to show: no TensorBoard logs for trial 3 (failed); "
                                  "trial 4 (running: its logs are stored when it ends)"),
    (["{job}", "--port", "70000"], 2, "invalid --port: must be 0 (a free port) to 65535, "
                                      "got 70000"),
])
def test_bad_input_is_named(stand: Stand, capsys: pytest.CaptureFixture[str], args: list[str],
                            code: int, said: str) -> None:
    assert onegin_tensorboard(capsys, *(a.format(job=stand.job_id) for a in args)) == \
        (code, said.format(job=stand.job_id) + "\n")


@pytest.mark.usefixtures("settings_env")
def test_an_unreachable_store_or_database_is_named(stand: Stand,
                                                   capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    closed = f"127.0.0.1:{free_port()}"
    monkeypatch.setenv("ONEGIN_S3_ENDPOINT_URL", f"http://{closed}")
    code, stderr = onegin_tensorboard(capsys, stand.job_id, "--set", "outage_limit=0.5")
    assert code == 3 and stderr.startswith("artifact store unavailable: ")
    assert closed in stderr
    monkeypatch.setenv("ONEGIN_DATABASE_URL", f"postgresql+psycopg2://onegin@{closed}/onegin")
    code, stderr = onegin_tensorboard(capsys, stand.job_id)
    assert code == 3 and stderr.startswith("database unavailable: ")


def test_without_the_tensorboard_package_it_says_what_to_install(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # find_spec: not installed
    code, stderr = onegin_tensorboard(capsys, "any")
    assert code == 3 and "TensorBoard is not installed here" in stderr
    assert "the `tensorboard` extra" in stderr


@pytest.mark.usefixtures("settings_env")
def test_a_comparison_names_its_runs(stand: Stand, capsys: pytest.CaptureFixture[str]) -> None:
    comparison = stand.records.create_job({"dataset": "digits"}, kind="compare")
    run = stand.records.create_job({"dataset": "digits"}, parent_id=comparison.id)
    assert onegin_tensorboard(capsys, comparison.id) == (2, (
        f"invalid job: {comparison.id} is a comparison: its trials belong to its runs, "
        f"jobs {run.id}; give one of those\n"))
