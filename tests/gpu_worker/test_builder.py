from __future__ import annotations

import math
import random
from typing import Any

import numpy as np
import pytest

from gpu_worker.architecture import summarize
from gpu_worker.builder import build_model
from onegin.errors import ConfigError
from onegin.search_space import (
    CategoricalParam,
    ConditionalFloatParam,
    DataFacts,
    SearchSpace,
    estimate_cost,
    space_for,
)

IMAGE_SHAPES = [(8, 8, 1), (28, 28, 1), (32, 32, 3)]
SPACES = ("default", "wide")


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
    """Configurations of either named space build: the worker validates with the default."""
    shape = IMAGE_SHAPES[index % len(IMAGE_SHAPES)]
    params = space_for("image", name=SPACES[index % 2]).sample(random.Random(index))
    built = build_model(params, modality="image", input_shape=shape, num_classes=10)
    _check(built, shape, 10, np.random.default_rng(index).random((2, *shape), dtype=np.float32))
    assert built.params == params


@pytest.mark.parametrize("index", range(8))
def test_sampled_text_configurations_build_and_run(index: int) -> None:
    params = space_for("text", name=SPACES[index % 2]).sample(random.Random(100 + index))
    built = build_model(params, modality="text", input_shape=(20,), num_classes=3,
                        vocab_size=50)
    x = np.random.default_rng(index).integers(1, 50, size=(2, 20)).astype("int32")
    x[:, 15:] = 0  # padding at the end, as the text loaders produce
    _check(built, (20,), 3, x)


@pytest.mark.parametrize(("max_filters", "last"), [(128, 128), (256, 256)])
def test_deepest_configuration_on_a_tiny_image_stops_pooling(max_filters: int, last: int) -> None:
    built = build_model({"conv_layers": 4, "pooling": "flatten", "kernel_size": 5,
                         "filters": 32, "max_filters": max_filters},
                        modality="image", input_shape=(8, 8, 1), num_classes=10)
    pools = [lay for lay in built.architecture["layers"] if lay["type"] == "MaxPooling2D"]
    assert len(pools) == 2  # 8 → 4 → 2, then no more pooling
    layers = {lay["name"]: lay for lay in built.architecture["layers"]}
    assert [layers[f"conv_{i}"]["filters"] for i in (1, 2, 3, 4)] == [32, 64, 128, last]
    assert layers["flatten"]["output_shape"] == [None, 2 * 2 * last]


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


def test_swish_is_named_swish_in_the_graph_as_in_the_hyperparameters() -> None:
    built = build_model({"conv_layers": 1, "filters": 16, "activation": "swish",
                         "dense_layers": 1, "dense_units": 32},
                        modality="image", input_shape=(8, 8, 1), num_classes=10)
    layers = built.architecture["layers"]
    acts = {lay["activation"] for lay in layers if lay["type"] == "Activation"}
    assert acts == {"swish"}, acts  # Keras 3 itself calls it "silu"


def test_bidirectional_lstm_is_described() -> None:
    built = build_model({"bidirectional": True, "lstm_layers": 2, "lstm_units": 16},
                        modality="text", input_shape=(10,), num_classes=2, vocab_size=30)
    lstm = next(lay for lay in built.architecture["layers"] if lay["name"] == "lstm_1")
    assert lstm["bidirectional"] is True and lstm["units"] == 16
    assert lstm["output_shape"] == [None, 10, 32]


@pytest.mark.parametrize(
    ("name", "cls", "momentum", "decay"),
    [("sgd", "SGD", 0.9, None), ("sgd_plain", "SGD", 0.0, None), ("adam", "Adam", None, None),
     ("adamw", "AdamW", None, 1e-4), ("rmsprop", "RMSprop", None, None)],
)
def test_optimizer_and_learning_rate_are_applied(
        name: str, cls: str, momentum: float | None, decay: float | None) -> None:
    built = build_model({"optimizer": name, "learning_rate": 0.05}, modality="image",
                        input_shape=(8, 8, 1), num_classes=10)
    optimizer = built.model.optimizer
    assert optimizer.__class__.__name__ == cls
    assert float(optimizer.learning_rate) == pytest.approx(0.05)
    if momentum is not None:
        assert optimizer.momentum == pytest.approx(momentum)
        assert optimizer.nesterov is (momentum > 0)
    if decay is not None:
        assert optimizer.weight_decay == pytest.approx(decay)


