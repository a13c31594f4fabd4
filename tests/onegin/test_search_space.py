from __future__ import annotations

import random
from typing import Any

import pytest

from onegin.datasets import DATASETS, facts_for
from onegin.errors import ConfigError, ConfigErrors
from onegin.search_space import (
    LEARNING_RATE_RANGES,
    MAX_MACS,
    MAX_PARAMS,
    SPACE_NAMES,
    ConditionalFloatParam,
    DataFacts,
    IntParam,
    estimate_cost,
    largest_cost,
    space_for,
)


class RecordingTrial:
    """An Optuna-shaped trial that answers from a seeded RNG and records each call."""

    def __init__(self, seed: int = 1) -> None:
        self.rng = random.Random(seed)
        self.calls: list[tuple[str, str]] = []
        self.params: dict[str, Any] = {}  # what Optuna would store: suggested names only

    def _keep(self, kind: str, name: str, value: Any) -> Any:
        self.calls.append((kind, name))
        self.params[name] = value
        return value

    def suggest_int(self, name: str, low: int, high: int, *, log: bool = False) -> int:
        return self._keep("int", name, self.rng.randint(low, high))

    def suggest_float(self, name: str, low: float, high: float, *, log: bool = False) -> float:
        return self._keep("float", name, self.rng.uniform(low, high))

    def suggest_categorical(self, name: str, choices: list) -> object:
        return self._keep("categorical", name, self.rng.choice(choices))


# The space as it was before the default space existed: `wide` must reproduce it.
TODAY: dict[str, dict[str, dict[str, Any]]] = {
    "image": {
        "conv_layers": {"type": "int", "low": 1, "high": 4, "log": False, "default": 2},
        "filters": {"type": "int", "low": 16, "high": 256, "log": True, "default": 32},
        "kernel_size": {"type": "categorical", "choices": [3, 5], "default": 3},
        "activation": {"type": "categorical", "default": "relu",
                       "choices": ["relu", "leaky_relu", "elu", "swish", "tanh"]},
        "batch_norm": {"type": "categorical", "choices": [True, False], "default": True},
        "pooling": {"type": "categorical", "choices": ["global", "flatten"], "default": "flatten"},
        "dense_layers": {"type": "int", "low": 0, "high": 4, "log": False, "default": 1},
        "dense_units": {"type": "int", "low": 64, "high": 1024, "log": True, "default": 128},
    },
    "text": {
        "embedding_dim": {"type": "int", "low": 16, "high": 256, "log": True, "default": 64},
        "lstm_units": {"type": "int", "low": 16, "high": 256, "log": True, "default": 64},
        "lstm_layers": {"type": "int", "low": 1, "high": 3, "log": False, "default": 1},
        "bidirectional": {"type": "categorical", "choices": [True, False], "default": False},
        "recurrent_dropout": {"type": "float", "low": 0.0, "high": 0.5, "log": False,
                              "default": 0.0},
        "dense_layers": {"type": "int", "low": 0, "high": 2, "log": False, "default": 1},
        "dense_units": {"type": "int", "low": 32, "high": 512, "log": True, "default": 64},
    },
}
TODAY_SHARED = {
    "dropout": {"type": "float", "low": 0.0, "high": 0.5, "log": False, "default": 0.2},
    "optimizer": {"type": "categorical", "choices": ["adam", "rmsprop", "sgd"],
                  "default": "adam"},
    "learning_rate": {"type": "float", "low": 1e-5, "high": 1e-1, "log": True,
                      "default": 1e-3},
    "batch_size": {"type": "categorical", "choices": [32, 64, 128, 256], "default": 64},
}

TRAINING_PARAMS = ("lr_schedule", "lr_warmup", "lr_decay_rate", "lr_step_epochs",
                   "lr_plateau_patience", "early_stopping", "early_stopping_patience")

FACTS = {
    "digits": DataFacts((8, 8, 1), 1078),
    "mnist": DataFacts((28, 28, 1), 42_000),
    "cifar10": DataFacts((32, 32, 3), 36_000),
    "imdb": DataFacts((200,), 30_000, 2),
    "sms_spam": DataFacts((64,), 3_344, 2),
}


def _searched(description: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in description.items() if k not in ("bounds", "allowed")}


