"""TensorBoard as a separate program: started on loopback over a folder of runs, stopped.

The runs are a folder of symlinks named by run (`run_folder`), each pointing at a
trial's logs in the cache, which is how TensorBoard's documentation says to choose and
name runs. TensorBoard runs as its own process (``python -m onegin.tensorboard``), never
imported here; it gets SIGTERM if this process dies (`onegin.parent_death`), so it
cannot outlive the command even when that is killed.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path

from onegin.parent_death import wrap

HOST = "127.0.0.1"  # loopback only: the logs are the job owner's
STOP_SECONDS = 10.0
MISSING = ("TensorBoard is not installed here; install it with the `tensorboard` extra "
           "(pip install -e '.[tensorboard]' in the repository) or `pip install tensorboard`")


def installed() -> bool:
    """Whether the ``tensorboard`` package is importable (it is the `tensorboard` extra's)."""
    return importlib.util.find_spec("tensorboard") is not None


def run_folder(folder: Path, runs: Mapping[str, Path]) -> None:
    """Fill the empty ``folder`` with one symlink per run: its name -> its logs."""
    for name, logs in runs.items():
        (folder / name).symlink_to(logs.resolve(), target_is_directory=True)


class TensorBoardProcess:
    """TensorBoard serving ``logdir`` on `HOST`:``port`` (0: a free port the system picks).

    ``on_change`` is called from a watcher thread when the URL is known and when the
    process has ended, so the caller can wait on one event for that and for signals.
    """

    def __init__(self, logdir: Path, *, port: int, title: str,
                 on_change: Callable[[], None]) -> None:
        command = [sys.executable, "-m", "onegin.tensorboard", "--logdir", str(logdir),
                   "--host", HOST, "--port", str(port), "--window_title", title]
        self.url: str | None = None
        self._on_change = on_change
        self._process = subprocess.Popen(wrap(command), stdin=subprocess.DEVNULL,
                                         stdout=subprocess.PIPE, text=True)
        threading.Thread(target=self._watch, name="tensorboard-watch", daemon=True).start()

    def _watch(self) -> None:
        assert self._process.stdout is not None
        line = self._process.stdout.readline().strip()
        if line.startswith("http://"):
            self.url = line
            self._on_change()
        self._process.wait()
        self._on_change()

    @property
    def exit_code(self) -> int | None:
        """None while it runs."""
        return self._process.poll()

    def stop(self) -> None:
        """SIGTERM, and SIGKILL if it has not ended within `STOP_SECONDS`."""
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
