"""Early stopping through the real worker: a run whose validation accuracy is flat by
construction stops after its patience and is recorded completed with its stopping epoch
(the real `run_trial` and `train_trial`, embedded backends); at chance it is pruned."""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from gpu_worker.commands import print_result
from gpu_worker.datasets import PreparedData, load_dataset
from gpu_worker.trainer import train_trial
from gpu_worker.trial_runner import run_trial
from onegin.services import Services
from onegin.settings import load_settings
from onegin.trial_message import TrialResult, TrialSpec
from orchestrator.trial_results import result_fields

EPOCHS = 6
QUIET = {"objective": "simple", "health": False, "plot_mode": "none", "tensorboard": False}


def flat(data: PreparedData) -> PreparedData:
    """Every validation input the same, every class equally often in its labels: whatever
    the model predicts it is right on exactly a tenth, so after the first epoch its
    validation accuracy never improves (and is at chance: a balanced tenth)."""
    labels = np.arange(len(data.y_val)) % data.num_classes
    return replace(data, x_val=np.zeros_like(data.x_val), y_val=labels.astype(data.y_val.dtype))


@pytest.fixture(scope="module")
def flat_digits() -> PreparedData:
    return flat(load_dataset("digits", seed=0, max_train_samples=300, max_eval_samples=150))


def test_an_early_stopped_trial_is_completed_with_its_stopping_epoch(
        tmp_path: Path, flat_digits: PreparedData) -> None:
    services = Services(load_settings(env={}, overrides={"home": str(tmp_path / "home")}))
    spec = TrialSpec(dataset="digits", epochs=EPOCHS, hopeless_stop=False, **QUIET,
                     params={"early_stopping": True, "early_stopping_patience": 1,
                             "learning_rate": 0.01, "batch_size": 32})
    trainer = partial(train_trial, data=flat_digits)
    assert run_trial("job-e", 0, spec.to_dict(), services, trainer=trainer) == {
        "status": "completed"}
    summary = services.control.result("job-e", 0)
    assert summary is not None
    result = TrialResult.from_dict(summary)
    assert (result.status, result.epochs_run, result.stopped_epoch) == ("completed", 2, 2)
    assert result.val_accuracy == pytest.approx(0.1)  # the best epoch's: the first
    assert result_fields(result)["metrics"]["stopped_epoch"] == 2  # the trial's record
    events = services.events.read("job-e", None, limit=1000)[0]
    progress = [e["data"] for e in events if e["type"] == "trial_progress"]
    assert max(p["epoch"] for p in progress) == 2  # no label claims an epoch never run
    assert all(p["epochs"] == EPOCHS for p in progress)


def test_an_early_stopped_trial_at_chance_is_pruned(
        tmp_path: Path, flat_digits: PreparedData) -> None:
    """Batches of 128 leave 3 steps an epoch: the first chance check is due after epoch 4,
    so only the check of the epoch early stopping ended on can prune it."""
    spec = TrialSpec(dataset="digits", epochs=EPOCHS, **QUIET,
                     params={"early_stopping": True, "early_stopping_patience": 1,
                             "batch_size": 128})
    result = train_trial(spec, tmp_path, data=flat_digits)
    assert (result.status, result.prune_reason) == ("pruned", "chance")
    assert result.epochs_run == 2 and result.pruned_at_epoch == 2
    assert result.stopped_epoch is None and not (tmp_path / "model.keras").exists()


def test_the_cli_table_says_where_early_stopping_ended_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = {"status": "completed", "architecture_summary": "cnn", "param_count": 10,
              "epochs_run": 2, "timings": {}}
    print_result(result, tmp_path)
    assert "early stopping" not in capsys.readouterr().out
    print_result(result | {"stopped_epoch": 2}, tmp_path)
    assert "early stopping ended it in epoch" in capsys.readouterr().out
