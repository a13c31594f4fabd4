"""`onegin optimize --job FILE` with bad input: one line per error naming the file or the
field, exit code 2, never a traceback (run as the command it is)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def optimize(job: Path, *extra: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "onegin.cli", "optimize", "--job", str(job), "--submit", *extra],
        capture_output=True, text=True, cwd=REPO, timeout=120, check=False,
        env=os.environ | {"ONEGIN_HOME": str(home), "COLUMNS": "40"})


@pytest.mark.parametrize(("content", "message"), [
    (None, "invalid --job: {path}: no such file"),
    ("dataset: digits\ntrials: [1, 2\n",
     "invalid --job: {path}: not valid YAML: expected ',' or ']', but got '<stream end>' "
     "at line 3, column 1"),
    ("dataset: digits\n  trials: 3\n",
     "invalid --job: {path}: not valid YAML: mapping values are not allowed here at line 2, "
     "column 9"),
    ("- dataset: digits\n", "invalid --job: {path}: must hold a mapping of job fields "
                            "(name: value lines), got a list"),
    ("digits\n", "invalid --job: {path}: must hold a mapping of job fields "
                 "(name: value lines), got the single value 'digits'"),
    (b"\xff\xfe\x00", "invalid --job: {path}: not a text file (UTF-8)"),
    ("weights: 5\n", "invalid weights: must be a mapping with accuracy and/or health, got 5"),
])
def test_a_bad_job_file_is_one_line_naming_it(tmp_path: Path, content: str | bytes | None,
                                              message: str) -> None:
    job = tmp_path / "job.yaml"
    if isinstance(content, bytes):
        job.write_bytes(content)
    elif content is not None:
        job.write_text(content)
    done = optimize(job, home=tmp_path / "home")
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [message.format(path=job)]
    assert done.stdout == ""


def test_every_bad_field_of_a_job_file_is_named(tmp_path: Path) -> None:
    job = tmp_path / "job.yaml"
    job.write_text("weights: {accuracy: 2, health: 0}\ntrials: many\n"
                   "params: {colour: red, conv_layers: 9}\n")
    done = optimize(job, "--epochs", "0", home=tmp_path / "home")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert sorted(done.stderr.splitlines()) == [
        "invalid epochs: must be between 1 and 1000, got 0",
        "invalid params.colour: unknown parameter for image models; known: conv_layers, "
        "filters, kernel_size, activation, batch_norm, pooling, dense_layers, dense_units, "
        "max_filters, dropout, optimizer, learning_rate, batch_size, lr_schedule, lr_warmup, "
        "lr_decay_rate, lr_step_epochs, lr_plateau_patience, early_stopping, "
        "early_stopping_patience",
        "invalid params.conv_layers: 9 is not an integer within [1, 4]",
        "invalid trials: must be an integer, got 'many'",
        "invalid weights.accuracy: must be between 0 and 1, got 2",
        "invalid weights.health: must be a mapping of health component to weight, got 0",
    ]


def test_params_that_are_no_mapping_with_param_flags(tmp_path: Path) -> None:
    job = tmp_path / "job.yaml"
    job.write_text("params: [1, 2]\n")
    done = optimize(job, "--param", "filters=32", home=tmp_path / "home")
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "invalid params: must be a mapping of parameter name to value or range"]
