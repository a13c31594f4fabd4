"""A comparison's request: every bad field named, and the runs it makes from a good one."""

from __future__ import annotations

import pytest

from onegin.compare_config import ARMS, DEFAULT_TRIALS, CompareConfig
from onegin.errors import ConfigErrors
from onegin.job_config import OptimizationConfig
from onegin.trial_message import TrialSpec


def test_defaults_are_three_seeds_of_twelve_trials_per_arm_and_two_retrains() -> None:
    config = CompareConfig.from_dict({"dataset": "digits", "seed": 7})
    assert (config.base.trials, config.seeds, config.retrain_seeds) == (DEFAULT_TRIALS, 3, 2)
    assert config.run_seeds[0] == 7 and len(set(config.run_seeds)) == 3


def test_every_bad_field_is_named_at_once() -> None:
    with pytest.raises(ConfigErrors) as caught:
        CompareConfig.from_dict({
            "trials": 0, "seeds": 0, "retrain_seeds": -1, "epochs": "two", "objective": "simple",
            "params": {"kernel_size": 7}, "weights": {"accuracy": 2}, "seed": -3,
            "name": "a\x00b"})
    named = caught.value.as_dict()
    assert set(named) == {"trials", "seeds", "retrain_seeds", "epochs", "objective",
                          "params.kernel_size", "weights.accuracy", "seed", "name"}
    assert named["objective"] == "unknown field"  # the arms set it, the caller cannot
    assert "between 1 and 10" in named["seeds"]


def test_a_body_that_is_not_a_mapping_is_named() -> None:
    with pytest.raises(ConfigErrors) as caught:
        CompareConfig.from_dict([1, 2])  # type: ignore[arg-type]
    assert caught.value.as_dict() == {"body": "must be a JSON object"}


def test_it_reads_back_what_it_stores() -> None:
    config = CompareConfig.from_dict({"dataset": "digits", "trials": 4, "seeds": 2, "seed": 11,
                                      "epochs": 1, "params": {"conv_layers": 1},
                                      "weights": {"accuracy": 0.6}, "name": "mine"})
    assert CompareConfig.from_dict(config.to_dict()) == config


def test_both_arms_of_a_seed_search_the_same_split_with_the_holdout_scored() -> None:
    config = CompareConfig.from_dict({"trials": 4, "seeds": 2, "seed": 5,
                                      "weights": {"accuracy": 0.6}})
    for seed in config.run_seeds:
        runs = {arm: config.run(arm, seed, "c1") for arm in ARMS}
        assert {arm: run.objective for arm, run in runs.items()} == ARMS
        assert {run.seed for run in runs.values()} == {seed}
        assert all(run.holdout and run.trials == 4 for run in runs.values())
        assert runs["health"].weights.accuracy == 0.6
        # a run is an ordinary job: it validates as one
        assert OptimizationConfig.from_dict(runs["health"].to_dict()) == runs["health"]


def test_a_retrain_trains_one_configuration_on_the_runs_split_with_new_seeds() -> None:
    config = CompareConfig.from_dict({"trials": 5, "seed": 100, "retrain_seeds": 2})
    seed = config.run_seeds[1]
    search = config.run("health", seed, "c1")
    params = search.space().resolve({"filters": 32})
    retrain = config.retrain("health", seed, params, "c1")
    assert (retrain.trials, retrain.data_seed, retrain.objective) == (2, seed, "health")
    assert list(retrain.initial_params) == [params, params]
    assert (retrain.warm_start, retrain.pruner, retrain.hopeless_stop) == (False, "none", False)
    specs = [TrialSpec.for_trial(retrain, n, params, plot_threshold=None, data_dir=None)
             for n in range(2)]
    searched = {TrialSpec.for_trial(search, n, params, plot_threshold=None, data_dir=None).seed
                for n in range(5)}
    assert {s.data_seed for s in specs} == {seed}  # the split the configuration was found on
    assert len({s.seed for s in specs}) == 2 and not {s.seed for s in specs} & searched


def test_a_job_splits_by_its_seed_unless_given_a_data_seed() -> None:
    plain = OptimizationConfig.from_dict({"seed": 9})
    assert TrialSpec.for_trial(plain, 3, {}, plot_threshold=None, data_dir=None).data_seed == 9
    with pytest.raises(ConfigErrors) as caught:
        OptimizationConfig.from_dict({"data_seed": -1, "holdout": "yes"})
    assert set(caught.value.as_dict()) == {"data_seed", "holdout"}
