"""SIGTERM, SIGHUP and SIGINT to a real embedded `onegin optimize` / `onegin web`, mid-trial.

Each test starts the command as a user would (no servers: SQLite, the filesystem
broker, local events and artifacts), waits on the job's events until both GPU
workers train, sends one signal to the command's process only, and checks that
it exits within ``shutdown_grace`` plus the workers' exit margin, that none of
its descendants survives it (orphans keep their session, so they are found even
once re-parented), and what the records say, as README.md documents it:
SIGINT to `onegin optimize` cancels the job; any other stop leaves it `running`,
released, with no trial `running`, for `onegin optimize --resume` or the next
`onegin web` to go on with.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from gpu_worker.shutdown import HANDED_BACK
from onegin.control import ClaimOutcome
from onegin.control.local import LocalControlStore
from onegin.events.local import LocalEventBus
from onegin.local_workers import STOP_MARGIN
from onegin.records import RecordStore
from orchestrator.runner import JOB_CLAIM, WORKER_STOPPED
from tests.fixtures.proc_tree import Proc, descendants, in_sessions, wait_gone
from tests.fixtures.services import free_port
from tests.integration.harness import TINY, EventWatcher

pytestmark = pytest.mark.slow

# shutdown_grace: the trials below would not end within it, so they are handed back at
# once; it also gives a starved worker that long (plus STOP_MARGIN) before SIGKILL
GRACE = 3.0
# `onegin web` stops its orchestrator after the GPU workers
EXIT_WITHIN = GRACE + 2 * STOP_MARGIN
# trials start together and train ~0.3 s an epoch: mid-training when signalled, and
# quick to resume (no plots)
JOB = TINY | {"trials": 2, "concurrency": 2, "epochs": 30, "pruner": "none",
              "hopeless_stop": False, "plot_mode": "none"}
WEB_JOB = JOB | {"trials": 1, "concurrency": 1}  # one GPU worker: the server is the subject
SIGNALS = [signal.SIGTERM, signal.SIGHUP, signal.SIGINT]
SIGNAL_IDS = [s.name for s in SIGNALS]


def _default_signals() -> None:
    """The command starts as from a terminal, whatever this test run was started under
    (`nohup` ignores SIGHUP, a background shell SIGINT, and children inherit that)."""
    for sig in SIGNALS:
        signal.signal(sig, signal.SIG_DFL)


class Command:
    """An `onegin` command in its own home; stdout and stderr kept in files."""

    def __init__(self, home: Path, *args: str) -> None:
        self.home = home
        self.out, self.err = home.parent / "stdout.txt", home.parent / "stderr.txt"
        env = os.environ | {"ONEGIN_HOME": str(home), "ONEGIN_OFFLINE": "1",
                            "ONEGIN_TF_THREADS": "1", "ONEGIN_SHUTDOWN_GRACE": str(GRACE),
                            "COLUMNS": "120"}
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.proc = subprocess.Popen([sys.executable, "-m", "onegin.cli", *args], env=env,
                                         stdout=out, stderr=err, cwd=home.parent,
                                         start_new_session=True, preexec_fn=_default_signals)

    @property
    def records(self) -> RecordStore:
        return RecordStore(f"sqlite:///{self.home / 'onegin.db'}")

    def job_id(self, timeout: float = 120) -> str:
        """The one job's id, once its event file exists (polled: the command is starting)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_running()
            found = sorted((self.home / "events").glob("*.jsonl"))
            if found:
                return found[0].stem
            time.sleep(0.2)
        raise TimeoutError("no job started")

    def check_running(self) -> None:
        assert self.proc.poll() is None, self.err.read_text()[-3000:]

    def stop(self, sig: int) -> tuple[int, float]:
        """Send ``sig``; the exit code and the seconds it took."""
        started = time.monotonic()
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=EXIT_WITHIN + 30)
        except subprocess.TimeoutExpired:
            pytest.fail(f"still running {EXIT_WITHIN + 30:.0f}s after {signal.Signals(sig).name}")
        return code, time.monotonic() - started

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


@pytest.fixture
def commands() -> Iterator[list[Command]]:
    started: list[Command] = []
    yield started
    for command in started:
        command.kill()