@pytest.mark.parametrize("modality", ["image", "text"])
def test_wide_space_is_todays_space(modality: str) -> None:
    space = space_for(modality, name="wide")
    described = {name: _searched(d) for name, d in space.describe().items()}
    expected = {**TODAY[modality], **TODAY_SHARED}
    if modality == "image":  # today's builder capped the doubling at 256: now a fixed param
        expected["max_filters"] = {"type": "int", "low": 256, "high": 256, "log": False,
                                   "default": 256}
    # the schedule and early stopping: opt-in, as in the default space, so never asked
    default = space_for(modality).describe()
    expected |= {name: _searched(default[name]) for name in TRAINING_PARAMS}
    assert described == expected
    trial = RecordingTrial()
    space.suggest(trial)
    asked = {name for _, name in trial.calls}
    assert asked == set(TODAY[modality]) | set(TODAY_SHARED)  # what TPE sees is unchanged


def test_default_image_space_has_a_practitioners_priors() -> None:
    space = space_for("image").describe()
    assert (space["conv_layers"]["low"], space["conv_layers"]["high"]) == (1, 3)
    assert (space["filters"]["low"], space["filters"]["high"]) == (16, 64)
    assert space["max_filters"]["default"] == 128
    assert space["kernel_size"]["choices"] == [3] and space["kernel_size"]["allowed"] == [3, 5]
    assert space["activation"]["choices"] == ["relu", "elu", "swish", "leaky_relu"]
    assert "tanh" in space["activation"]["allowed"]
    assert (space["dense_layers"]["low"], space["dense_layers"]["high"]) == (0, 2)
    assert space["optimizer"]["choices"] == ["adam", "adamw", "sgd", "rmsprop"]
    assert "sgd_plain" in space["optimizer"]["allowed"]
    assert space["learning_rate"]["type"] == "conditional_float"
    assert space["learning_rate"]["ranges"]["sgd"] == [1e-2, 1.5e-1]
    assert space["batch_size"]["choices"] == [32, 64, 128]
    assert 256 in space["batch_size"]["allowed"]
    assert (space["dropout"]["low"], space["dropout"]["high"]) == (0.0, 0.4)


def test_default_text_space() -> None:
    space = space_for("text").describe()
    assert (space["embedding_dim"]["low"], space["embedding_dim"]["high"]) == (32, 128)
    assert (space["lstm_units"]["low"], space["lstm_units"]["high"]) == (32, 128)
    assert (space["lstm_layers"]["low"], space["lstm_layers"]["high"]) == (1, 2)
    assert space["bidirectional"]["choices"] == [True, False]
    assert (space["dense_layers"]["low"], space["dense_layers"]["high"]) == (0, 1)
    assert (space["recurrent_dropout"]["low"], space["recurrent_dropout"]["high"]) == (0, 0)
    assert space["recurrent_dropout"]["bounds"] == [0.0, 0.5]


def test_unknown_space_name() -> None:
    with pytest.raises(ConfigError) as err:
        space_for("image", name="narrow")
    assert err.value.field == "space"
    assert SPACE_NAMES == ("default", "wide")


@pytest.mark.parametrize("name", SPACE_NAMES)
def test_defaults_are_inside_their_ranges(name: str) -> None:
    for modality in ("image", "text"):
        space = space_for(modality, name=name)
        assert space.resolve() == space.defaults()
        assert space.check(space.defaults()) == space.defaults()


@pytest.mark.parametrize("name", SPACE_NAMES)
def test_fixing_and_narrowing(name: str) -> None:
    space = space_for("image", {
        "conv_layers": {"low": 2, "high": 3},
        "activation": {"choices": ["elu", "tanh"]},
        "learning_rate": 0.01,
        "batch_norm": False,
    }, name=name)
    rng = random.Random(0)
    for _ in range(50):
        sample = space.sample(rng)
        assert 2 <= sample["conv_layers"] <= 3
        assert sample["activation"] in ("elu", "tanh")
        assert sample["learning_rate"] == 0.01
        assert sample["batch_norm"] is False


def test_default_space_can_fix_what_it_does_not_search() -> None:
    space = space_for("image", {"activation": "tanh", "optimizer": "sgd_plain",
                                "kernel_size": 5, "batch_size": 256})
    trial = RecordingTrial()
    config = space.suggest(trial)
    asked = {name for _, name in trial.calls}
    assert not asked & {"activation", "optimizer", "kernel_size", "batch_size", "learning_rate"}
    assert ("float", "learning_rate_sgd_plain") in trial.calls
    assert config["activation"] == "tanh" and config["optimizer"] == "sgd_plain"
    low, high = LEARNING_RATE_RANGES["sgd_plain"]
    assert low <= config["learning_rate"] <= high
    assert (config["kernel_size"], config["batch_size"]) == (5, 256)


