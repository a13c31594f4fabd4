"""`onegin compare` with bad input: one line per bad field, exit code 2, nothing stored
(run as the command it is)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def compare(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "onegin.cli", "compare", *args],
        capture_output=True, text=True, cwd=REPO, timeout=120, check=False,
        env=os.environ | {"ONEGIN_HOME": str(home), "COLUMNS": "40"})


def test_every_bad_field_is_named_and_nothing_is_stored(tmp_path: Path) -> None:
    done = compare("--trials", "0", "--seeds", "0", "--retrain-seeds", "11", "--epochs", "0",
                   "--param", "kernel_size=7", "--weights", "{accuracy: 2}",
                   home=tmp_path / "home")
    assert done.returncode == 2, done.stderr
    named = {line.split(":", 1)[0] for line in done.stderr.splitlines()}
    assert named == {"invalid trials", "invalid seeds", "invalid retrain_seeds",
                     "invalid epochs", "invalid params.kernel_size", "invalid weights.accuracy"}
    assert done.stdout == ""
    assert not (tmp_path / "home" / "onegin.db").exists()


def test_weights_that_are_not_yaml_and_wait_without_submit_are_named(tmp_path: Path) -> None:
    bad_yaml = compare("--weights", "{accuracy: [", home=tmp_path / "home")
    assert bad_yaml.returncode == 2
    assert bad_yaml.stderr.startswith("invalid weights: not valid YAML")
    wait = compare("--wait", home=tmp_path / "home")
    assert wait.returncode == 2
    assert wait.stderr.startswith("invalid --wait: goes with --submit")
    assert not (tmp_path / "home" / "onegin.db").exists()
