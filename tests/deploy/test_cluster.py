"""The compose stack's workers started exactly as their containers start them (the
entrypoint, the service's command and environment, re-pointed at local PostgreSQL,
Redis and moto S3), driven by the commands docs/cluster.md documents: a GPU worker
with no database access trains a submitted job to a model in S3.

Also keeps docs/cluster.md honest: every `onegin` command in it parses, every
`docker compose` command names real services, and the tested blocks run."""

from __future__ import annotations

import itertools
import re
import shlex
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from onegin.cli import build_parser
from tests.deploy.conftest import Backends
from tests.deploy.helpers import (
    REPO,
    Started,
    compose,
    entrypoint,
    poll_until,
    run_entrypoint,
)

DOC = REPO / "docs" / "cluster.md"
SCALING = REPO / "docs" / "scaling.md"
ARCHITECTURE = REPO / "docs" / "architecture.md"
TESTED = "<!-- tested:"
EXEC_WEB = ("docker", "compose", "exec", "web")
# docker compose subcommand -> its options that take a value
VALUE_OPTIONS = {"exec": {"-e", "--env", "-u", "--user", "-w", "--workdir", "--index"},
                 "run": {"-e", "--env", "-p", "--publish", "-u", "--user", "-w",
                         "--workdir", "--name", "--entrypoint", "-v", "--volume"}}
JOB_TIMEOUT = 240


def code_blocks(text: str) -> list[tuple[bool, list[list[str]]]]:
    """(tested?, commands) of each fenced bash block; continuation lines joined."""
    blocks = []
    for match in re.finditer(r"(?P<mark><!-- tested:[^\n]*-->\n)?[ ]*```bash\n(?P<body>.*?)```",
                             text, flags=re.S):
        commands = []
        for line in match["body"].replace("\\\n", " ").splitlines():
            line = line.split(" #", 1)[0].strip()
            if line and not line.startswith("#"):
                commands.append(shlex.split(line.split(" > ", 1)[0]))
        blocks.append((match["mark"] is not None, commands))
    return blocks


def onegin_argv(command: list[str]) -> list[str] | None:
    """The arguments of an `onegin` command, run directly or in a container; else None."""
    if command[:1] == ["onegin"]:
        return command[1:]
    if command[:2] == ["docker", "compose"] and command[2] in ("exec", "run"):
        service = compose_services(command)[0]
        inner = command[command.index(service, 3) + 1:]
        return inner[1:] if inner[:1] == ["onegin"] else None
    return None


BLOCKS = code_blocks(DOC.read_text())
COMMANDS = [command for _, commands in BLOCKS for command in commands]


def compose_services(command: list[str]) -> list[str]:
    """The services a ``docker compose …`` command names."""
    sub, rest = command[2], command[3:]
    names: list[str] = []
    skip = False
    for i, word in enumerate(rest):
        if skip:
            skip = False
            continue
        if word.startswith("-"):
            if word == "--scale":
                names.append(rest[i + 1].split("=")[0])
                skip = True
            elif word in VALUE_OPTIONS.get(sub, set()):
                skip = True
            continue
        names.append(word)
        if sub in ("exec", "run"):
            break  # the rest is the command run in the container
    return names


def test_the_doc_has_tested_blocks() -> None:
    tested = [commands for is_tested, commands in BLOCKS if is_tested]
    assert len(tested) == 2 and all(tested)
    assert any(c[:4] == ["docker", "compose", "up", "-d"] for c in tested[0])
    assert all(c[: len(EXEC_WEB)] == list(EXEC_WEB) for c in tested[1])


@pytest.mark.parametrize("command", [c for c in COMMANDS if c[:2] == ["docker", "compose"]],
                         ids=lambda c: " ".join(c[2:5]))
def test_documented_compose_commands_name_real_services(command: list[str]) -> None:
    services = set(compose()["services"])
    assert command[2] in {"build", "up", "ps", "exec", "run", "logs", "pull", "down"}
    named = compose_services(command)
    assert set(named) <= services, f"unknown service in {' '.join(command)}"
    if command[2] in ("exec", "run"):
        assert named, command


@pytest.mark.parametrize("argv", [a for a in map(onegin_argv, COMMANDS) if a is not None],
                         ids=lambda a: " ".join(a[:2]))
def test_documented_onegin_commands_parse(argv: list[str]) -> None:
    build_parser().parse_args(argv)  # exits (SystemExit) on an unknown flag or choice


@pytest.mark.parametrize("doc", [DOC, SCALING, ARCHITECTURE, REPO / "deploy" / "README.md"],
                         ids=lambda p: p.name)
def test_documented_files_and_links_exist(doc: Path) -> None:
    for _, commands in code_blocks(doc.read_text()):
        for command in commands:
            if command[0] == "cp":
                assert (REPO / command[1]).is_file(), command
            for flag, path in itertools.pairwise(command):
                if flag in ("-f", "-k") and not path.startswith(("~", "/")):
                    assert (REPO / path).exists(), f"{doc.name}: {path} does not exist"
    for link in re.findall(r"\]\(([^)#:]+)\)", doc.read_text()):
        assert (doc.parent / link).resolve().exists(), f"{doc.name}: broken link {link}"


