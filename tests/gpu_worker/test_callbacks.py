from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from gpu_worker.callbacks import (
    CancelCallback,
    HopelessCallback,
    ProgressCallback,
    PruningCallback,
)
from onegin.hopeless import chance_level, prior_loss
from onegin.progress import Progress, Throttle

X = np.random.default_rng(0).random((320, 4), dtype=np.float32)
Y = (X[:, 0] > 0.5).astype("int64")


def _model(activation: str = "relu") -> keras.Model:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation=activation),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


class BatchCounter(keras.callbacks.Callback):
    def __init__(self) -> None:
        super().__init__()
        self.batches = 0

    def on_train_batch_end(self, batch, logs=None) -> None:
        self.batches += 1


def test_throttle_lets_through_at_most_one_event_per_interval() -> None:
    now = [0.0]
    throttle = Throttle(0.25, clock=lambda: now[0])
    seen = []
    for step in range(100):
        now[0] = step * 0.01
        seen.append(throttle.ready())
    assert sum(seen) == 4  # at 0.00, 0.25, 0.50, 0.75
    assert throttle.ready(force=True)


def test_progress_reports_every_epoch_boundary_and_stays_throttled() -> None:
    events: list[Progress] = []
    now = [0.0]

    def clock() -> float:
        now[0] += 0.1  # each call advances 0.1 s, so at most every 3rd batch passes
        return now[0]

    model = _model()
    model.fit(X, Y, batch_size=32, epochs=3, verbose=0,
              callbacks=[ProgressCallback(events.append, 3, 10, Throttle(0.25, clock))])
    starts = [e for e in events if e.epoch_fraction == 0.0]
    ends = [e for e in events if e.epoch_fraction == 1.0 and "loss" in e.metrics]
    assert [e.epoch for e in starts] == [1, 2, 3]
    assert [e.epoch for e in ends] == [1, 2, 3]
    assert 6 < len(events) < 6 + 30  # throttled: fewer than one per batch
    fractions = [e.fraction for e in events]
    assert fractions == sorted(fractions)
    assert events[-1].fraction == 1.0


def test_cancel_stops_within_one_batch() -> None:
    asked = [0]

    def is_cancelled() -> bool:
        asked[0] += 1
        return asked[0] >= 4

    counter, cancel = BatchCounter(), CancelCallback(is_cancelled)
    _model().fit(X, Y, batch_size=32, epochs=5, verbose=0, callbacks=[cancel, counter])
    assert cancel.cancelled
    assert counter.batches == 4


def test_pruning_acts_within_the_epoch_and_keras_still_validates_it() -> None:
    asked = [0]

    def should_prune() -> str | None:
        asked[0] += 1
        return "pruner" if asked[0] >= 3 else None

    counter, pruning = BatchCounter(), PruningCallback(should_prune)
    history = _model().fit(X, Y, batch_size=32, epochs=6, verbose=0, validation_split=0.25,
                           callbacks=[pruning, counter])  # 8 batches an epoch
    assert counter.batches == 3 and asked[0] == 3
    assert pruning.stopped is not None
    assert (pruning.stopped.reason, pruning.stopped.epoch) == ("pruner", 1)
    assert pruning.stopped.evidence == {"epoch": 1, "batch": 3}
    # Keras 3 leaves the epoch at once, yet still scores it on validation
    assert len(history.history["loss"]) == 1 and len(history.history["val_accuracy"]) == 1


def test_pruning_per_epoch_asks_only_at_epoch_ends() -> None:
    epochs_asked: list[int] = []

    def should_prune() -> str | None:
        epochs_asked.append(len(epochs_asked) + 1)
        return "too_slow" if len(epochs_asked) == 2 else None

    pruning = PruningCallback(should_prune, per_batch=False)
    history = _model().fit(X, Y, batch_size=32, epochs=6, verbose=0, callbacks=[pruning])
    assert epochs_asked == [1, 2] and len(history.history["loss"]) == 2
    assert pruning.stopped is not None and pruning.stopped.reason == "too_slow"
    assert pruning.stopped.evidence == {"epoch": 2}


def test_a_nan_loss_stops_at_its_batch_as_diverged() -> None:
    x = X.copy()
    x[2 * 32 + 5] = np.nan  # in the third batch (no shuffling)
    counter = BatchCounter()
    hopeless = HopelessCallback(2, chance_level(Y), prior_loss(Y), epochs=5, steps_per_epoch=10)
    # tanh passes the NaN on; relu would swallow it (max(NaN, 0) is 0 in TensorFlow)
    history = _model("tanh").fit(x, Y, batch_size=32, epochs=5, verbose=0, shuffle=False,
                           callbacks=[hopeless, counter])
    assert counter.batches == 3 and len(history.history["loss"]) == 1
    assert hopeless.stopped is not None
    assert hopeless.stopped.reason == "diverged"
    assert hopeless.stopped.evidence == {
        "loss": "nan", "limit": round(100 * math.log(2), 6), "epoch": 1, "batch": 3}


