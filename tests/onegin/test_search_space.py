from __future__ import annotations

import random

import pytest

from onegin.errors import ConfigError
from onegin.search_space import space_for


class RecordingTrial:
    """An Optuna-shaped trial that answers from a seeded RNG and records each call."""

    def __init__(self) -> None:
        self.rng = random.Random(1)
        self.calls: list[tuple[str, str]] = []

    def suggest_int(self, name: str, low: int, high: int, *, log: bool = False) -> int:
        self.calls.append(("int", name))
        return self.rng.randint(low, high)

    def suggest_float(self, name: str, low: float, high: float, *, log: bool = False) -> float:
        self.calls.append(("float", name))
        return self.rng.uniform(low, high)

    def suggest_categorical(self, name: str, choices: list) -> object:
        self.calls.append(("categorical", name))
        return self.rng.choice(choices)


def test_image_space_has_the_documented_ranges() -> None:
    space = space_for("image").describe()
    assert (space["conv_layers"]["low"], space["conv_layers"]["high"]) == (1, 4)
    assert (space["filters"]["low"], space["filters"]["high"]) == (16, 256)
    assert space["kernel_size"]["choices"] == [3, 5]
    assert space["activation"]["choices"] == ["relu", "leaky_relu", "elu", "swish", "tanh"]
    assert (space["dense_layers"]["low"], space["dense_layers"]["high"]) == (0, 4)
    assert (space["dense_units"]["low"], space["dense_units"]["high"]) == (64, 1024)
    assert space["learning_rate"]["log"] is True
    assert space["optimizer"]["choices"] == ["adam", "rmsprop", "sgd"]


def test_text_space_has_lstm_parameters() -> None:
    names = space_for("text").names()
    for name in ("embedding_dim", "lstm_units", "lstm_layers", "bidirectional",
                 "recurrent_dropout", "dense_layers", "optimizer", "learning_rate", "batch_size"):
        assert name in names


def test_defaults_are_inside_their_ranges() -> None:
    for modality in ("image", "text"):
        space = space_for(modality)
        assert space.resolve() == space.defaults()


def test_fixing_and_narrowing() -> None:
    space = space_for("image", {
        "conv_layers": {"low": 2, "high": 3},
        "activation": {"choices": ["elu", "tanh"]},
        "learning_rate": 0.01,
        "batch_norm": False,
    })
    rng = random.Random(0)
    for _ in range(50):
        sample = space.sample(rng)
        assert 2 <= sample["conv_layers"] <= 3
        assert sample["activation"] in ("elu", "tanh")
        assert sample["learning_rate"] == 0.01
        assert sample["batch_norm"] is False


def test_fixed_parameters_are_not_asked_of_the_trial() -> None:
    space = space_for("image", {"learning_rate": 0.01, "optimizer": "sgd"})
    trial = RecordingTrial()
    params = space.suggest(trial)
    asked = {name for _, name in trial.calls}
    assert "learning_rate" not in asked and "optimizer" not in asked
    assert params["learning_rate"] == 0.01 and params["optimizer"] == "sgd"
    assert ("int", "conv_layers") in trial.calls and ("float", "dropout") in trial.calls


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"colour": 3}, "params.colour"),
        ({"conv_layers": {"low": 3, "high": 2}}, "params.conv_layers"),
        ({"conv_layers": {"low": 0, "high": 2}}, "params.conv_layers.low"),
        ({"conv_layers": 2.5}, "params.conv_layers"),
        ({"conv_layers": "two"}, "params.conv_layers"),
        ({"batch_norm": 1}, "params.batch_norm"),
        ({"activation": {"choices": []}}, "params.activation"),
        ({"activation": {"choices": ["sigmoid"]}}, "params.activation"),
        ({"learning_rate": {"low": 0.1, "top": 1}}, "params.learning_rate"),
        ({"learning_rate": float("nan")}, "params.learning_rate"),
    ],
)
def test_invalid_overrides_name_the_parameter(overrides: dict, field: str) -> None:
    with pytest.raises(ConfigError) as err:
        space_for("image", overrides)
    assert err.value.field == field


def test_lstm_parameter_is_unknown_for_images() -> None:
    with pytest.raises(ConfigError, match="unknown parameter for image models"):
        space_for("image", {"lstm_units": 32})


def test_unknown_modality() -> None:
    with pytest.raises(ConfigError) as err:
        space_for("audio")
    assert err.value.field == "modality"


def test_cli_assignments_are_typed() -> None:
    space = space_for("image")
    parsed = space.parse_assignments(
        ["conv_layers=3", "batch_norm=false", "kernel_size=5", "learning_rate=3e-4"]
    )
    assert parsed == {"conv_layers": 3, "batch_norm": False, "kernel_size": 5,
                      "learning_rate": 3e-4}
    with pytest.raises(ConfigError) as err:
        space.parse_assignments(["conv_layers"])
    assert err.value.field == "params"
    with pytest.raises(ConfigError) as err:
        space.parse_assignments(["kernel_size=7"])
    assert err.value.field == "params.kernel_size"
