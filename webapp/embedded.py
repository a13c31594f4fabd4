"""The embedded mode's workers for `onegin web`: one orchestrator and N GPU workers as
local processes (Celery on the filesystem broker), so a job submitted from the browser
runs with no servers at all. They are stopped when the web server stops."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from types import TracebackType

from onegin.celery_app import ORCHESTRATOR_QUEUE
from onegin.local_workers import LocalWorkers, child_environ, stop_processes, worker_command
from onegin.records.migrate import upgrade
from onegin.settings import Settings


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
        env = child_environ(self.settings)
        with (self.log_dir / "orchestrator.log").open("ab") as log:
            self.orchestrator = subprocess.Popen(
                worker_command(f"orchestrator-{os.getpid()}", ORCHESTRATOR_QUEUE), env=env,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self.gpu.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """The orchestrator hands its jobs over, the GPU workers their trials (SIGTERM)."""
        proc, self.orchestrator = self.orchestrator, None
        stop_processes([*self.gpu.processes, *([proc] if proc else [])], timeout)

    def __enter__(self) -> EmbeddedCluster:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
