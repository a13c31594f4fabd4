"""The embedded mode's workers for `onegin web`: one orchestrator and N GPU workers as
local processes (Celery on the filesystem broker), so a job submitted from the browser
runs with no servers at all. They are stopped when the web server stops, and stop by
themselves if it dies (`onegin.parent_death`)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from types import TracebackType

from onegin.celery_app import ORCHESTRATOR_QUEUE
from onegin.local_workers import (
    STOP_MARGIN,
    LocalWorkers,
    child_environ,
    start_local,
    stop_processes,
    worker_command,
)
from onegin.records.migrate import upgrade
from onegin.settings import ORCHESTRATOR, Settings


class EmbeddedCluster:
    """Starts the orchestrator worker and ``gpu_workers`` GPU workers; stops them all."""

    def __init__(self, settings: Settings, gpu_workers: int) -> None:
        self.settings = settings
        self.log_dir = Path(settings.home) / "logs"
        self.gpu = LocalWorkers(settings, gpu_workers, log_dir=self.log_dir)
        self.orchestrator: subprocess.Popen[bytes] | None = None

    def start(self) -> EmbeddedCluster:
        upgrade(self.settings.database_url)  # the orchestrator needs the schema
        self.log_dir.mkdir(parents=True, exist_ok=True)
        try:
            self.orchestrator = start_local(
                worker_command(f"orchestrator-{os.getpid()}", ORCHESTRATOR_QUEUE),
                child_environ(self.settings, ORCHESTRATOR), self.log_dir / "orchestrator.log")
            self.gpu.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """The GPU workers first (SIGTERM: each hands its trial back within
        ``shutdown_grace``), while the orchestrator still listens and records the
        hand-backs; then the orchestrator, which releases its jobs for the next one."""
        self.gpu.stop()
        proc, self.orchestrator = self.orchestrator, None
        stop_processes([proc] if proc else [], STOP_MARGIN)

    def __enter__(self) -> EmbeddedCluster:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
