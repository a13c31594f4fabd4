"""What the deploy tests share: the repository's deploy files read as Compose and Docker
would read them, and processes started exactly as a container's entrypoint starts them.

No Docker engine runs here, so "as a container would" means: the same entrypoint
script, the same arguments (the service's ``command``) and the same environment
(the service's ``environment`` with ``.env.example`` substituted), with the
hostnames of the compose network (postgres, redis, minio) re-pointed at the local
services the tests run.
"""

from __future__ import annotations

import importlib.util
import os
import re
import select
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from contextlib import suppress
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
ENTRYPOINT = DEPLOY / "entrypoint.sh"
COMPOSE_FILE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"
VENV_BIN = Path(sys.executable).parent

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}; $$ is a literal $
_VAR = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}"
                  r"|\$([A-Za-z_][A-Za-z0-9_]*)")


def load_ops() -> ModuleType:
    """deploy/ops.py (the images keep it beside the entrypoint; it is not a package)."""
    spec = importlib.util.spec_from_file_location("deploy_ops", DEPLOY / "ops.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class MissingVariable(KeyError):
    """A ``${NAME:?…}`` variable that is unset or empty: compose refuses to start."""


# -- compose ------------------------------------------------------------------------

def read_env_file(path: Path = ENV_EXAMPLE) -> dict[str, str]:
    """``KEY=VALUE`` lines of a dotenv file (comments and blank lines skipped)."""
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep, f"{path.name}: not KEY=VALUE: {line!r}"
        values[key.strip()] = value.strip()
    return values


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """Compose's variable substitution (the subset the compose file may use)."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1) or match.group(4)
        op, arg = match.group(2), match.group(3)
        value = env.get(name)
        missing = not value if op in (":-", ":?") else value is None
        if op in (":-", "-") and missing:
            return arg
        if op in (":?", "?") and missing:
            raise MissingVariable(f"{name}: {arg}")
        return value or ""

    return _VAR.sub(replace, text)


def variables(text: str) -> set[str]:
    """Names of the variables ``text`` substitutes."""
    return {m.group(1) or m.group(4) for m in _VAR.finditer(text) if m.group(0) != "$$"}


def _substitute(node: Any, env: Mapping[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [_substitute(item, env) for item in node]
    if isinstance(node, dict):
        return {key: _substitute(value, env) for key, value in node.items()}
    return node


def raw_compose() -> dict[str, Any]:
    """docker-compose.yml as YAML (anchors and merge keys resolved, nothing substituted)."""
    data: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return data


def compose(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """docker-compose.yml as compose sees it, with ``.env.example`` (or ``env``) substituted."""
    found: dict[str, Any] = _substitute(raw_compose(), read_env_file() if env is None else env)
    return found


def service_env(service: Mapping[str, Any]) -> dict[str, str]:
    """A service's ``environment`` (mapping or list form) as strings."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(k): "" if v is None else str(v) for k, v in env.items()}


# -- Dockerfiles ----------------------------------------------------------------------

def dockerfile_instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = pending + stripped
        pending = ""
        word, _, rest = full.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def dockerfile_env(path: Path) -> dict[str, str]:
    """The ``ENV`` of a Dockerfile's last stage (``KEY=VALUE`` form)."""
    stages: list[dict[str, str]] = []
    for word, args in dockerfile_instructions(path):
        if word == "FROM":
            stages.append({})
        elif word == "ENV":
            for item in shlex.split(args):
                key, _, value = item.partition("=")
                stages[-1][key] = value
    return stages[-1]


# -- processes --------------------------------------------------------------------------

def local_env(extra: Mapping[str, str]) -> dict[str, str]:
    """This machine's environment without ONEGIN_* variables (a container has none but its
    own), with
    the virtualenv first on PATH as in the images, plus ``extra``."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("ONEGIN_")}
    base["PATH"] = f"{VENV_BIN}{os.pathsep}{base.get('PATH', '')}"
    base["PYTHONUNBUFFERED"] = "1"
    return base | dict(extra)


class Started:
    """A process started in its own process group; `stop` ends the whole group."""

    def __init__(self, args: list[str], env: Mapping[str, str], log: Path,
                 cwd: Path = REPO) -> None:
        self.args = args
        self.log = log
        with log.open("w") as out:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(args, env=dict(env), cwd=cwd, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60.0) -> int:
        """Signal the group; SIGKILL it after ``timeout``. Returns the main process' code."""
        if self.proc.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        # children that outlived their parent (e.g. pool processes)
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        return int(self.proc.returncode)


def entrypoint(*args: str) -> list[str]:
    return ["bash", str(ENTRYPOINT), *args]


def run_entrypoint(*args: str, env: Mapping[str, str],
                   timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(entrypoint(*args), env=dict(env), cwd=REPO, capture_output=True,
                          text=True, timeout=timeout)


def poll_until(check: Any, timeout: float, what: str, interval: float = 0.25) -> None:
    """Readiness poll of something we started (a server, a worker): not test synchronisation."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval)
    raise TimeoutError(f"{what} not ready after {timeout:g}s")


def read_line(stream: Any, timeout: float) -> str:
    """One line from a pipe, or TimeoutError: blocks on the pipe, never sleeps."""
    ready, _, _ = select.select([stream], [], [], timeout)
    if not ready:
        raise TimeoutError(f"no output within {timeout:g}s")
    return str(stream.readline())
