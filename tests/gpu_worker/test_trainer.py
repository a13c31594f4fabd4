"""End-to-end trials: a CNN and an LSTM train briefly and leave every artifact; hopeless
and pruned trials stop at once and say why."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from gpu_worker.datasets import PreparedData, load_dataset
from gpu_worker.trainer import TrialHooks, train_trial
from onegin.errors import ConfigError, TrialCancelled, TrialFailed
from onegin.holdout import CORRUPTIONS, HOLDOUT_KEYS, SEVERITIES
from onegin.hopeless import prune_reason_for_stop
from onegin.progress import Progress
from onegin.scoring import HEALTH_COMPONENTS
from onegin.trial_message import TrialSpec

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO.parent / "shared" / "data"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SMALL = {"max_train_samples": 300, "max_eval_samples": 150}
QUIET = {"objective": "simple", "health": False, "plot_mode": "none", "tensorboard": False}
# SGD at the search space's top rate on inputs scaled 100x: the loss explodes at once
EXPLODING = {"optimizer": "sgd", "learning_rate": 0.1, "batch_size": 32, "conv_layers": 1,
             "filters": 16, "batch_norm": False, "dense_layers": 1, "dense_units": 64,
             "dropout": 0.0}


def _digits() -> PreparedData:
    return load_dataset("digits", seed=0, **SMALL)


def _scaled(data: PreparedData, factor: float) -> PreparedData:
    return replace(data, x_train=(data.x_train * factor).astype("float32"))


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
    assert result.prune_reason is None and metrics["prune_reason"] is None
    phases = [e.phase for e in events]
    for phase in ("loading_data", "building", "training", "evaluating", "computing_health",
                  "plotting", "saving", "done"):
        assert phase in phases
    assert phases.index("training") < phases.index("computing_health") < phases.index("saving")
    after = events[phases.index("evaluating"):]
    assert {(e.epoch, e.epochs) for e in after} == {(2, 2)}, after  # the last epoch, not 0
    assert 0.1 <= result.dataset["chance"] < 0.2  # the commonest of ten digits' share


@pytest.mark.skipif(not (SHARED_DATA / "sms-spam").is_dir(), reason="shared SMS data absent")
def test_lstm_trial_on_sms_spam_writes_every_artifact(tmp_path: Path) -> None:
    # at the default rate (1e-3) 2 epochs of 300 messages end at chance: pruned
    spec = TrialSpec(dataset="sms_spam", epochs=2, data_dir=str(SHARED_DATA), holdout=True,
                     params={"lstm_units": 16, "embedding_dim": 16, "learning_rate": 0.01,
                             "batch_size": 32}, **SMALL)
    result = train_trial(spec, tmp_path)
    assert result.holdout is not None and tuple(result.holdout) == HOLDOUT_KEYS
    assert tuple(result.holdout["robustness"]) == CORRUPTIONS["text"]
    metrics = _assert_artifacts(tmp_path, result.plots)
    assert len(result.plots) == 6
    _check_result(result, metrics, 2)
    assert result.dataset["num_classes"] == 2
    # after epoch 1 its argmax was still the majority class ("ham", 130 of 150), yet its
    # loss was already under the class prior's: learning, so not stopped at chance
    assert result.history["val_accuracy"][0] == pytest.approx(130 / 150)
    assert result.dataset["chance"] == pytest.approx(130 / 150)  # always answering "ham"


def test_cancel_stops_the_trial(tmp_path: Path) -> None:
    spec = TrialSpec(dataset="digits", epochs=50, health=False, objective="simple",
                     plot_mode="none", **SMALL)
    with pytest.raises(TrialCancelled):
        train_trial(spec, tmp_path, TrialHooks(is_cancelled=lambda: True))
    assert not (tmp_path / "model.keras").exists()


class _FlagAfter:
    """A stop flag raised after ``n`` checks (one check a batch), read like the worker's."""

    def __init__(self, n: int, flag: str) -> None:
        self.n, self.flag, self.asked = n, flag, 0

    def __call__(self) -> str | None:
        self.asked += 1
        return prune_reason_for_stop(self.flag if self.asked >= self.n else None)


@pytest.mark.parametrize(("flag", "reason"), [("prune", "pruner"), ("too_slow", "too_slow")])
def test_a_stop_flag_prunes_within_the_epoch(tmp_path: Path, flag: str, reason: str) -> None:
    spec = TrialSpec(dataset="digits", epochs=10, params={"batch_size": 32}, **QUIET, **SMALL)
    should_prune = _FlagAfter(12, flag)  # 10 batches an epoch: mid-way through epoch 2
    result = train_trial(spec, tmp_path, TrialHooks(should_prune=should_prune))
    assert should_prune.asked == 12  # no batch trained after the flag
    assert result.status == "pruned" and result.prune_reason == reason
    assert result.pruned_at_epoch == 2 and result.epochs_run == 2
    assert result.prune_evidence == {"epoch": 2, "batch": 2}
    assert result.val_accuracy is not None  # Keras still scored the partial epoch
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert (metrics["status"], metrics["prune_reason"]) == ("pruned", reason)
    assert not (tmp_path / "model.keras").exists()


