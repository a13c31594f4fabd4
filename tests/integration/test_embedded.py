"""The same job on the embedded default: SQLite, filesystem broker, local files, real
worker processes — no servers at all."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

import onegin
from onegin.artifacts import best_prefix
from onegin.records import RecordStore
from tests.integration.harness import TINY, embedded_settings


def test_python_api_runs_a_whole_job(tmp_path: Path) -> None:
    settings = embedded_settings(tmp_path)
    assert settings.embedded
    config = onegin.OptimizationConfig.from_dict(TINY | {"trials": 3, "concurrency": 2})
    result = onegin.optimize(config, settings=settings)
    assert result.status == "completed"
    assert result.best_trial is not None and result.best_params is not None
    scores = [t["total_score"] for t in result.trials]
    assert [t["number"] for t in result.trials] == [0, 1, 2]
    assert result.best_score == max(scores)
    assert result.model_url and result.model_url.startswith("file://")
    model = Path(result.model_url.removeprefix("file://"))
    assert model.is_file() and model.stat().st_size > 0
    best = settings.home / "artifacts" / best_prefix(result.job_id)
    doc = yaml.safe_load((best / "best_hyperparameters.yaml").read_text())
    assert doc["trial"] == result.best_trial
    workers = {t["worker"].rsplit(":", 1)[0] for t in result.trials}
    assert workers  # trained in worker processes, not here
    assert all(t["worker"].rsplit(":", 1)[1] != str(os.getpid()) for t in result.trials)


def test_cli_optimize_prints_the_best_model(tmp_path: Path) -> None:
    env = os.environ | {"ONEGIN_HOME": str(tmp_path / "home"), "ONEGIN_OFFLINE": "1",
                        "ONEGIN_TF_THREADS": "1", "COLUMNS": "120"}
    done = subprocess.run(
        [sys.executable, "-m", "onegin.cli", "optimize", "--dataset", "digits", "--trials", "2",
         "--concurrency", "2", "--epochs", "1", "--max-train-samples", "300",
         "--max-eval-samples", "120", "--param", "conv_layers=1",
         # the rest as the harness's tiny job, whose trials learn in their one epoch: in
         # the default space both could be pruned at chance, failing the job
         "--param", "optimizer=adam", "--param", "learning_rate=0.01",
         "--param", "batch_size=32"],
        capture_output=True, text=True, env=env, timeout=400, check=False, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "best trial" in done.stdout and "best model: file://" in done.stdout
    records = RecordStore(f"sqlite:///{tmp_path / 'home' / 'onegin.db'}")
    jobs, total = records.list_jobs()
    assert total == 1 and jobs[0].status == "completed"
    trials, _ = records.list_trials(jobs[0].id)
    assert "completed" in [t.status for t in trials]  # a hopeless one would be pruned
    assert {t.status for t in trials} <= {"completed", "pruned"}
    assert all(t.params["conv_layers"] == 1 and t.params["optimizer"] == "adam"
               and t.params["learning_rate"] == 0.01 for t in trials)


def test_cli_rejects_a_bad_job_naming_each_field(tmp_path: Path) -> None:
    env = os.environ | {"ONEGIN_HOME": str(tmp_path / "home")}
    done = subprocess.run(
        [sys.executable, "-m", "onegin.cli", "optimize", "--trials", "0", "--concurrency", "0",
         "--param", "kernel_size=7"],
        capture_output=True, text=True, env=env, timeout=60, check=False, cwd=tmp_path,
    )
    assert done.returncode == 2
    for field in ("trials", "concurrency", "params.kernel_size"):
        assert f"invalid {field}" in done.stderr
    assert not (tmp_path / "home" / "onegin.db").exists()
