"""End-to-end trials: a CNN and an LSTM train briefly and leave every artifact."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from gpu_worker.trainer import TrialHooks, train_trial
from gpu_worker.trial_spec import TrialSpec
from onegin.errors import ConfigError, TrialCancelled, TrialFailed
from onegin.progress import Progress
from onegin.scoring import HEALTH_COMPONENTS

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO.parent / "shared" / "data"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SMALL = {"max_train_samples": 300, "max_eval_samples": 150}


def _assert_artifacts(out: Path, plots: list[str]) -> dict:
    model = out / "model.keras"
    assert zipfile.is_zipfile(model)  # .keras files are zip archives
    history = json.loads((out / "history.json").read_text())
    metrics = json.loads((out / "metrics.json").read_text())
    architecture = json.loads((out / "architecture.json").read_text())
    assert set(history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert architecture["layers"][-1]["name"] == "output"
    for name in plots:
        assert (out / "plots" / f"{name}.png").read_bytes()[:8] == PNG_MAGIC
    assert any((out / "tensorboard").rglob("events.out.tfevents.*"))
    return metrics


def _check_result(result, metrics: dict, epochs: int) -> None:
    assert result.status == "completed"
    assert result.epochs_run == epochs
    assert 0.0 <= result.val_accuracy <= 1.0 and 0.0 <= result.test_accuracy <= 1.0
    assert set(result.health) == set(HEALTH_COMPONENTS)
    assert all(0.0 <= v <= 1.0 for v in result.health.values())
    assert math.isclose(result.total_score,
                        0.7 * result.val_accuracy + 0.3 * result.health_score, rel_tol=1e-9)
    assert metrics["total_score"] == pytest.approx(result.total_score)
    assert metrics["health"] == pytest.approx(result.health)
    for phase in ("loading_data", "building", "training", "evaluating", "computing_health",
                  "plotting", "saving"):
        assert result.timings[phase] >= 0.0


def test_cnn_trial_on_digits_writes_every_artifact(tmp_path: Path) -> None:
    events: list[Progress] = []
    spec = TrialSpec(dataset="digits", epochs=2,
                     params={"conv_layers": 2, "filters": 16, "batch_norm": False,
                             "learning_rate": 0.01, "batch_size": 32},
                     **SMALL)
    result = train_trial(spec, tmp_path, TrialHooks(on_progress=events.append))
    metrics = _assert_artifacts(tmp_path, result.plots)
    assert result.plots == sorted(["history", "confusion_matrix", "gradient_flow", "weights",
                                   "activation_maps", "activation_progression"])
    _check_result(result, metrics, 2)
    assert result.val_accuracy > 0.3  # well above chance (0.1) on digits after 2 epochs
    phases = [e.phase for e in events]
    for phase in ("loading_data", "building", "training", "evaluating", "computing_health",
                  "plotting", "saving", "done"):
        assert phase in phases
    assert phases.index("training") < phases.index("computing_health") < phases.index("saving")


@pytest.mark.skipif(not (SHARED_DATA / "sms-spam").is_dir(), reason="shared SMS data absent")
def test_lstm_trial_on_sms_spam_writes_every_artifact(tmp_path: Path) -> None:
    spec = TrialSpec(dataset="sms_spam", epochs=2, data_dir=str(SHARED_DATA),
                     params={"lstm_units": 16, "embedding_dim": 16}, **SMALL)
    result = train_trial(spec, tmp_path)
    metrics = _assert_artifacts(tmp_path, result.plots)
    assert len(result.plots) == 6
    _check_result(result, metrics, 2)
    assert result.dataset["num_classes"] == 2


def test_cancel_stops_the_trial(tmp_path: Path) -> None:
    spec = TrialSpec(dataset="digits", epochs=50, health=False, objective="simple",
                     plot_mode="none", **SMALL)
    with pytest.raises(TrialCancelled):
        train_trial(spec, tmp_path, TrialHooks(is_cancelled=lambda: True))
    assert not (tmp_path / "model.keras").exists()


def test_pruned_trial_stops_early_and_is_recorded(tmp_path: Path) -> None:
    spec = TrialSpec(dataset="digits", epochs=10, plot_mode="none", **SMALL)
    result = train_trial(spec, tmp_path, TrialHooks(should_prune=lambda epoch, _v: epoch >= 2))
    assert result.status == "pruned" and result.pruned_at_epoch == 2 and result.epochs_run == 2
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["status"] == "pruned"
    assert not (tmp_path / "model.keras").exists()


def test_diverging_trial_fails_for_good(tmp_path: Path) -> None:
    spec = TrialSpec(dataset="digits", epochs=3, objective="simple", health=False,
                     plot_mode="none", tensorboard=False,
                     params={"optimizer": "rmsprop", "learning_rate": 0.1, "batch_norm": False,
                             "activation": "elu", "dense_layers": 4, "dense_units": 1024,
                             "filters": 256, "pooling": "flatten", "dropout": 0.0},
                     **SMALL)
    with pytest.raises(TrialFailed, match="diverged"):
        train_trial(spec, tmp_path)
    assert not (tmp_path / "model.keras").exists()


def test_best_only_plots_render_only_for_a_new_best(tmp_path: Path) -> None:
    base = dict(dataset="digits", epochs=1, objective="simple", health=False, plot_mode="best",
                tensorboard=False, **SMALL)
    beaten = train_trial(TrialSpec(**base, plot_threshold=1.01), tmp_path / "a")
    assert beaten.plots == [] and not (tmp_path / "a" / "plots").exists()
    best = train_trial(TrialSpec(**base, plot_threshold=0.0), tmp_path / "b")
    assert len(best.plots) == 6


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"epochs": 0}, "epochs"), ({"seed": -1}, "seed"), ({"objective": "x"}, "objective"),
     ({"plot_mode": "some"}, "plot_mode"), ({"max_train_samples": 0}, "max_train_samples"),
     ({"health": False}, "health")],
)
def test_bad_trial_specs_name_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(ConfigError) as err:
        TrialSpec(**kwargs)
    assert err.value.field == field


def _cli(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = os.environ | {"ONEGIN_TF_THREADS": "1", "ONEGIN_OFFLINE": "1", "COLUMNS": "120"}
    return subprocess.run([sys.executable, "-m", "onegin.cli", *args], capture_output=True,
                          text=True, env=env, cwd=tmp_path, timeout=300, check=False)


def test_cli_trains_a_trial_and_prints_the_table(tmp_path: Path) -> None:
    done = _cli("trial", "--dataset", "digits", "--epochs", "1", "--out", "t",
                "--max-train-samples", "200", "--max-eval-samples", "100",
                "--param", "conv_layers=1", "--plots", "none", tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    for name in ("val_accuracy", "test_accuracy", "total_score", *HEALTH_COMPONENTS):
        assert name in done.stdout
    assert (tmp_path / "t" / "model.keras").exists()


def test_cli_rejects_a_bad_parameter_naming_it(tmp_path: Path) -> None:
    done = _cli("trial", "--dataset", "digits", "--out", "t", "--param", "conv_layers=9",
                tmp_path=tmp_path)
    assert done.returncode == 2
    assert "params.conv_layers" in done.stderr
    assert not (tmp_path / "t").exists()


def test_trial_spec_checks_parameters_against_the_dataset_modality() -> None:
    with pytest.raises(ConfigError) as err:
        TrialSpec(dataset="digits", params={"lstm_units": 32})
    assert err.value.field == "params.lstm_units"
    with pytest.raises(ConfigError) as err:
        TrialSpec(dataset="no_such_data")
    assert err.value.field == "dataset"