def test_fixed_parameters_are_not_asked_of_the_trial() -> None:
    space = space_for("image", {"learning_rate": 0.01, "optimizer": "sgd"})
    trial = RecordingTrial()
    params = space.suggest(trial)
    asked = {name for _, name in trial.calls}
    assert not any(name.startswith("learning_rate") for name in asked)
    assert "optimizer" not in asked
    assert params["learning_rate"] == 0.01 and params["optimizer"] == "sgd"
    assert ("int", "conv_layers") in trial.calls and ("float", "dropout") in trial.calls
    assert space.to_study(params)["learning_rate"] == 0.01  # a fixed rate keeps its name


@pytest.mark.parametrize("seed", range(6))
def test_conditional_learning_rate_is_suggested_per_optimizer(seed: int) -> None:
    trial = RecordingTrial(seed)
    config = space_for("image").suggest(trial)
    optimizer = config["optimizer"]
    assert ("float", f"learning_rate_{optimizer}") in trial.calls
    assert "learning_rate" not in trial.params and "learning_rate" in config
    low, high = LEARNING_RATE_RANGES[optimizer]
    assert low <= config["learning_rate"] <= high


def test_adam_learning_rate_is_asked_as_learning_rate_adam() -> None:
    trial = RecordingTrial()
    space_for("text", {"optimizer": "adam"}).suggest(trial)
    assert ("float", "learning_rate_adam") in trial.calls


@pytest.mark.parametrize("name", SPACE_NAMES)
@pytest.mark.parametrize("modality", ["image", "text"])
def test_study_names_round_trip(name: str, modality: str) -> None:
    space = space_for(modality, name=name)
    for seed in range(10):
        trial = RecordingTrial(seed)
        config = space.suggest(trial)
        assert space.from_study(trial.params) == space.resolve(config)  # what Optuna stored
        study = space.to_study(config)
        assert space.from_study(study) == space.resolve(config)
        if name == "default":
            assert f"learning_rate_{config['optimizer']}" in study
            assert "learning_rate" not in study
        else:
            assert "learning_rate" in study


def test_from_study_rejects_a_rate_for_another_optimizer() -> None:
    with pytest.raises(ConfigError) as err:
        space_for("image").from_study({"optimizer": "adam", "learning_rate_sgd": 0.01})
    assert err.value.field == "params.learning_rate"


def test_narrowing_the_learning_rate_replaces_every_branch() -> None:
    space = space_for("image", {"learning_rate": {"low": 1e-3, "high": 1e-2}})
    param = space["learning_rate"]
    assert isinstance(param, ConditionalFloatParam)
    assert {param.range_for(o) for o in ("adam", "sgd", "rmsprop")} == {(1e-3, 1e-2)}
    rng = random.Random(3)
    for _ in range(40):
        assert 1e-3 <= space.sample(rng)["learning_rate"] <= 1e-2
    assert space.check({"optimizer": "adam", "learning_rate": 8e-3})["learning_rate"] == 8e-3


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"colour": 3}, "params.colour"),
        ({"conv_layers": {"low": 3, "high": 2}}, "params.conv_layers"),
        ({"conv_layers": {"low": 0, "high": 2}}, "params.conv_layers.low"),
        ({"conv_layers": 5}, "params.conv_layers"),
        ({"conv_layers": 2.5}, "params.conv_layers"),
        ({"conv_layers": "two"}, "params.conv_layers"),
        ({"filters": {"high": 512}}, "params.filters.high"),
        ({"batch_norm": 1}, "params.batch_norm"),
        ({"activation": {"choices": []}}, "params.activation"),
        ({"activation": {"choices": ["sigmoid"]}}, "params.activation"),
        ({"activation": "sigmoid"}, "params.activation"),
        ({"optimizer": "nadam"}, "params.optimizer"),
        ({"batch_size": 512}, "params.batch_size"),
        ({"learning_rate": {"low": 0.1, "top": 1}}, "params.learning_rate"),
        ({"learning_rate": float("nan")}, "params.learning_rate"),
        ({"learning_rate": 2.0}, "params.learning_rate"),
        ({"learning_rate": {"high": 5.0}}, "params.learning_rate.high"),
        ({"lr_schedule": "linear"}, "params.lr_schedule"),
        ({"lr_schedule": {"choices": ["cosine", "cyclic"]}}, "params.lr_schedule"),
        ({"lr_warmup": -1}, "params.lr_warmup"),
        ({"lr_schedule": "step", "lr_decay_rate": 1.0}, "params.lr_decay_rate"),
        ({"lr_schedule": "step", "lr_step_epochs": 0}, "params.lr_step_epochs"),
        ({"early_stopping": "yes"}, "params.early_stopping"),
        # a setting of a schedule (or of early stopping) the job never searches
        ({"lr_decay_rate": 0.5}, "params.lr_decay_rate"),
        ({"lr_schedule": "cosine", "lr_plateau_patience": 2}, "params.lr_plateau_patience"),
        ({"early_stopping_patience": 3}, "params.early_stopping_patience"),
    ],
)
def test_invalid_overrides_name_the_parameter(overrides: dict, field: str) -> None:
    with pytest.raises(ConfigErrors) as err:
        space_for("image", overrides)
    assert [e.field for e in err.value.errors] == [field]