def test_diverging_trial_is_pruned_in_its_first_epoch(tmp_path: Path) -> None:
    spec = TrialSpec(dataset="digits", epochs=5, params=EXPLODING, **QUIET, **SMALL)
    result = train_trial(spec, tmp_path, data=_scaled(_digits(), 100.0))
    assert result.status == "pruned" and result.prune_reason == "diverged"
    evidence = result.prune_evidence or {}
    assert result.epochs_run == 1 and result.pruned_at_epoch == 1 and evidence["epoch"] == 1
    assert evidence["batch"] <= 3  # of 10 a epoch, 50 in the budget
    assert isinstance(evidence["loss"], float) and evidence["loss"] > 100 * math.log(10)
    assert evidence["limit"] == pytest.approx(100 * math.log(10))
    assert not (tmp_path / "model.keras").exists()


def test_a_nan_loss_is_pruned_and_its_result_stays_valid_json(tmp_path: Path) -> None:
    data = _digits()
    x = data.x_train.copy()
    x[:, 0, 0, 0] = np.nan  # in every sample: NaN weights after the first update
    # tanh and global average pooling pass a NaN on; relu and max pooling may swallow it
    # (TensorFlow's max(NaN, 0) is 0): the model then goes dead, judged at chance instead
    spec = TrialSpec(dataset="digits", epochs=3, **QUIET, **SMALL,
                     params={**EXPLODING, "activation": "tanh", "pooling": "global"})
    result = train_trial(spec, tmp_path, data=replace(data, x_train=x))
    assert (result.status, result.prune_reason) == ("pruned", "diverged")
    evidence = result.prune_evidence or {}
    assert (evidence["loss"], evidence["epoch"]) == ("nan", 1) and evidence["batch"] <= 2
    assert result.val_loss is None and result.total_score == (result.val_accuracy or 0.0)
    json.dumps(result.to_dict(), allow_nan=False)  # what the worker sends and stores
    history = json.loads((tmp_path / "history.json").read_text())
    assert history["loss"] == [None]


def test_without_hopeless_stops_a_diverging_trial_trains_its_budget_then_fails(
        tmp_path: Path) -> None:
    events: list[Progress] = []
    spec = TrialSpec(dataset="digits", epochs=3, params=EXPLODING, hopeless_stop=False,
                     **QUIET, **SMALL)
    with pytest.raises(TrialFailed, match="diverged"):
        train_trial(spec, tmp_path, TrialHooks(on_progress=events.append),
                    data=_scaled(_digits(), 100.0))
    assert max(e.epoch for e in events if e.phase == "training") == 3
    assert not (tmp_path / "model.keras").exists()


def test_without_hopeless_stops_the_flag_is_read_at_epoch_ends(tmp_path: Path) -> None:
    spec = TrialSpec(dataset="digits", epochs=10, params={"batch_size": 32},
                     hopeless_stop=False, **QUIET, **SMALL)
    result = train_trial(spec, tmp_path, TrialHooks(should_prune=_FlagAfter(2, "prune")))
    assert result.status == "pruned" and result.prune_reason == "pruner"
    assert result.pruned_at_epoch == 2 and result.prune_evidence == {"epoch": 2}


def test_a_trial_at_chance_is_pruned_after_its_first_epoch(tmp_path: Path) -> None:
    spec = TrialSpec(dataset="digits", epochs=3, **QUIET, **SMALL, holdout=True,
                     params={**EXPLODING, "learning_rate": 1e-5})  # learns nothing
    result = train_trial(spec, tmp_path)
    assert (result.status, result.prune_reason) == ("pruned", "chance")
    assert result.holdout is None and "holdout" not in result.timings  # completed only
    assert result.epochs_run == 1 and result.pruned_at_epoch == 1
    evidence = result.prune_evidence or {}
    assert set(evidence) == {"val_accuracy", "chance", "accuracy_limit", "val_loss",
                             "prior_loss", "loss_limit", "loss", "epoch"}
    assert evidence["val_accuracy"] <= evidence["accuracy_limit"]
    assert min(evidence["val_loss"], evidence["loss"]) >= evidence["loss_limit"]
    assert evidence["chance"] == pytest.approx(16 / 150)  # the majority class's share
    assert evidence["prior_loss"] == pytest.approx(math.log(10), abs=0.01)
    assert result.total_score == result.val_accuracy


