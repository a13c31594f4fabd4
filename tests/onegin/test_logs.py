"""Structured logs: JSON lines with job/trial ids, text on a terminal, size rotation that
several processes share, bad log settings named, and the Celery hooks."""

from __future__ import annotations

import io
import json
import logging
import multiprocessing
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from onegin.celery_app import RUN_JOB, TRAIN_TRIAL
from onegin.cli import main
from onegin.errors import ConfigError
from onegin.local_workers import worker_command
from onegin.logs import configure_logging, current_context, log_context
from onegin.logs.handlers import SharedRotatingFileHandler
from onegin.settings import load_settings

log = logging.getLogger("onegin.test")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def settings(**overrides: Any) -> Any:
    return load_settings(env={}, overrides=overrides)


def test_json_lines_carry_the_context_extras_and_exceptions() -> None:
    out = io.StringIO()
    configure_logging(settings(log_format="auto"), stream=out)  # not a terminal: JSON
    log.info("outside")
    with log_context(job_id="job-1", trial=3):
        log.warning("loss %s", "nan", extra={"epoch": 2, "loss": float("nan")})
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            log.exception("it broke")
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["message"] for line in lines] == ["outside", "loss nan", "it broke"]
    assert "job_id" not in lines[0] and "trial" not in lines[0]
    assert lines[1] | {"ts": None, "process": None, "thread": None} == {
        "ts": None, "level": "WARNING", "logger": "onegin.test", "message": "loss nan",
        "process": None, "process_name": "MainProcess", "thread": None, "job_id": "job-1",
        "trial": 3, "epoch": 2, "loss": "nan"}
    assert lines[1]["ts"].endswith("Z") and lines[1]["process"] > 0
    assert lines[2]["exc_type"] == "RuntimeError" and "boom" in lines[2]["exception"]
    assert current_context() == {}


def test_text_on_a_terminal_with_the_ids() -> None:
    out = Terminal()
    configure_logging(settings(log_format="auto", log_level="warning"), stream=out)
    with log_context(job_id="job-1", trial=0):
        log.info("hidden below the level")
        log.warning("shown")
    assert out.getvalue().count("\n") == 1
    assert " WARNING onegin.test [job=job-1 trial=0]: shown" in out.getvalue()


def test_a_second_configuration_replaces_the_first() -> None:
    first, second = io.StringIO(), io.StringIO()
    configure_logging(settings(log_format="json"), stream=first)
    configure_logging(settings(log_format="json"), stream=second)
    log.warning("once")
    assert first.getvalue() == "" and second.getvalue().count("once") == 1


def test_the_file_rotates_at_the_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "onegin.log"
    configure_logging(settings(log_file=str(path), log_max_bytes=2000, log_backups=2))
    for n in range(100):
        log.warning("line %03d %s", n, "x" * 40)
    files = sorted(p.name for p in path.parent.iterdir() if not p.name.endswith(".lock"))
    assert files == ["onegin.log", "onegin.log.1", "onegin.log.2"], "two backups, no more"
    for name in files:
        size = (path.parent / name).stat().st_size
        assert 0 < size <= 2000
    newest = [json.loads(line)["message"] for line in path.read_text().splitlines()]
    older = [json.loads(line)["message"] for line in
             (path.parent / "onegin.log.1").read_text().splitlines()]
    assert newest[-1].startswith("line 099") and older[-1] < newest[0], "in order, no gaps"


def _write_lines(path: str, tag: str) -> None:
    handler = SharedRotatingFileHandler(path, max_bytes=3000, backups=50)
    logger = logging.getLogger(f"rotation.{tag}")
    logger.addHandler(handler)
    logger.propagate = False
    for n in range(300):
        logger.warning("%s %03d %s", tag, n, "y" * 30)
    handler.close()


def test_processes_sharing_the_file_lose_no_line(tmp_path: Path) -> None:
    """A worker's main process and its pool children write one file; each rotation
    happens once, so every line survives (50 backups hold them all) and none is torn.

    Spawned, not forked: a fork of this test process inherits whatever earlier tests
    left open (kombu's Redis pool closed itself in the child and hung on a read)."""
    path = str(tmp_path / "shared.log")
    spawn = multiprocessing.get_context("spawn")
    writers = [spawn.Process(target=_write_lines, args=(path, tag)) for tag in "abc"]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=60)
        assert writer.exitcode == 0
    files = [p for p in tmp_path.iterdir() if p.name.startswith("shared.log")
             and not p.name.endswith(".lock")]
    lines = [line for p in files for line in p.read_text().splitlines()]
    assert sorted(lines) == sorted(f"{tag} {n:03d} {'y' * 30}" for tag in "abc"
                                   for n in range(300))
    assert all(p.stat().st_size <= 3000 for p in files)


@pytest.mark.parametrize(("variable", "value", "reason"), [
    ("ONEGIN_LOG_FORMAT", "xml", "must be one of auto, text, json"),
    ("ONEGIN_LOG_LEVEL", "loud", "must be one of debug"),
    ("ONEGIN_LOG_MAX_BYTES", "0", "must be a positive integer"),
    ("ONEGIN_LOG_BACKUPS", "none", "must be a positive integer"),
    ("ONEGIN_SHUTDOWN_GRACE", "-1", "must be a number of 0 or more"),
])
def test_bad_log_settings_are_rejected_by_name(variable: str, value: str, reason: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(env={variable: value})
    assert err.value.field == variable and reason in err.value.reason


def test_an_unwritable_log_file_stops_the_worker_command_before_it_starts(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    code = main(["worker", "gpu", "--set", f"home={tmp_path}",
                 "--set", f"log_file={blocker / 'worker.log'}"])
    assert code == 2
    assert "invalid log_file" in capsys.readouterr().err


def test_celery_tasks_bind_their_ids_and_workers_include_the_hooks() -> None:
    from onegin.logs import worker

    worker._bind_task(task_id="t-1", task=SimpleNamespace(name=RUN_JOB), args=("job-9",),
                      kwargs={})
    assert current_context() == {"job_id": "job-9", "task_id": "t-1"}
    worker._bind_task(task_id="t-2", task=SimpleNamespace(name=TRAIN_TRIAL), args=(),
                      kwargs={"job_id": "job-9", "number": 4, "spec": {}})
    assert current_context() == {"job_id": "job-9", "trial": 4, "task_id": "t-2"}
    worker._unbind_task()
    assert current_context() == {}
    command = worker_command("gpu")
    assert command[command.index("-I") + 1] == "gpu_worker.tasks,onegin.logs.worker"
    assert sys.executable == command[0]