def test_every_bad_override_is_named_at_once() -> None:
    with pytest.raises(ConfigErrors) as err:
        space_for("image", {"colour": 3, "conv_layers": "two", "dropout": 10**400,
                            "activation": "relu", "learning_rate": {"high": 5.0}})
    reasons = err.value.as_dict()
    assert set(reasons) == {"params.colour", "params.conv_layers", "params.dropout",
                            "params.learning_rate.high"}
    assert reasons["params.colour"].startswith("unknown parameter for image models")
    assert "is not a number within" in reasons["params.dropout"]


def test_resolve_checks_legal_bounds_and_accepts_either_space() -> None:
    for modality in ("image", "text"):
        wide, default = space_for(modality, name="wide"), space_for(modality)
        rng = random.Random(7)
        for _ in range(30):
            config = wide.sample(rng)
            assert default.resolve(config) == config
            config = default.sample(rng)
            assert wide.resolve(config) == config
    with pytest.raises(ConfigError) as err:
        space_for("image").resolve({"conv_layers": 9})
    assert err.value.field == "params.conv_layers"
    with pytest.raises(ConfigError) as err:
        space_for("image").resolve({"learning_rate": 3.0})
    assert err.value.field == "params.learning_rate"


def test_a_missing_rate_follows_the_optimizer() -> None:
    assert space_for("image").resolve({"optimizer": "sgd"})["learning_rate"] == 3e-2
    assert space_for("image").resolve({})["learning_rate"] == 1e-3


def test_check_holds_values_to_the_search_range() -> None:
    space = space_for("image", {"conv_layers": {"low": 1, "high": 2}})
    assert space.resolve({"conv_layers": 3})["conv_layers"] == 3  # legal
    with pytest.raises(ConfigError) as err:
        space.check({"conv_layers": 3})
    assert err.value.field == "params.conv_layers"
    with pytest.raises(ConfigError) as err:
        space.check({"optimizer": "sgd", "learning_rate": 1e-4})
    assert err.value.field == "params.learning_rate"


def test_lstm_parameter_is_unknown_for_images() -> None:
    with pytest.raises(ConfigErrors, match="unknown parameter for image models"):
        space_for("image", {"lstm_units": 32})


def test_unknown_modality() -> None:
    with pytest.raises(ConfigError) as err:
        space_for("audio")
    assert err.value.field == "modality"


def test_cli_assignments_are_typed() -> None:
    space = space_for("image")
    parsed = space.parse_assignments(
        ["conv_layers=3", "batch_norm=false", "kernel_size=5", "learning_rate=3e-4",
         "activation=tanh"]
    )
    assert parsed == {"conv_layers": 3, "batch_norm": False, "kernel_size": 5,
                      "learning_rate": 3e-4, "activation": "tanh"}
    with pytest.raises(ConfigError) as err:
        space.parse_assignments(["conv_layers"])
    assert err.value.field == "params"
    with pytest.raises(ConfigError) as err:
        space.parse_assignments(["kernel_size=7"])
    assert err.value.field == "params.kernel_size"


# --- sizing ---------------------------------------------------------------------------

def test_registered_datasets_know_their_size() -> None:
    assert {name: spec.samples for name, spec in DATASETS.items()} == {
        "digits": 1797, "mnist": 70_000, "fashion_mnist": 70_000, "cifar10": 60_000,
        "cifar100": 60_000, "gtsrb": 51_839, "imdb": 50_000, "reuters": 11_228,
        "sms_spam": 5_574,
    }


