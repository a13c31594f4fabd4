from __future__ import annotations

import pytest

from onegin.errors import ConfigErrors
from onegin.job_config import FIELD_CHECKS, OptimizationConfig


def test_defaults_are_a_valid_job() -> None:
    config = OptimizationConfig.from_dict({})
    assert (config.dataset, config.trials, config.concurrency, config.objective) == (
        "digits", 8, 2, "health")
    assert config.space().modality == "image"


def test_round_trip_through_a_dict() -> None:
    data = {"dataset": "sms_spam", "trials": 3, "params": {"lstm_units": {"low": 16, "high": 32}},
            "weights": {"accuracy": 0.5}, "initial_params": [{"lstm_units": 16}],
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


def test_initial_params_are_checked_against_the_narrowed_space() -> None:
    with pytest.raises(ConfigErrors) as err:
        OptimizationConfig.from_dict({"params": {"conv_layers": {"low": 1, "high": 2}},
                                      "initial_params": [{"conv_layers": 2},
                                                         {"conv_layers": 3}, "x",
                                                         {"optimizer": "adagrad"}]})
    assert set(err.value.as_dict()) == {"initial_params[1].params.conv_layers",
                                        "initial_params[2]", "initial_params[3].params.optimizer"}


def test_initial_params_are_stored_whole_and_the_old_name_still_reads() -> None:
    config = OptimizationConfig.from_dict({"initial_trials": [{"conv_layers": 1}]})
    (first,) = config.initial_params
    assert first["conv_layers"] == 1 and first["learning_rate"] > 0  # defaults filled in
    assert "initial_trials" not in config.to_dict()


def test_the_old_and_the_new_name_together_are_refused_not_one_dropped() -> None:
    # the fuzzer found {"initial_params": [0.0], "initial_trials": []} accepted: the old
    # name's empty list silently replaced the new name's bad value
    with pytest.raises(ConfigErrors) as err:
        OptimizationConfig.from_dict({"initial_params": [0.0], "initial_trials": []})
    assert "initial_trials" in err.value.as_dict()


def test_new_search_fields_are_validated_by_name() -> None:
    with pytest.raises(ConfigErrors) as err:
        OptimizationConfig.from_dict({"space": "narrow", "warm_start": "yes",
                                      "hopeless_stop": 1, "continue_from": "",
                                      "seed": 2**40, "pruner": "sometimes", "holdout": "yes"})
    assert set(err.value.as_dict()) == {"space", "warm_start", "hopeless_stop",
                                        "continue_from", "seed", "pruner", "holdout"}
    assert "must be true or false" in err.value.as_dict()["holdout"]


def test_holdout_is_off_unless_asked_and_the_api_document_says_what_it_is() -> None:
    assert not OptimizationConfig.from_dict({}).holdout
    config = OptimizationConfig.from_dict({"holdout": True})
    assert config.holdout and config.to_dict()["holdout"] is True
    assert "never used by the search" in FIELD_CHECKS["holdout"].schema["description"]


def test_a_job_without_a_seed_gets_a_fresh_one_that_is_kept() -> None:
    seeds = {OptimizationConfig.from_dict({}).seed for _ in range(5)}
    assert len(seeds) > 1  # five draws from 2**31 values
    config = OptimizationConfig.from_dict({})
    assert OptimizationConfig.from_dict(config.to_dict()).seed == config.seed
    assert OptimizationConfig.from_dict({"seed": 7}).seed == 7


def test_the_space_is_named_in_requests_and_records() -> None:
    config = OptimizationConfig.from_dict({"space": "wide", "pruner": "successive_halving"})
    assert config.space_name == "wide" and config.to_dict()["space"] == "wide"
    assert "tanh" in config.space()["activation"].describe()["choices"]
    assert OptimizationConfig.from_dict(config.to_dict()) == config


def test_unknown_dataset_skips_space_checks() -> None:
    with pytest.raises(ConfigErrors) as err:
        OptimizationConfig.from_dict({"dataset": "nope", "params": {"lstm_units": 8}})
    assert set(err.value.as_dict()) == {"dataset"}


def test_a_pareto_job_has_no_pruner_and_refuses_one_naming_the_field() -> None:
    assert OptimizationConfig.from_dict({"objective": "pareto"}).pruner == "none"
    with pytest.raises(ConfigErrors) as err:
        OptimizationConfig.from_dict({"objective": "pareto", "pruner": "median", "trials": 0})
    reasons = err.value.as_dict()
    assert set(reasons) == {"pruner", "trials"}  # named with the other bad fields at once
    assert "multi-objective" in reasons["pruner"] and "'median'" in reasons["pruner"]
    with pytest.raises(ConfigErrors) as built:  # the Python API's default pruner too
        OptimizationConfig(objective="pareto")
    assert set(built.value.as_dict()) == {"pruner"}
    assert OptimizationConfig(objective="pareto", pruner="none").pruner == "none"
