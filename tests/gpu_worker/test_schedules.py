"""Every learning-rate schedule, with and without warm-up, builds, trains and saves; the
rate follows the schedule; early stopping ends a run whose validation accuracy is flat
by construction at the epoch its patience says."""

from __future__ import annotations

import math
from pathlib import Path

import keras
import numpy as np
import pytest

from gpu_worker.builder import build_model
from gpu_worker.schedules import TrainingLength, kept_epoch
from onegin.search_space import LR_SCHEDULES

SHAPE = (8, 8, 1)
RATE = 1e-6  # too small to move the validation loss: the plateau schedule sees a plateau
SMALL_CNN = {"conv_layers": 1, "filters": 8, "dense_layers": 0, "batch_norm": False,
             "dropout": 0.0, "batch_size": 16, "optimizer": "sgd", "learning_rate": RATE}
STEPS, WARMUP = 4, 2  # 64 examples in batches of 16; half an epoch of warm-up
# the rate after two epochs, as a share of RATE (after the last step's, with a warm-up
# `WarmUp` drives: the schedule's is set before each step, counted from its end)
AFTER_TWO_EPOCHS = {
    ("constant", 0.0): 1.0, ("constant", 0.5): 1.0,
    ("cosine", 0.0): 0.0, ("cosine", 0.5): 0.0,  # decayed to 0 at the end of the trial
    ("exponential", 0.0): 0.5 ** 2, ("exponential", 0.5): 0.5 ** ((2 * STEPS - 1 - WARMUP) / STEPS),
    ("step", 0.0): 0.5 ** 2, ("step", 0.5): 0.5 ** ((2 * STEPS - 1 - WARMUP) // STEPS),
    ("plateau", 0.0): 0.5, ("plateau", 0.5): 0.5,  # epoch 2 did not improve: one drop
}

OWN = {  # each schedule's own settings (another's would be refused: they do not apply)
    "exponential": {"lr_decay_rate": 0.5},
    "step": {"lr_decay_rate": 0.5, "lr_step_epochs": 1},
    "plateau": {"lr_decay_rate": 0.5, "lr_plateau_patience": 1},
}


def _data(n: int = 64) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.random((n, *SHAPE), dtype=np.float32), rng.integers(0, 10, n)


def _rate(model: keras.Model) -> float:
    return float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))


@pytest.mark.parametrize("warmup", [0.0, 0.5], ids=["no_warmup", "warmup"])
@pytest.mark.parametrize("schedule", LR_SCHEDULES)
def test_every_schedule_trains_follows_its_rate_and_saves(
        schedule: str, warmup: float, tmp_path: Path) -> None:
    params = {**SMALL_CNN, "lr_schedule": schedule, "lr_warmup": warmup, **OWN.get(schedule, {})}
    built = build_model(params, modality="image", input_shape=SHAPE, num_classes=10,
                        length=TrainingLength(epochs=2, samples=64))
    x, y = _data()
    rates: list[float] = []
    watch = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: rates.append(_rate(built.model)))
    fit = built.model.fit(x, y, validation_data=flat_validation(), epochs=2, batch_size=16,
                          callbacks=[*built.callbacks, watch], verbose=0)
    assert all(math.isfinite(loss) for loss in fit.history["loss"])
    if warmup and schedule != "plateau":  # a linear ramp over the first steps
        assert rates[0] < rates[1] <= RATE
    assert _rate(built.model) == pytest.approx(RATE * AFTER_TWO_EPOCHS[schedule, warmup],
                                               rel=1e-5, abs=1e-15)
    built.model.save(tmp_path / "model.keras")  # Keras' own schedules: loads without us
    assert keras.models.load_model(tmp_path / "model.keras").optimizer is not None


def test_a_schedule_needs_the_training_length() -> None:
    with pytest.raises(ValueError, match="cosine"):
        build_model({"lr_schedule": "cosine"}, modality="image", input_shape=SHAPE,
                    num_classes=10)


def flat_validation(n: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """One input, every class equally often: whatever the model predicts, it is right
    on exactly a tenth, so validation accuracy never improves after the first epoch."""
    return np.zeros((n, *SHAPE), dtype=np.float32), np.arange(n) % 10


def test_early_stopping_ends_a_flat_run_after_its_patience() -> None:
    patience = 2
    built = build_model({**SMALL_CNN, "early_stopping": True,
                         "early_stopping_patience": patience},
                        modality="image", input_shape=SHAPE, num_classes=10)
    x, y = _data()
    fit = built.model.fit(x, y, validation_data=flat_validation(), epochs=6, batch_size=16,
                          callbacks=list(built.callbacks), verbose=0)
    assert fit.history["val_accuracy"] == [pytest.approx(0.1)] * (patience + 1)
    assert kept_epoch(built.early_stopping, patience + 1) == 0  # the first was the best
