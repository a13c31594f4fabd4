"""GPU workers as local processes for the embedded mode: real Celery workers, no servers.

Each is `celery worker -Q gpu` in its own process (prefork pool of one child,
recycled every few trials so memory goes back), with TensorFlow pinned to its
share of the cores so parallel workers do not thrash. Each logs to its own
size-rotated file under ``home/logs``; stopping one is what Kubernetes does to
a container (SIGTERM to the main process, which hands its trial back). Each gets
only the settings of its role, and SIGTERM when the process that started it dies
(`onegin.parent_death`), so none is ever left behind.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from types import TracebackType

from onegin import parent_death
from onegin.celery_app import GPU_QUEUE
from onegin.settings import CONFIG_ENV, GPU_WORKER, Role, Settings, env_name, role_settings

TRIALS_PER_CHILD = 10
WORKER_LOGGING = "onegin.logs.worker"
# Seconds a worker may take to exit once its trial has stopped or been handed back
# (Celery ends its pool and closes its connections; slower on a busy machine).
STOP_MARGIN = 10.0


def settings_env(settings: Settings, role: Role) -> dict[str, str]:
    """The settings ``role`` reads, as ONEGIN_* variables, so a child loads the very same.

    An allow-list (`role_settings`): a GPU worker never gets the web's session key,
    the RunPod API key or the database URL, whatever this process holds.
    """
    env: dict[str, str] = {}
    for name in role_settings(role):
        value = getattr(settings, name)
        if value is None:
            continue
        env[env_name(name)] = ("1" if value else "0") if isinstance(value, bool) else str(value)
    return env


def child_environ(settings: Settings, role: Role) -> dict[str, str]:
    """This process's environment without any setting or settings file, plus ``role``'s settings.

    The file (ONEGIN_CONFIG) goes too: it may hold secrets, and the child gets
    every setting it reads as a variable anyway.
    """
    drop = {env_name(f.name) for f in fields(Settings)} | {CONFIG_ENV}
    return {k: v for k, v in os.environ.items() if k not in drop} | settings_env(settings, role)


def worker_command(name: str, queue: str = GPU_QUEUE, *, concurrency: int = 1,
                   trials_per_child: int = TRIALS_PER_CHILD,
                   module: str | None = None) -> list[str]:
    """The command a GPU worker container runs too (see deploy/); ``module`` holds the tasks.

    `onegin.logs.worker` is included so Celery leaves logging to the settings
    (``log_*``) and tags each task's lines with its job and trial.
    """
    module = module or ("gpu_worker.tasks" if queue == GPU_QUEUE else "orchestrator.tasks")
    return [
        sys.executable, "-m", "celery", "-A", "onegin.celery_app", "worker",
        "-Q", queue, "-n", f"{name}@%h", "--pool", "prefork", "-c", str(concurrency),
        f"--max-tasks-per-child={trials_per_child}", "-I", f"{module},{WORKER_LOGGING}",
        "--without-gossip", "--without-mingle",
    ]


def start_local(command: list[str], env: dict[str, str], out: Path) -> subprocess.Popen[bytes]:
    """A worker in its own session (a Ctrl-C meant for us does not reach it: we stop it),
    told to stop when this process dies; stdout and stderr appended to ``out``."""
    with out.open("ab") as log:
        return subprocess.Popen(parent_death.wrap(command), env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)


def stop_processes(processes: Sequence[subprocess.Popen[bytes]], timeout: float) -> None:
    """SIGTERM to each main process (a worker hands its task back and exits); once it
    has exited, or ``timeout`` seconds after the signals (one deadline for all), SIGKILL
    to its whole process group, so no pool child outlives it."""
    running = [proc for proc in processes if proc.poll() is None]
    for proc in running:
        proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for proc in running:
        _exited_by(proc, deadline)
        if proc.returncode is None:  # not reaped yet, so its pid is still its group's id
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _exited_by(proc: subprocess.Popen[bytes], deadline: float) -> bool:
    """Wait until ``proc`` exits or the deadline passes, leaving it unreaped where Linux
    allows (a pidfd), so its process group can still be killed safely afterwards."""
    seconds = max(0.0, deadline - time.monotonic())
    try:
        fd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):  # not Linux 5.3+: wait, which reaps
        try:
            proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            return False
        return True
    try:
        return bool(select.select([fd], [], [], seconds)[0])
    finally:
        os.close(fd)


class LocalWorkers:
    """Starts ``count`` GPU worker processes; stops them (SIGTERM, then SIGKILL) on exit.

    Worker ``i`` logs to ``gpu-worker-<i>.log`` (rotated per the ``log_*`` settings);
    what bypasses logging (TensorFlow's C++ messages, a crash) goes to ``.out``.
    """

    def __init__(self, settings: Settings, count: int, *, log_dir: Path | None = None) -> None:
        self.settings = settings
        self.count = count
        self.log_dir = log_dir or Path(settings.home) / "logs"
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self) -> LocalWorkers:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        cores = os.cpu_count() or 1
        threads = self.settings.tf_threads or max(1, cores // max(1, self.count))  # 0: none
        env = child_environ(self.settings, GPU_WORKER) | {
            "ONEGIN_TF_THREADS": str(threads), "TF_CPP_MIN_LOG_LEVEL": "2",
        }
        for i in range(self.count):
            log_file = self.log_dir / f"gpu-worker-{i}.log"
            self.processes.append(start_local(
                worker_command(f"gpu{i}-{os.getpid()}"),
                env | {env_name("log_file"): str(log_file)}, self.log_dir / f"gpu-worker-{i}.out"))
        return self

    def stop(self, timeout: float | None = None) -> None:
        """SIGTERM to each main process, as a container runtime does: the worker hands
        its running trial back and exits; after ``timeout`` (default: ``shutdown_grace``
        plus `STOP_MARGIN`) its whole group is killed."""
        if timeout is None:
            timeout = self.settings.shutdown_grace + STOP_MARGIN
        stop_processes(self.processes, timeout)

    def __enter__(self) -> LocalWorkers:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