def test_a_healthy_trial_is_never_stopped(tmp_path: Path) -> None:
    spec = TrialSpec(dataset="digits", epochs=2, max_train_samples=640,  # 10 batches an epoch
                     max_eval_samples=150, **QUIET)
    result = train_trial(spec, tmp_path, TrialHooks(should_prune=lambda: None))
    assert result.status == "completed" and result.epochs_run == 2
    assert result.prune_reason is None and result.prune_evidence is None
    assert (tmp_path / "model.keras").exists()
    assert result.holdout is None and "holdout" not in result.timings  # not asked for
    assert json.loads((tmp_path / "metrics.json").read_text())["holdout"] is None


def test_a_holdout_trial_reports_every_holdout_metric(tmp_path: Path) -> None:
    events: list[Progress] = []
    spec = TrialSpec(dataset="digits", epochs=2, holdout=True, seed=5, data_seed=4,
                     params={"conv_layers": 2, "filters": 16, "batch_norm": False,
                             "learning_rate": 0.01, "batch_size": 32}, **QUIET, **SMALL)
    result = train_trial(spec, tmp_path, TrialHooks(on_progress=events.append))
    assert result.status == "completed"
    report = result.holdout
    assert report is not None and tuple(report) == HOLDOUT_KEYS
    assert report["samples"] == result.dataset["splits"]["holdout"] == 150
    assert len(report["per_class_accuracy"]) == 10
    assert report["worst_class_accuracy"] == min(report["per_class_accuracy"])
    assert report["accuracy"] > 0.3  # it learned: well above chance (0.1)
    assert 0.0 <= report["ece"] <= 1.0 and 0.0 <= report["brier"] <= 2.0
    assert tuple(report["robustness"]) == CORRUPTIONS["image"]
    assert all(len(accs) == SEVERITIES and all(0.0 <= a <= 1.0 for a in accs)
               for accs in report["robustness"].values())
    assert report["param_count"] == result.param_count and report["latency_ms_per_256"] > 0
    assert json.loads((tmp_path / "metrics.json").read_text())["holdout"] == report
    phases = [e.phase for e in events]
    assert phases.index("evaluating") < phases.index("holdout") < phases.index("saving")
    assert result.timings["holdout"] > 0


def test_best_only_plots_render_only_for_a_new_best(tmp_path: Path) -> None:
    base = dict(dataset="digits", epochs=1, objective="simple", health=False, plot_mode="best",
                tensorboard=False, params={"learning_rate": 0.01, "batch_size": 32},
                **SMALL)  # the default rate is still at chance after one epoch of 300 digits
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
        TrialSpec.from_dict(kwargs)
    assert err.value.field == field


def _cli(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = os.environ | {"ONEGIN_TF_THREADS": "1", "ONEGIN_OFFLINE": "1", "COLUMNS": "120"}
    return subprocess.run([sys.executable, "-m", "onegin.cli", *args], capture_output=True,
                          text=True, env=env, cwd=tmp_path, timeout=300, check=False)


def test_cli_trains_a_trial_and_prints_the_table(tmp_path: Path) -> None:
    done = _cli("trial", "--dataset", "digits", "--epochs", "1", "--out", "t",
                "--max-train-samples", "200", "--max-eval-samples", "100",
                "--param", "conv_layers=1", "--plots", "none", "--holdout", tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    for name in ("val_accuracy", "test_accuracy", "total_score", *HEALTH_COMPONENTS,
                 "holdout · worst_class_accuracy", "holdout · robustness_mean"):
        assert name in done.stdout
    assert (tmp_path / "t" / "model.keras").exists()


def test_cli_rejects_a_bad_parameter_naming_it(tmp_path: Path) -> None:
    done = _cli("trial", "--dataset", "digits", "--out", "t", "--param", "conv_layers=9",
                tmp_path=tmp_path)
    assert done.returncode == 2
    assert "params.conv_layers" in done.stderr
    assert not (tmp_path / "t").exists()


def test_parameters_of_another_modality_fail_the_trial_naming_them(tmp_path: Path) -> None:
    """The message trusts the job's validated space; the builder still refuses what it
    cannot build, as the trial's own failure."""
    spec = TrialSpec(dataset="digits", params={"lstm_units": 32}, **QUIET, **SMALL)
    with pytest.raises(TrialFailed, match=r"params\.lstm_units"):
        train_trial(spec, tmp_path)
    with pytest.raises(ConfigError) as err:
        TrialSpec.from_dict({"dataset": "no_such_data"})
    assert err.value.field == "dataset"
