from __future__ import annotations

import keras
import numpy as np

from gpu_worker.callbacks import CancelCallback, ProgressCallback, PruningCallback
from onegin.progress import Progress, Throttle

X = np.random.default_rng(0).random((320, 4), dtype=np.float32)
Y = (X[:, 0] > 0.5).astype("int64")


def _model() -> keras.Model:
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
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


def test_pruning_stops_when_told_and_reports_each_epoch() -> None:
    reported: list[tuple[int, float]] = []

    def should_prune(epoch: int, value: float) -> bool:
        reported.append((epoch, value))
        return epoch == 2

    pruning = PruningCallback(should_prune)
    history = _model().fit(X, Y, batch_size=32, epochs=6, verbose=0, validation_split=0.25,
                           callbacks=[pruning])
    assert pruning.pruned_at_epoch == 2
    assert len(history.history["loss"]) == 2
    assert [epoch for epoch, _ in reported] == [1, 2]
    assert all(0.0 <= value <= 1.0 for _, value in reported)