def test_scaling_guide_onegin_commands_parse() -> None:
    """`kubectl exec … -- onegin …` in docs/scaling.md: the same CLI, so the same flags."""
    found = 0
    for _, commands in code_blocks(SCALING.read_text()):
        for command in commands:
            if command[0] == "kubectl" and "--" in command:
                inner = command[command.index("--") + 1:]
                assert inner[0] == "onegin", command
                build_parser().parse_args(inner[1:])
                found += 1
    assert found >= 2


# -- the stack, for real ------------------------------------------------------------


def _node_answers(role: str, env: dict[str, str]) -> bool:
    return run_entrypoint("health", role, env=env | {"PROBE_TIMEOUT": "2"},
                          timeout=60).returncode == 0


@pytest.fixture(scope="module")
def cluster(backends: Backends, tmp_path_factory: pytest.TempPathFactory,
            ) -> Iterator[dict[str, Any]]:
    home = tmp_path_factory.mktemp("cluster")
    # a polite worker on a shared 2-core machine; everything else is the compose service's
    knobs = {"ONEGIN_TF_THREADS": "1", "ONEGIN_OFFLINE": "1"}
    envs = {name: backends.env_of(name, home / name, **knobs)
            for name in ("orchestrator", "gpu-worker", "web")}
    assert "ONEGIN_DATABASE_URL" not in envs["gpu-worker"], "workers never get the database"
    commands = {name: compose()["services"][name]["command"]
                for name in ("orchestrator", "gpu-worker")}
    processes = {name: Started(entrypoint(*command), envs[name], home / f"{name}.log")
                 for name, command in commands.items()}
    try:
        for name, process in processes.items():
            poll_until(lambda n=name, p=process: not p.alive() or _node_answers(n, envs[n]),
                       timeout=120, what=name)
            assert process.alive(), process.output()
        yield {"envs": envs, "processes": processes, "home": home}
    finally:
        for process in processes.values():
            process.stop()


def test_workers_run_as_their_containers_do(cluster: dict[str, Any]) -> None:
    gpu = cluster["processes"]["gpu-worker"]
    cmdline = Path(f"/proc/{gpu.proc.pid}/cmdline").read_bytes().split(b"\0")
    assert b"celery" in cmdline and b"worker" in cmdline, "exec'd into the Celery worker"
    assert cmdline[cmdline.index(b"-n") + 1] == b"gpu@%h", "the name the probes ask for"
    assert cmdline[cmdline.index(b"-Q") + 1] == b"gpu"
    assert "no GPU visible" in gpu.output()


def test_quick_start_commands_run_a_job_to_its_model_in_s3(
        cluster: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from onegin.services import Services
    from onegin.settings import load_settings

    web_env = cluster["envs"]["web"]
    tested = [commands for is_tested, commands in BLOCKS if is_tested][1]
    outputs = []
    for command in tested:
        done = subprocess.run(command[len(EXEC_WEB):], env=web_env, cwd=REPO,
                              capture_output=True, text=True, timeout=JOB_TIMEOUT)
        assert done.returncode == 0, f"{' '.join(command)}\n{done.stdout}\n{done.stderr}"
        outputs.append(done)
    token = outputs[0].stdout.strip().splitlines()[-1]
    assert len(token) >= 20
    job_id = outputs[1].stdout.strip().splitlines()[0]
    assert f"job {job_id}: completed" in outputs[1].stderr, outputs[1].stderr

    settings = load_settings(env={k: v for k, v in web_env.items() if k.startswith("ONEGIN_")})
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):  # the web service's keys
        monkeypatch.setenv(key, web_env[key])
    services = Services(settings)
    job = services.records.get_job(job_id)
    assert job.status == "completed"
    trials, total = services.records.list_trials(job_id, limit=10)
    assert total == 1 and trials[0].status == "completed"
    assert services.artifacts.exists(f"jobs/{job_id}/best/model.keras")
    assert services.artifacts.exists(f"jobs/{job_id}/trials/0/model.keras")
    assert settings.artifacts_url.startswith("s3://")


def test_drain_stops_taking_trials_and_returns_when_idle(cluster: dict[str, Any]) -> None:
    """Kubernetes' preStop for GPU workers. Runs last here: the worker stops consuming."""
    from onegin.celery_app import GPU_QUEUE, create_celery
    from onegin.settings import load_settings

    env = cluster["envs"]["gpu-worker"]
    done = run_entrypoint("drain", "--timeout", "60", env=env, timeout=90)
    assert done.returncode == 0, done.stderr
    assert "is idle" in done.stderr
    settings = load_settings(env={k: v for k, v in env.items() if k.startswith("ONEGIN_")})
    app = create_celery(settings)
    name = f"gpu@{socket.gethostname()}"
    queues = app.control.inspect([name], timeout=5).active_queues()
    app.close()
    assert queues is not None and name in queues
    assert GPU_QUEUE not in {q["name"] for q in queues[name]}


def test_workers_stop_cleanly_on_sigterm(cluster: dict[str, Any]) -> None:
    for name, process in cluster["processes"].items():
        code = process.stop(signal.SIGTERM, timeout=60)
        assert code == 0, f"{name} exited {code}:\n{process.output()[-2000:]}"
