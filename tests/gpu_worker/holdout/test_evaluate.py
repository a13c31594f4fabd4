"""The holdout report of constructed Keras models: a model that reads one pixel is less
robust than one that averages them all, though both are perfect on clean images; a text
model that hangs on one keyword loses accuracy as typos and dropout grow."""

from __future__ import annotations

from dataclasses import replace

import keras
import numpy as np
import pytest

from gpu_worker.datasets import PreparedData, get_spec
from gpu_worker.datasets.text import KERAS_IDS, START_CHAR
from gpu_worker.holdout import evaluate_holdout
from onegin.holdout import CORRUPTIONS, HOLDOUT_KEYS, SEVERITIES

SHARPNESS = 40.0


def _data(x: np.ndarray, y: np.ndarray, dataset: str, **extra: object) -> PreparedData:
    spec = replace(get_spec(dataset), num_classes=2, input_shape=x.shape[1:])
    empty_x, empty_y = x[:0], y[:0]
    return PreparedData(spec=spec, class_names=("a", "b"), vocab_size=None,
                        x_train=empty_x, y_train=empty_y, x_val=empty_x, y_val=empty_y,
                        x_test=empty_x, y_test=empty_y, x_holdout=x, y_holdout=y,
                        **extra)  # type: ignore[arg-type]


def _dark_or_bright() -> PreparedData:
    """8x8 images, flat grey 0.3 (class 0) or 0.7 (class 1)."""
    y = np.tile([0, 1], 100)
    x = np.where(y == 1, 0.7, 0.3).astype(np.float32)[:, None, None, None] * np.ones(
        (1, 8, 8, 1), np.float32)
    return _data(x, y, "digits")


def _brightness_model(pixel_weights: np.ndarray) -> keras.Model:
    """Class 1 when the weighted pixels (weights summing to 1) exceed 0.5."""
    inputs = keras.Input((8, 8, 1))
    dense = keras.layers.Dense(2, activation="softmax")
    outputs = dense(keras.layers.Flatten()(inputs))
    model = keras.Model(inputs, outputs)
    w = pixel_weights.reshape(-1, 1) * SHARPNESS
    dense.set_weights([np.hstack([-w, w]), np.array([SHARPNESS / 2, -SHARPNESS / 2])])
    return model


def test_a_model_reading_one_pixel_is_less_robust_than_one_averaging_them_all() -> None:
    data = _dark_or_bright()
    one_pixel = np.zeros(64)
    one_pixel[27] = 1.0
    smooth = evaluate_holdout(_brightness_model(np.full(64, 1 / 64)), data, seed=0)
    sensitive = evaluate_holdout(_brightness_model(one_pixel), data, seed=0)
    assert smooth is not None and sensitive is not None
    for report in (smooth, sensitive):
        assert tuple(report) == HOLDOUT_KEYS
        assert report["accuracy"] == 1.0 and report["worst_class_accuracy"] == 1.0
        assert report["per_class_accuracy"] == [1.0, 1.0] and report["samples"] == 200
        assert tuple(report["robustness"]) == CORRUPTIONS["image"]
        assert all(len(accs) == SEVERITIES for accs in report["robustness"].values())
        assert report["param_count"] == 130 and report["latency_ms_per_256"] > 0
    assert smooth["robustness"]["gaussian_noise"] == [1.0, 1.0, 1.0]
    noisy = sensitive["robustness"]["gaussian_noise"]
    assert noisy[0] > noisy[2] and noisy[2] < 0.9  # sigma 0.38 flips a 0.2 margin often
    assert sensitive["robustness_mean"] < smooth["robustness_mean"]
    assert smooth["robustness_mean"] == pytest.approx(np.mean(
        [a for accs in smooth["robustness"].values() for a in accs]))


def test_a_keyword_model_loses_accuracy_as_typos_and_dropout_grow() -> None:
    """Each text holds one keyword (5: class 0, 6: class 1) among filler words."""
    rng = np.random.default_rng(0)
    y = np.tile([0, 1], 200)
    x = np.zeros((len(y), 30), dtype=np.int32)
    x[:, 0] = START_CHAR
    x[:, 1:21] = rng.integers(10, 50, (len(y), 20))
    x[np.arange(len(y)), rng.integers(1, 21, len(y))] = np.where(y == 1, 6, 5)
    inputs = keras.Input((30,), dtype="int32")
    embedding = keras.layers.Embedding(50, 1)
    dense = keras.layers.Dense(2, activation="softmax")
    outputs = dense(keras.layers.GlobalAveragePooling1D()(embedding(inputs)))
    model = keras.Model(inputs, outputs)
    table = np.zeros((50, 1))
    table[5], table[6] = -1.0, 1.0
    embedding.set_weights([table])
    dense.set_weights([np.array([[-SHARPNESS * 30, SHARPNESS * 30]]), np.array([0.1, 0.0])])
    report = evaluate_holdout(model, _data(x, y, "imdb", token_ids=KERAS_IDS), seed=0)
    assert report is not None and tuple(report) == HOLDOUT_KEYS
    assert report["accuracy"] == 1.0 and report["ece"] < 0.01
    assert tuple(report["robustness"]) == CORRUPTIONS["text"]
    for accs in report["robustness"].values():
        # a lost keyword leaves the bias: class 0, still right for half the texts
        assert 1.0 > accs[0] > accs[1] > accs[2] > 0.5


def test_an_empty_holdout_split_gives_no_report() -> None:
    data = _dark_or_bright()
    empty = replace(data, x_holdout=data.x_holdout[:0], y_holdout=data.y_holdout[:0])
    assert evaluate_holdout(_brightness_model(np.full(64, 1 / 64)), empty, seed=0) is None