def test_a_loss_far_above_a_uniform_guess_counts_as_diverged() -> None:
    hopeless = HopelessCallback(10, 0.1, math.log(10), epochs=3, steps_per_epoch=10)
    hopeless.set_model(_model())
    hopeless.on_epoch_begin(0)
    hopeless.on_train_batch_end(0, {"loss": 200.0})
    assert hopeless.stopped is None  # under 100 x ln 10 ≈ 230
    hopeless.on_train_batch_end(1, {"loss": 300.0})
    assert hopeless.stopped is not None and hopeless.stopped.evidence["loss"] == 300.0
    assert hopeless.model.stop_training


@pytest.mark.parametrize(("steps", "judged"), [(10, [1, 4]), (4, [3, 4])])
def test_chance_is_judged_after_the_first_epoch_with_enough_steps_and_the_last(
        steps: int, judged: list[int]) -> None:
    at_chance_logs = {"val_accuracy": 0.1, "val_loss": math.log(10)}
    for epoch in range(1, 5):
        hopeless = HopelessCallback(10, 0.1, math.log(10), epochs=4, steps_per_epoch=steps)
        hopeless.set_model(_model())
        hopeless.on_epoch_begin(epoch - 1)
        hopeless.on_epoch_end(epoch - 1, at_chance_logs)
        assert (hopeless.stopped is not None) == (epoch in judged)
    assert hopeless.stopped is not None and hopeless.stopped.evidence == {
        "val_accuracy": 0.1, "chance": 0.1, "accuracy_limit": 0.11, "val_loss": math.log(10),
        "prior_loss": math.log(10), "loss_limit": 2.233508, "epoch": 4}


def test_early_chance_spares_a_model_on_its_way_from_a_uniform_guess_to_the_prior() -> None:
    logs = {"val_accuracy": 0.866, "val_loss": 0.57}  # ln 2 = 0.69 > 0.57 > prior 0.39
    verdicts = []
    for epoch in (1, 3):
        hopeless = HopelessCallback(2, 0.866, 0.394, epochs=3, steps_per_epoch=10)
        hopeless.set_model(_model())
        hopeless.on_epoch_begin(epoch - 1)
        hopeless.on_epoch_end(epoch - 1, logs)
        verdicts.append(hopeless.stopped is not None)
    assert verdicts == [False, True]  # spared early, at chance at the end of its budget


def test_early_chance_spares_a_model_whose_training_loss_is_falling() -> None:
    """Batch norm's moving statistics lag: validation at chance while training learns."""
    val_at_chance = {"val_accuracy": 0.1, "val_loss": 2.4}
    verdicts = []
    for epoch, loss in ((1, 1.2), (1, 2.3), (3, 1.2)):
        hopeless = HopelessCallback(10, 0.1, math.log(10), epochs=3, steps_per_epoch=13)
        hopeless.set_model(_model())
        hopeless.on_epoch_begin(epoch - 1)
        hopeless.on_epoch_end(epoch - 1, val_at_chance | {"loss": loss})
        verdicts.append(hopeless.stopped and hopeless.stopped.evidence.get("loss"))
    # spared early; stopped early when training is stuck too; at the end validation decides
    assert verdicts == [None, 2.3, None]


def test_chance_spares_a_model_whose_loss_is_already_under_the_prior() -> None:
    hopeless = HopelessCallback(2, 0.866, 0.394, epochs=3, steps_per_epoch=10)
    hopeless.set_model(_model())
    hopeless.on_epoch_begin(0)
    hopeless.on_epoch_end(0, {"val_accuracy": 0.866, "val_loss": 0.30})
    assert hopeless.stopped is None and not hopeless.model.stop_training
    hopeless.on_epoch_end(0, {"val_accuracy": 0.866, "val_loss": float("nan")})
    assert hopeless.stopped is None  # a NaN is divergence's business, judged per batch


def test_a_stop_already_asked_for_wins() -> None:
    hopeless = HopelessCallback(10, 0.1, math.log(10), epochs=1, steps_per_epoch=10)
    hopeless.set_model(_model())
    hopeless.model.stop_training = True  # e.g. the pruner, earlier in this batch
    hopeless.on_epoch_begin(0)
    hopeless.on_train_batch_end(0, {"loss": float("nan")})
    hopeless.on_epoch_end(0, {"val_accuracy": 0.1, "val_loss": 3.0})
    assert hopeless.stopped is None
