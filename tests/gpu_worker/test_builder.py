from __future__ import annotations

import random

import numpy as np
import pytest

from gpu_worker.architecture import summarize
from gpu_worker.builder import build_model
from onegin.errors import ConfigError
from onegin.search_space import space_for

IMAGE_SHAPES = [(8, 8, 1), (28, 28, 1), (32, 32, 3)]


def _check(built, input_shape, num_classes, x) -> None:
    model = built.model
    assert model.output_shape == (None, num_classes)
    out = model.predict(x, verbose=0)
    assert out.shape == (len(x), num_classes)
    assert np.allclose(out.sum(axis=1), 1.0, atol=1e-4)
    arch = built.architecture
    names = [layer["name"] for layer in arch["layers"]]
    assert names[-1] == "output"
    assert arch["total_params"] == sum(layer["params"] for layer in arch["layers"])
    for edge in arch["edges"]:
        assert names.index(edge["source"]) < names.index(edge["target"])
        assert edge["shape"][0] is None
    assert len(arch["edges"]) == len(names) - 1  # our models are chains


@pytest.mark.parametrize("index", range(18))
def test_sampled_image_configurations_build_and_run(index: int) -> None:
    shape = IMAGE_SHAPES[index % len(IMAGE_SHAPES)]
    params = space_for("image").sample(random.Random(index))
    built = build_model(params, modality="image", input_shape=shape, num_classes=10)
    _check(built, shape, 10, np.random.default_rng(index).random((2, *shape), dtype=np.float32))
    assert built.params == params


@pytest.mark.parametrize("index", range(8))
def test_sampled_text_configurations_build_and_run(index: int) -> None:
    params = space_for("text").sample(random.Random(100 + index))
    built = build_model(params, modality="text", input_shape=(20,), num_classes=3,
                        vocab_size=50)
    x = np.random.default_rng(index).integers(1, 50, size=(2, 20)).astype("int32")
    x[:, 15:] = 0  # padding at the end, as the text loaders produce
    _check(built, (20,), 3, x)


def test_deepest_configuration_on_a_tiny_image_stops_pooling() -> None:
    built = build_model({"conv_layers": 4, "pooling": "flatten", "kernel_size": 5},
                        modality="image", input_shape=(8, 8, 1), num_classes=10)
    pools = [lay for lay in built.architecture["layers"] if lay["type"] == "MaxPooling2D"]
    assert len(pools) == 2  # 8 → 4 → 2, then no more pooling
    flatten = next(lay for lay in built.architecture["layers"] if lay["type"] == "Flatten")
    assert flatten["output_shape"] == [None, 2 * 2 * 256]


def test_architecture_describes_layers_for_the_ui() -> None:
    built = build_model({"conv_layers": 2, "filters": 16, "kernel_size": 5,
                         "activation": "elu", "dense_layers": 1, "dense_units": 64},
                        modality="image", input_shape=(28, 28, 1), num_classes=10)
    layers = {lay["name"]: lay for lay in built.architecture["layers"]}
    assert layers["conv_1"]["filters"] == 16 and layers["conv_1"]["kernel_size"] == [5, 5]
    assert layers["conv_2"]["filters"] == 32
    assert layers["conv_1_act"]["activation"] == "elu"
    assert layers["dense_1"]["units"] == 64
    assert layers["output"]["output_shape"] == [None, 10]
    assert "Conv2D" in summarize(built.architecture)


def test_bidirectional_lstm_is_described() -> None:
    built = build_model({"bidirectional": True, "lstm_layers": 2, "lstm_units": 16},
                        modality="text", input_shape=(10,), num_classes=2, vocab_size=30)
    lstm = next(lay for lay in built.architecture["layers"] if lay["name"] == "lstm_1")
    assert lstm["bidirectional"] is True and lstm["units"] == 16
    assert lstm["output_shape"] == [None, 10, 32]


def test_optimizer_and_learning_rate_are_applied() -> None:
    built = build_model({"optimizer": "sgd", "learning_rate": 0.05}, modality="image",
                        input_shape=(8, 8, 1), num_classes=10)
    optimizer = built.model.optimizer
    assert optimizer.__class__.__name__ == "SGD"
    assert float(optimizer.learning_rate) == pytest.approx(0.05)
    assert optimizer.momentum == pytest.approx(0.9)


def test_illegal_configuration_is_rejected_before_building() -> None:
    with pytest.raises(ConfigError) as err:
        build_model({"conv_layers": 9}, modality="image", input_shape=(8, 8, 1), num_classes=10)
    assert err.value.field == "params.conv_layers"
