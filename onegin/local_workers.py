"""GPU workers as local processes for the embedded mode: real Celery workers, no servers.

Each is `celery worker -Q gpu` in its own process (prefork pool of one child,
recycled every few trials so memory goes back), with TensorFlow pinned to its
share of the cores so parallel workers do not thrash. Each logs to its own
size-rotated file under ``home/logs``; stopping one is what Kubernetes does to
a container (SIGTERM to the main process, which hands its trial back).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import fields
from pathlib import Path
from types import TracebackType

from onegin.celery_app import GPU_QUEUE
from onegin.settings import Settings, env_name

TRIALS_PER_CHILD = 10
WORKER_LOGGING = "onegin.logs.worker"


def settings_env(settings: Settings) -> dict[str, str]:
    """The settings as ONEGIN_* variables, so a child process loads the very same.

    Secret settings (the web's session key, the RunPod API key) are left out:
    workers never need them, and a worker may run on a machine we trust less.
    """
    env: dict[str, str] = {}
    for f in fields(settings):
        value = getattr(settings, f.name)
        if value is None or f.metadata["secret"]:
            continue
        env[env_name(f.name)] = ("1" if value else "0") if isinstance(value, bool) else str(value)
    return env


def child_environ(settings: Settings) -> dict[str, str]:
    """This process's environment without its secret ONEGIN_* variables, plus the settings."""
    secret = {env_name(f.name) for f in fields(settings) if f.metadata["secret"]}
    return {k: v for k, v in os.environ.items() if k not in secret} | settings_env(settings)


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


def stop_processes(processes: list[subprocess.Popen[bytes]], timeout: float) -> None:
    """SIGTERM to each main process (a worker hands its task back and exits), then
    SIGKILL to the whole group of any still running after ``timeout``."""
    for proc in processes:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in processes:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


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
        threads = self.settings.tf_threads or max(1, cores // self.count)
        env = child_environ(self.settings) | {
            "ONEGIN_TF_THREADS": str(threads), "TF_CPP_MIN_LOG_LEVEL": "2",
        }
        for i in range(self.count):
            log_file = self.log_dir / f"gpu-worker-{i}.log"
            with (self.log_dir / f"gpu-worker-{i}.out").open("ab") as out:
                self.processes.append(subprocess.Popen(
                    worker_command(f"gpu{i}-{os.getpid()}"),
                    env=env | {env_name("log_file"): str(log_file)}, stdout=out,
                    stderr=subprocess.STDOUT, start_new_session=True,
                ))
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM to each main process, as a container runtime does: the worker hands
        its running trial back and exits; after ``timeout`` its whole group is killed."""
        stop_processes(self.processes, timeout)

    def __enter__(self) -> LocalWorkers:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