def test_facts_for_a_dataset() -> None:
    assert facts_for("digits") == DataFacts((8, 8, 1), 1078, 10)
    assert facts_for("mnist", max_train_samples=300) == DataFacts((28, 28, 1), 300, 10)
    assert facts_for("digits", max_train_samples=5000).train_samples == 1078
    assert facts_for("imdb").input_shape == (200,)


def _high(space: Any, name: str) -> int:
    param = space[name]
    assert isinstance(param, IntParam)
    return param.high


def test_depth_follows_the_input_and_width_the_data() -> None:
    assert _high(space_for("image", facts=FACTS["digits"]), "conv_layers") == 2
    assert _high(space_for("image", facts=FACTS["mnist"]), "conv_layers") == 3
    assert _high(space_for("image", facts=DataFacts((28, 28, 1), 300)), "dense_units") == 128
    assert _high(space_for("image", facts=FACTS["digits"]), "dense_units") == 256
    # the user may leave the priors, within the legal bounds
    assert _high(space_for("image", {"conv_layers": 4}, facts=FACTS["digits"]),
                 "conv_layers") == 4
    # the wide space is never sized
    assert space_for("image", name="wide", facts=FACTS["digits"]) == space_for("image",
                                                                               name="wide")


@pytest.mark.parametrize("dataset", sorted(FACTS))
def test_largest_model_of_the_default_space_fits_the_budget(dataset: str) -> None:
    facts = FACTS[dataset]
    modality = "image" if len(facts.input_shape) == 3 else "text"
    cost = largest_cost(space_for(modality, facts=facts), facts)
    assert cost.params <= MAX_PARAMS and cost.macs <= MAX_MACS


def test_the_budget_binds_where_it_should() -> None:
    cifar, imdb = FACTS["cifar10"], FACTS["imdb"]
    # without it, one conv layer before a flatten feeds a very wide dense layer
    assert largest_cost(space_for("image"), cifar).params > MAX_PARAMS
    assert largest_cost(space_for("text"), imdb).macs > MAX_MACS
    sized = space_for("image", facts=cifar)
    assert 128 <= _high(sized, "dense_units") < 512 and _high(sized, "filters") == 64
    assert 64 <= _high(space_for("text", facts=imdb), "lstm_units") < 128
    # what the user set is kept; the rest shrinks around it
    heavy = space_for("image", {"conv_layers": 4, "kernel_size": 5, "max_filters": 256},
                      facts=cifar)
    assert heavy["conv_layers"].fixed and _high(heavy, "filters") < 64
    assert largest_cost(heavy, cifar).macs <= MAX_MACS


def test_estimate_cost_counts_by_hand() -> None:
    config = {"conv_layers": 2, "filters": 8, "kernel_size": 3, "batch_norm": False,
              "pooling": "flatten", "dense_layers": 1, "dense_units": 16, "max_filters": 128}
    cost = estimate_cost(config, "image", (8, 8, 1), num_classes=10)
    conv = (9 * 1 * 8 + 8) + (9 * 8 * 16 + 16)
    dense = (2 * 2 * 16) * 16 + 16 + 16 * 10 + 10
    assert cost.params == conv + dense
    assert cost.macs == 8 * 8 * 9 * 8 + 4 * 4 * 9 * 8 * 16 + 64 * 16 + 16 * 10


# --- warm starts ----------------------------------------------------------------------

@pytest.mark.parametrize("name", SPACE_NAMES)
@pytest.mark.parametrize("modality", ["image", "text"])
def test_warm_starts_are_known_good_and_inside_the_space(name: str, modality: str) -> None:
    space = space_for(modality, name=name)
    starts = space.warm_starts()
    assert 1 <= len(starts) <= 3
    for config in starts:
        assert space.check(config) == config
        assert config["optimizer"] in ("adam", "adamw", "rmsprop")
    if modality == "image" and name == "default":
        assert starts[0]["conv_layers"] == 2 and starts[0]["filters"] == 32
        assert starts[0]["learning_rate"] == 1e-3


def test_warm_starts_obey_fixed_and_narrowed_params() -> None:
    space = space_for("image", {"activation": "tanh", "filters": {"low": 48, "high": 64},
                                "optimizer": {"choices": ["sgd"]},
                                "pooling": {"choices": ["global"]}, "dense_units": 100},
                      facts=FACTS["mnist"])
    starts = space.warm_starts()
    assert starts
    for config in starts:
        assert config["activation"] == "tanh" and config["filters"] == 48
        assert config["optimizer"] == "sgd" and config["pooling"] == "global"
        assert config["dense_units"] == 100
        low, high = LEARNING_RATE_RANGES["sgd"]
        assert low <= config["learning_rate"] <= high
        assert space.check(config) == config


