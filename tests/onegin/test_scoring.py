from __future__ import annotations

import math

import pytest

from onegin.errors import ConfigError, ConfigErrors
from onegin.scoring import (
    DEFAULT_HEALTH_WEIGHTS,
    HEALTH_COMPONENTS,
    ScoringWeights,
    describe_formula,
    health_score,
    pareto_values,
    total_score,
    validate_objective,
)

ALL_HALF = dict.fromkeys(HEALTH_COMPONENTS, 0.5)


def test_default_weights_match_the_design_and_sum_to_one() -> None:
    weights = ScoringWeights()
    assert weights.accuracy == 0.70
    assert dict(weights.health) == {
        "neuron_utilization": 0.25, "parameter_efficiency": 0.15, "training_stability": 0.20,
        "gradient_health": 0.15, "convergence_quality": 0.15, "accuracy_consistency": 0.10,
    }
    assert math.isclose(sum(weights.health.values()), 1.0)


def test_simple_objective_is_validation_accuracy() -> None:
    assert total_score("simple", 0.83, None, ScoringWeights()) == 0.83


def test_health_objective_blends_accuracy_and_weighted_health() -> None:
    components = dict.fromkeys(HEALTH_COMPONENTS, 0.0) | {"neuron_utilization": 1.0}
    weights = ScoringWeights()
    assert math.isclose(health_score(components, weights), 0.25)
    assert math.isclose(total_score("health", 0.9, components, weights), 0.7 * 0.9 + 0.3 * 0.25)


def test_custom_weights_change_the_score() -> None:
    weights = ScoringWeights.from_mapping(
        {"accuracy": 0.5, "health": dict.fromkeys(HEALTH_COMPONENTS, 1 / 6)}
    )
    assert math.isclose(total_score("health", 1.0, ALL_HALF, weights), 0.75)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"accuracy": 1.5}, "weights.accuracy"),
        ({"accuracy": -0.1}, "weights.accuracy"),
        ({"accuracy": "high"}, "weights.accuracy"),
        ({"health": dict(DEFAULT_HEALTH_WEIGHTS) | {"gradient_health": 0.5}}, "weights.health"),
        ({"health": dict(DEFAULT_HEALTH_WEIGHTS) | {"gradient_health": -0.15,
                                                     "neuron_utilization": 0.55}},
         "weights.health.gradient_health"),
        ({"health": {k: v for k, v in DEFAULT_HEALTH_WEIGHTS.items() if k != "gradient_health"}},
         "weights.health.gradient_health"),
        ({"health": dict(DEFAULT_HEALTH_WEIGHTS) | {"beauty": 0.0}}, "weights.health.beauty"),
        ({"colour": 1}, "weights.colour"),
    ],
)
def test_bad_weights_are_rejected_naming_the_field(data: dict, field: str) -> None:
    with pytest.raises(ConfigErrors) as err:
        ScoringWeights.from_mapping(data)
    assert [e.field for e in err.value.errors] == [field]


@pytest.mark.parametrize(("data", "reason"), [
    (True, "must be a mapping with accuracy and/or health, got True"),
    (5, "must be a mapping with accuracy and/or health, got 5"),
    ("0.5", "must be a mapping with accuracy and/or health, got '0.5'"),
    ([0.5], "must be a mapping with accuracy and/or health, got [0.5]"),
])
def test_weights_that_are_no_mapping_name_the_field(data: object, reason: str) -> None:
    with pytest.raises(ConfigErrors) as err:
        ScoringWeights.from_mapping(data)
    assert err.value.as_dict() == {"weights": reason}


def test_every_bad_weight_is_named_at_once() -> None:
    health = dict(DEFAULT_HEALTH_WEIGHTS) | {"gradient_health": True, "training_stability": 10**400,
                                             "beauty": 0.1, 7: 0.1}
    del health["neuron_utilization"]
    with pytest.raises(ConfigErrors) as err:
        ScoringWeights.from_mapping({"accuracy": float("nan"), "health": health, "colour": 1})
    reasons = err.value.as_dict()
    assert set(reasons) == {"weights.colour", "weights.accuracy", "weights.health.beauty",
                            "weights.health.7", "weights.health.neuron_utilization",
                            "weights.health.gradient_health", "weights.health.training_stability"}
    assert reasons["weights.health.gradient_health"] == "must be a number, got True"
    assert reasons["weights.health.training_stability"].startswith("must be between 0 and 1")
    assert reasons["weights.health.neuron_utilization"] == "is missing"


def test_all_zero_health_weights_do_not_sum_to_one() -> None:
    with pytest.raises(ConfigErrors) as err:
        ScoringWeights.from_mapping({"health": dict.fromkeys(HEALTH_COMPONENTS, 0)})
    assert err.value.as_dict() == {"weights.health": "must sum to 1, got 0"}


def test_weights_are_frozen() -> None:
    weights = ScoringWeights()
    with pytest.raises(TypeError):
        weights.health["gradient_health"] = 1.0  # type: ignore[index]


def test_unknown_objective_is_rejected() -> None:
    with pytest.raises(ConfigError) as err:
        validate_objective("beauty")
    assert err.value.field == "objective"


def test_health_score_needs_every_component() -> None:
    with pytest.raises(ValueError, match="gradient_health"):
        health_score({k: 1.0 for k in HEALTH_COMPONENTS if k != "gradient_health"},
                     ScoringWeights())


def test_formula_shows_the_live_weights() -> None:
    text = describe_formula(ScoringWeights())
    assert text.startswith("0.70·accuracy + 0.30·(0.25·neuron_utilization")


def test_pareto_searches_accuracy_and_health_and_totals_them_as_health_does() -> None:
    components = dict.fromkeys(HEALTH_COMPONENTS, 0.0) | {"neuron_utilization": 1.0}
    weights = ScoringWeights()
    assert validate_objective("pareto") == "pareto"
    assert pareto_values(0.9, components, weights) == (0.9, health_score(components, weights))
    assert total_score("pareto", 0.9, components, weights) == \
        total_score("health", 0.9, components, weights)
    with pytest.raises(ValueError, match="pareto objective needs health"):
        pareto_values(0.9, None, weights)
