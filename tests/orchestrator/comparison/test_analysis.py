"""The comparison's statistics on constructed summaries whose answer is known."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from orchestrator.comparison.analysis import analyse, kendall, paired_difference
from orchestrator.comparison.learner import carrier
from orchestrator.comparison.metrics import BASE_METRICS, ECE
from orchestrator.comparison.results import Correlation, Difference
from orchestrator.comparison.summary import parse_summary
from tests.orchestrator.comparison.summaries import COMPONENTS, example, holdout, summary, trial

ECE_METRIC = next(m for m in BASE_METRICS if m.key == "ece")


def _difference(result, key):
    return next(d for d in result.differences if d.metric == key)


def test_a_difference_whose_interval_excludes_zero_yields_a_verdict() -> None:
    # 8 seeds: the health arm's ECE is 0.03 to 0.05 lower on every one
    lower = [0.04, 0.03, 0.05, 0.045, 0.035, 0.04, 0.05, 0.03]
    result = analyse(parse_summary(summary([holdout(ece=0.10) for _ in lower],
                                           [holdout(ece=0.10 - d) for d in lower])))
    ece = _difference(result, "ece")
    assert ece.established and ece.high is not None and ece.high < 0
    assert ece.p_value is not None and ece.p_value < 0.05
    assert ece.mean == pytest.approx(-0.04)
    (sentence,) = result.verdicts
    assert sentence.startswith("The health-aware search's best models were better calibrated: "
                               "ECE 0.040 lower (95 % CI 0.03")
    # every other metric is identical in both arms: no verdict for them
    assert [d.metric for d in result.differences if d.established] == ["ece"]


def test_a_difference_that_straddles_zero_yields_no_verdict() -> None:
    shifts = [0.03, -0.02, 0.01, -0.04, 0.02, -0.01, 0.04, -0.03]
    result = analyse(parse_summary(summary([holdout(accuracy=0.9) for _ in shifts],
                                           [holdout(accuracy=0.9 + s) for s in shifts])))
    accuracy = _difference(result, "accuracy")
    assert accuracy.low is not None and accuracy.high is not None
    assert accuracy.low < 0 < accuracy.high
    assert not accuracy.established and result.verdicts == []
    note = next(n for n in result.learner if n.metric == "accuracy")
    assert note.finding.startswith("Not established: health − accuracy = ")
    assert "in accuracy, the mean over 8 seeds (95 % CI -0.0" in note.finding
    assert note.carried_by is None


def test_three_seeds_of_one_sign_are_no_verdict_and_say_why() -> None:
    # the bootstrap interval excludes 0, but 3 seeds can never give p < 0.05
    d = paired_difference("ece", [1, 2, 3], [0.10, 0.11, 0.09], [0.06, 0.07, 0.05])
    assert d.low is not None and d.high is not None and d.high < 0
    assert d.p_value == pytest.approx(0.25)
    assert not d.established
    assert "at least 6 seeds" in d.note


def test_one_seed_gives_no_interval_and_no_verdict() -> None:
    result = analyse(parse_summary(summary([holdout(ece=0.10)], [holdout(ece=0.02)])))
    ece = _difference(result, "ece")
    assert (ece.n, ece.low, ece.high, ece.p_value, ece.established) == (1, None, None, None,
                                                                        False)
    assert ece.mean == pytest.approx(-0.08)
    assert "one seed" in ece.note and result.verdicts == []


def test_a_seed_without_a_scored_best_model_drops_out_of_the_pairing() -> None:
    data = summary([holdout(), holdout(), holdout()], [holdout(), holdout(), holdout()])
    data["arms"]["health"]["runs"][1]["best_trial"] = None
    d = _difference(analyse(parse_summary(data)), "accuracy")
    assert (d.n, d.seeds) == (2, [1, 3])


def test_kendall_on_monotone_data_is_plus_or_minus_one() -> None:
    x = [0.1, 0.2, 0.3, 0.4, 0.5]
    rising = kendall("gradient_health", ECE, x, [1, 2, 3, 4, 5])
    falling = kendall("gradient_health", ECE, x, [5, 4, 3, 2, 1])
    assert rising.tau == pytest.approx(1.0) and falling.tau == pytest.approx(-1.0)
    assert rising.n == 5 and rising.p_value is not None and rising.p_value < 0.05


def test_kendall_is_undefined_for_a_constant_column() -> None:
    c = kendall("neuron_utilization", ECE, [1.0, 1.0, 1.0], [0.1, 0.2, 0.3])
    assert (c.tau, c.p_value, c.undefined) == (None, None, "neuron_utilization is constant")
    assert kendall("x", ECE, [0.5], [0.1]).undefined == "fewer than 2 trials"


def test_correlations_run_over_all_completed_trials_of_both_arms() -> None:
    # extra trials: training_stability rises with holdout ECE, neuron_utilization is constant
    extra = [trial(n, holdout(ece=0.02 * n), health={**dict.fromkeys(COMPONENTS, 0.7),
                                                     "training_stability": 0.1 * n})
             for n in range(1, 6)]
    extra.append(trial(6, None, status="pruned"))  # no holdout: left out
    result = analyse(parse_summary(summary([holdout(ece=0.3)] * 2, [holdout(ece=0.3)] * 2,
                                           extra)))
    cells = {(c.component, c.column): c for c in result.correlations}
    stability = cells["training_stability", ECE]
    assert stability.n == 2 * 2 * 6  # 2 arms × 2 seeds × (best + 5 extra)
    assert stability.tau is not None and stability.tau > 0.9
    assert cells["neuron_utilization", ECE].tau is not None  # 0.8 on the best, 0.7 elsewhere
    assert cells["neuron_utilization", "robustness_mean"].undefined == (
        "robustness_mean is constant")
    assert any(line.startswith("training_stability: rises with holdout ECE")
               for line in result.correlation_findings)


def _correlation(component: str, tau: float, p: float = 0.001) -> Correlation:
    return Correlation(component, ECE, 40, tau, p, None)


def _lower_ece() -> Difference:
    return Difference("ece", 8, list(range(8)), [-0.04] * 8, 0.1, 0.06, -0.04, -0.05, -0.03,
                      0.008, True, "")


def test_the_carrier_is_the_largest_weight_times_tau_that_points_the_right_way() -> None:
    weights = {"neuron_utilization": 0.25, "training_stability": 0.20, "gradient_health": 0.15,
               "convergence_quality": 0.15}
    correlations = [
        _correlation("neuron_utilization", +0.6),  # wrong way: more of it, higher ECE
        _correlation("training_stability", -0.3),  # 0.20 × 0.3 = 0.06
        _correlation("gradient_health", -0.5),  # 0.15 × 0.5 = 0.075: the carrier
        _correlation("convergence_quality", -0.9, p=0.2),  # not significant
        _correlation("total_health", -0.95),  # not a component
    ]
    component, reason = carrier(ECE_METRIC, _lower_ece(), correlations, weights)
    assert component == "gradient_health"
    assert "0.15 × 0.50" in reason


def test_no_component_carries_a_difference_nothing_tracks() -> None:
    component, reason = carrier(ECE_METRIC, _lower_ece(), [_correlation("gradient_health", 0.5)],
                                {"gradient_health": 0.15})
    assert component is None and reason.startswith("No health component tracks holdout ECE")


def test_the_example_summary_analyses_to_plain_json() -> None:
    result = analyse(parse_summary(example()))
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert data["dataset"] == "digits" and len(data["best"]["health"]) == 3
    keys = {d["metric"] for d in data["differences"]}
    assert {"accuracy", "worst_class_accuracy", "ece", "brier", "robustness_mean", "param_count",
            "latency_ms_per_256", "robustness.gaussian_noise", "robustness.blur",
            "robustness.occlusion"} == keys
    assert all(r["spread"] is not None for r in data["retrain"].values())
    assert len(data["correlations"]) == 7 * 3


def test_a_worse_health_arm_is_said_so_with_the_interval_as_magnitudes() -> None:
    drops = [0.03, 0.02, 0.04, 0.03, 0.025, 0.035]
    result = analyse(parse_summary(summary([holdout(accuracy=0.95) for _ in drops],
                                           [holdout(accuracy=0.95 - d) for d in drops])))
    accuracy = _difference(result, "accuracy")
    assert accuracy.established and accuracy.low is not None and accuracy.high is not None
    sentence, weakest = result.verdicts  # holdout() moves the worst class with accuracy
    assert weakest.startswith("The health-aware search's best models did worse on their "
                              "weakest class: worst-class accuracy 0.030 lower")
    assert sentence == (f"The health-aware search's best models were less accurate on the "
                        f"holdout: accuracy 0.030 lower (95 % CI {-accuracy.high:.3f}–"
                        f"{-accuracy.low:.3f}).")


def test_smaller_health_models_are_carried_by_parameter_efficiency_by_definition() -> None:
    size = next(m for m in BASE_METRICS if m.key == "param_count")
    smaller = Difference("param_count", 6, list(range(6)), [-9000.0] * 6, 5e4, 4.1e4, -9000.0,
                         -9000.0, -9000.0, 0.03, True, "")
    component, reason = carrier(size, smaller, [], {"parameter_efficiency": 0.15})
    assert component == "parameter_efficiency" and "weight 0.15" in reason
    larger = replace(smaller, per_seed=[9000.0] * 6, mean=9000.0, low=9000.0, high=9000.0)
    assert carrier(size, larger, [], {"parameter_efficiency": 0.15})[0] is None


def test_text_summaries_get_their_own_corruptions() -> None:
    text = holdout(robustness={"token_dropout": [0.8, 0.7, 0.6], "char_typos": [0.85, 0.8, 0.7]})
    data = summary([text, text], [text, text])
    data["modality"] = "text"
    result = analyse(parse_summary(data))
    assert [m["key"] for m in result.metrics][-2:] == ["robustness.token_dropout",
                                                       "robustness.char_typos"]
    typos = _difference(result, "robustness.char_typos")
    assert typos.n == 2 and typos.mean == pytest.approx(0.0)