def test_warm_starts_are_deduplicated() -> None:
    fixed = {"conv_layers": 2, "filters": 32, "pooling": "flatten", "dropout": 0.25,
             "optimizer": "adam", "learning_rate": 1e-3, "batch_size": 64, "dense_units": 128,
             "dense_layers": 1}
    assert len(space_for("image", fixed).warm_starts()) == 1


ALL_SCHEDULES = {"lr_schedule": {"choices": ["constant", "cosine", "exponential", "step",
                                             "plateau"]},
                 "early_stopping": {"choices": [False, True]}}


def test_schedules_and_early_stopping_are_opt_in() -> None:
    config = space_for("image").defaults()
    assert (config["lr_schedule"], config["lr_warmup"], config["early_stopping"]) == (
        "constant", 0.0, False)
    assert "lr_decay_rate" not in config and "early_stopping_patience" not in config
    trial = RecordingTrial()
    space_for("text").suggest(trial)
    assert not {name for _, name in trial.calls if name.startswith(("lr_", "early"))}


@pytest.mark.parametrize("seed", range(8))
def test_a_schedules_own_settings_are_asked_only_under_it(seed: int) -> None:
    """Optuna's pattern for conditional spaces, as for the learning rate: a decay rate and
    a warm-up per schedule (``lr_warmup_cosine``…), a schedule's own setting only under it;
    the configuration carries plain names and only what applies."""
    space = space_for("image", ALL_SCHEDULES)
    trial = RecordingTrial(seed)
    config = space.suggest(trial)
    schedule = config["lr_schedule"]
    asked = {name for _, name in trial.calls}
    assert ("lr_warmup_" + schedule in asked) == (schedule != "constant")  # fixed at 0 there
    assert ("lr_decay_rate_" + schedule in asked) == (schedule in ("exponential", "step",
                                                                     "plateau"))
    assert ("lr_step_epochs" in asked) == (schedule == "step")
    assert ("lr_plateau_patience" in asked) == (schedule == "plateau")
    assert ("early_stopping_patience" in asked) == config["early_stopping"]
    assert not asked & {"lr_warmup", "lr_decay_rate"}
    own = {"exponential": {"lr_decay_rate"}, "step": {"lr_decay_rate", "lr_step_epochs"},
           "plateau": {"lr_decay_rate", "lr_plateau_patience"}}.get(schedule, set())
    assert {k for k in config if k.startswith("lr_")} == {"lr_schedule", "lr_warmup", *own}
    assert space.from_study(trial.params) == space.resolve(config)
    assert space.from_study(space.to_study(config)) == space.resolve(config)


def test_schedule_settings_fix_and_narrow_like_any_other() -> None:
    space = space_for("image", {"lr_schedule": {"choices": ["step", "plateau"]},
                                "lr_decay_rate": {"low": 0.3, "high": 0.4},
                                "lr_warmup": 0.25, "early_stopping": True,
                                "early_stopping_patience": {"low": 2, "high": 4}})
    rng = random.Random(5)
    for _ in range(20):
        config = space.sample(rng)
        assert config["lr_schedule"] in ("step", "plateau") and config["lr_warmup"] == 0.25
        assert 0.3 <= config["lr_decay_rate"] <= 0.4  # the window is each schedule's
        assert config["early_stopping"] and 2 <= config["early_stopping_patience"] <= 4
    fixed = space_for("image", {"lr_schedule": "step", "lr_decay_rate": 0.3})
    assert fixed.defaults()["lr_decay_rate"] == 0.3
    assert "lr_decay_rate" not in space_for("image", {"lr_schedule": {"choices": [
        "constant", "step"]}, "lr_decay_rate": 0.3}).resolve({"lr_schedule": "constant"})


def test_a_setting_that_does_not_apply_is_refused_naming_what_it_needs() -> None:
    with pytest.raises(ConfigError) as err:
        space_for("image").resolve({"lr_schedule": "cosine", "lr_decay_rate": 0.5})
    assert err.value.field == "params.lr_decay_rate"
    assert err.value.reason == ("applies only when lr_schedule is one of "
                                "['exponential', 'step', 'plateau']; it is 'cosine'")
    with pytest.raises(ConfigError) as err:
        space_for("image", ALL_SCHEDULES).check({"early_stopping_patience": 2})
    assert err.value.field == "params.early_stopping_patience"