def all_training(home: Path, job_id: str, count: int) -> None:
    """Block on the job's events until ``count`` trials train (every worker busy)."""
    training: set[int] = set()

    def last_trial_trains(event: Mapping[str, Any]) -> bool:
        if event["type"] == "trial_progress" and event["data"].get("phase") == "training":
            training.add(event["trial"])
        return len(training) == count

    EventWatcher(LocalEventBus(home / "events"), job_id).wait_for(last_trial_trains, 240)


def family(command: Command) -> tuple[set[Proc], set[int]]:
    """The command's descendants now, and the sessions of its workers (each leads one)."""
    below = descendants(command.proc.pid)
    sessions = {p.pid for p in below if os.getsid(p.pid) == p.pid}
    assert sessions, f"no worker below {command.proc.pid}: {below}"
    return below, sessions


def assert_nothing_left(below: set[Proc], sessions: set[int]) -> None:
    left = wait_gone(below, timeout=5) | in_sessions(sessions)
    assert not left, f"left behind: {[(p.pid, ' '.join(p.cmdline)[:120]) for p in left]}"


def assert_handed_back(command: Command, job_id: str) -> None:
    """Left resumable: `running`, no trial `running`, and nobody's claim on it."""
    records = command.records
    assert records.get_job(job_id).status == "running"
    trials, _ = records.list_trials(job_id)
    assert "running" not in {t.status for t in trials}, [(t.number, t.status) for t in trials]
    handed = [t for t in trials if t.status == "lost"]  # back, or killed past the grace
    assert handed and all((t.error or "").startswith((HANDED_BACK, WORKER_STOPPED))
                          for t in handed)
    control = LocalControlStore(command.home / "control")
    assert control.claim(job_id, JOB_CLAIM, "test", ttl=60) is ClaimOutcome.ACQUIRED, \
        "the orchestrator released the job"
    control.release(job_id, JOB_CLAIM, "test")


