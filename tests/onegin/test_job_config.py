from __future__ import annotations

import pytest

from onegin.errors import ConfigErrors
from onegin.job_config import OptimizationConfig


def test_defaults_are_a_valid_job() -> None:
    config = OptimizationConfig.from_dict({})
    assert (config.dataset, config.trials, config.concurrency, config.objective) == (
        "digits", 8, 2, "health")
    assert config.space().modality == "image"


def test_round_trip_through_a_dict() -> None:
    data = {"dataset": "sms_spam", "trials": 3, "params": {"lstm_units": {"low": 16, "high": 32}},
            "weights": {"accuracy": 0.5}, "initial_trials": [{"lstm_units": 16}],
            "time_limit": 60}
    config = OptimizationConfig.from_dict(data)
    again = OptimizationConfig.from_dict(config.to_dict())
    assert again == config
    assert config.space()["lstm_units"].describe()["high"] == 32


def test_every_bad_field_is_named_at_once() -> None:
    with pytest.raises(ConfigErrors) as err:
        OptimizationConfig.from_dict({
            "dataset": "digits", "trials": 0, "concurrency": True, "epochs": 5000,
            "objective": "beauty", "pruner": "sometimes", "plot_mode": "some",
            "time_limit": -1, "max_train_samples": 0, "weights": {"accuracy": 2},
            "params": {"conv_layers": 9}, "extra": 1,
        })
    assert set(err.value.as_dict()) == {
        "trials", "concurrency", "epochs", "objective", "pruner", "plot_mode", "time_limit",
        "max_train_samples", "weights.accuracy", "params.conv_layers", "extra",
    }


def test_initial_trials_are_checked_against_the_narrowed_space() -> None:
    with pytest.raises(ConfigErrors) as err:
        OptimizationConfig.from_dict({"params": {"conv_layers": {"low": 1, "high": 2}},
                                      "initial_trials": [{"conv_layers": 2},
                                                         {"conv_layers": 3}, "x"]})
    assert set(err.value.as_dict()) == {"initial_trials[1].params.conv_layers",
                                        "initial_trials[2]"}


def test_unknown_dataset_skips_space_checks() -> None:
    with pytest.raises(ConfigErrors) as err:
        OptimizationConfig.from_dict({"dataset": "nope", "params": {"lstm_units": 8}})
    assert set(err.value.as_dict()) == {"dataset"}