def test_illegal_configuration_is_rejected_before_building() -> None:
    with pytest.raises(ConfigError) as err:
        build_model({"conv_layers": 9}, modality="image", input_shape=(8, 8, 1), num_classes=10)
    assert err.value.field == "params.conv_layers"


# --- every corner of the default space builds and trains ------------------------------

CORNER_CASES: dict[str, tuple[str, DataFacts]] = {
    "digits": ("image", DataFacts((8, 8, 1), 1078)),
    "mnist": ("image", DataFacts((28, 28, 1), 42_000)),
    "cifar": ("image", DataFacts((32, 32, 3), 36_000)),
    "text": ("text", DataFacts((64,), 3_344, 2)),
}
VOCAB = 500


def corner_configs(space: SearchSpace, rng: random.Random) -> list[dict[str, Any]]:
    """Configurations at the corners of the space, covering every end of every range and
    every choice at least once (each parameter cycles through its corners in a random
    order), so a handful of builds reach every corner value."""
    corners: dict[str, list[Any]] = {}
    for p in space.params:
        if isinstance(p, CategoricalParam):
            corners[p.name] = list(p.choices)
        elif isinstance(p, ConditionalFloatParam):
            corners[p.name] = [0, 1]  # the low or the high end of the optimizer's range
        else:
            corners[p.name] = sorted({p.low, p.high})
        rng.shuffle(corners[p.name])
    configs = []
    for i in range(max(len(c) for c in corners.values())):
        config: dict[str, Any] = {}
        for p in space.params:
            if not p.applies(config):  # a schedule's own settings, under another schedule
                continue
            pick = corners[p.name][i % len(corners[p.name])]
            if isinstance(p, ConditionalFloatParam):
                pick = p.range_for(config[p.on])[pick]
            config[p.name] = pick
        configs.append(space.resolve(config))
    return configs


def _train_one_batch(config: dict[str, Any], modality: str, facts: DataFacts) -> None:
    rng = np.random.default_rng(0)
    num_classes = facts.num_classes
    if modality == "image":
        x = rng.random((8, *facts.input_shape), dtype=np.float32)
        built = build_model(config, modality="image", input_shape=facts.input_shape,
                            num_classes=num_classes)
        expected = estimate_cost(config, "image", facts.input_shape, num_classes)
    else:
        x = rng.integers(1, VOCAB, size=(8, *facts.input_shape)).astype("int32")
        x[:, 40:] = 0
        built = build_model(config, modality="text", input_shape=facts.input_shape,
                            num_classes=num_classes, vocab_size=VOCAB)
        expected = estimate_cost(config, "text", facts.input_shape, num_classes, VOCAB)
    assert built.model.count_params() == expected.params  # the estimate mirrors the builder
    y = rng.integers(0, num_classes, size=8)
    loss = built.model.train_on_batch(x, y, return_dict=True)["loss"]
    assert math.isfinite(float(loss))


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CORNER_CASES))
def test_default_space_corners_and_warm_starts_build_and_train(case: str) -> None:
    modality, facts = CORNER_CASES[case]
    space = space_for(modality, facts=facts)
    configs = corner_configs(space, random.Random(case)) + space.warm_starts()
    seen = {(key, config[key]) for config in configs for key in config}
    for p in space.params:  # every choice and both ends of every range were reached
        if not any(p.applies(config) for config in configs):
            continue  # the schedule it belongs to is not searched here
        if isinstance(p, CategoricalParam):
            assert {(p.name, c) for c in p.choices} <= seen
        elif not isinstance(p, ConditionalFloatParam):
            assert {(p.name, p.low), (p.name, p.high)} <= seen
    for config in configs:
        _train_one_batch(config, modality, facts)