@pytest.mark.parametrize("sig", SIGNALS, ids=SIGNAL_IDS)
def test_optimize_stops_its_workers_and_leaves_the_job_as_documented(
        sig: int, tmp_path: Path, commands: list[Command]) -> None:
    job = tmp_path / "job.yaml"
    job.write_text(json.dumps(JOB))
    command = Command(tmp_path / "home", "optimize", "--job", str(job))
    commands.append(command)
    job_id = command.job_id()
    all_training(command.home, job_id, 2)
    below, sessions = family(command)

    code, seconds = command.stop(sig)
    print(f"{signal.Signals(sig).name}: exited {code} after {seconds:.1f}s")  # pytest -rP
    assert seconds < EXIT_WITHIN, f"took {seconds:.1f}s"
    assert_nothing_left(below, sessions)
    stderr = command.err.read_text()
    if sig == signal.SIGINT:
        assert code == 130, stderr[-3000:]
        assert command.records.get_job(job_id).status == "cancelled"
        trials, _ = command.records.list_trials(job_id)
        assert not {t.status for t in trials} & {"queued", "running"}
        return
    assert code == -sig, stderr[-3000:]  # ended by the signal, after stopping the job
    assert f"onegin optimize --resume {job_id}" in stderr
    assert_handed_back(command, job_id)
    if sig != signal.SIGTERM:
        return
    resumed = subprocess.run(  # the hand-back is resumable: exactly the budget is spent
        [sys.executable, "-m", "onegin.cli", "optimize", "--resume", job_id],
        env=os.environ | {"ONEGIN_HOME": str(command.home), "ONEGIN_OFFLINE": "1",
                          "ONEGIN_TF_THREADS": "1", "COLUMNS": "120"},
        capture_output=True, text=True, timeout=400, check=False, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"job {job_id}: completed" in resumed.stderr
    trials, _ = command.records.list_trials(job_id)
    completed = [t for t in trials if t.status != "lost"]
    assert [t.status for t in completed] == ["completed"] * 2, "exactly the budget"
    assert all(t.retry_of is not None for t in completed), "the handed-back parameters re-ran"


def test_optimize_killed_outright_still_leaves_no_worker_behind(
        tmp_path: Path, commands: list[Command]) -> None:
    """SIGKILL cannot be caught: the kernel tells each worker (`onegin.parent_death`),
    which then stops as on SIGTERM, handing its trial back."""
    job = tmp_path / "job.yaml"
    job.write_text(json.dumps(WEB_JOB))
    command = Command(tmp_path / "home", "optimize", "--job", str(job))
    commands.append(command)
    job_id = command.job_id()
    watcher = EventWatcher(LocalEventBus(command.home / "events"), job_id)
    trial = watcher.wait_for(lambda e: e["type"] == "trial_progress"
                             and e["data"].get("phase") == "training", 240)["trial"]
    below, sessions = family(command)

    command.proc.kill()
    assert command.proc.wait() == -signal.SIGKILL
    assert not wait_gone(below, timeout=GRACE + STOP_MARGIN + 10), "a worker outlived it"
    assert not in_sessions(sessions)
    handed = watcher.wait_for(lambda e: e["type"] == "trial_finished", 10)
    assert handed["trial"] == trial and handed["data"]["error"].startswith(HANDED_BACK)


@pytest.mark.parametrize("sig", SIGNALS, ids=SIGNAL_IDS)
def test_web_stops_its_orchestrator_and_workers_and_hands_the_job_back(
        sig: int, tmp_path: Path, commands: list[Command]) -> None:
    port = free_port()
    command = Command(tmp_path / "home", "web", "--port", str(port), "--workers", "1")
    commands.append(command)
    job_id = submit(command, port)
    all_training(command.home, job_id, 1)
    below, sessions = family(command)

    code, seconds = command.stop(sig)
    print(f"{signal.Signals(sig).name}: exited {code} after {seconds:.1f}s")  # pytest -rP
    assert code == 0, command.err.read_text()[-3000:]
    assert seconds < EXIT_WITHIN, f"took {seconds:.1f}s"
    assert_nothing_left(below, sessions)
    assert_handed_back(command, job_id)


def submit(command: Command, port: int, timeout: float = 120) -> str:
    """POST the job once the server answers (polled: it is starting)."""
    body = json.dumps(WEB_JOB).encode()
    deadline = time.monotonic() + timeout
    while True:
        command.check_running()
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/jobs", data=body,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                job_id: str = json.loads(response.read())["id"]
                return job_id
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_resume_takes_no_job_options_and_names_a_missing_job(tmp_path: Path) -> None:
    env = os.environ | {"ONEGIN_HOME": str(tmp_path / "home")}
    for args, message in ((["--trials", "0", "--param", "dropout=0.1"],
                           "invalid --resume: the job keeps its own configuration; "
                           "drop --trials, --param"),
                          ([], "invalid --resume: no job 'abc'")):
        done = subprocess.run([sys.executable, "-m", "onegin.cli", "optimize", "--resume", "abc",
                               *args], env=env, capture_output=True, text=True, timeout=60,
                              check=False, cwd=tmp_path)
        assert done.returncode == 2 and message in " ".join(done.stderr.split()), done.stderr


def test_resume_of_a_job_another_orchestrator_holds_says_so_and_leaves_it(tmp_path: Path) -> None:
    from onegin.job_config import OptimizationConfig
    from onegin.records.migrate import upgrade

    home = tmp_path / "home"
    home.mkdir()
    url = f"sqlite:///{home / 'onegin.db'}"
    upgrade(url)
    job = RecordStore(url).create_job(OptimizationConfig.from_dict(dict(JOB)).to_dict())
    control = LocalControlStore(home / "control")
    assert control.claim(job.id, JOB_CLAIM, "the other one", ttl=600) is ClaimOutcome.ACQUIRED
    env = os.environ | {"ONEGIN_HOME": str(home), "ONEGIN_OFFLINE": "1", "COLUMNS": "200"}
    done = subprocess.run([sys.executable, "-m", "onegin.cli", "optimize", "--resume", job.id,
                           "--workers", "1"], env=env, capture_output=True, text=True,
                          timeout=120, check=False, cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert f"job {job.id} is held by another orchestrator" in done.stdout + done.stderr
    assert RecordStore(url).get_job(job.id).status == "queued"  # left as it was
    assert control.claim(job.id, JOB_CLAIM, "the other one", ttl=600) is ClaimOutcome.ACQUIRED
