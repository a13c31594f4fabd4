from __future__ import annotations

import math

import numpy as np
import pytest

from onegin.hopeless import (
    CHANCE_MARGIN,
    DIVERGENCE_FACTOR,
    MIN_CHANCE_STEPS,
    MIN_SLOW_FRACTION,
    MIN_SLOW_SECONDS,
    PRIOR_LOSS_RATIO,
    PRUNE_REASONS,
    TOO_SLOW_FACTOR,
    at_chance,
    budget_seconds,
    chance_check_due,
    chance_evidence,
    chance_level,
    diverged,
    divergence_evidence,
    loss_evidence,
    predicted_seconds,
    predicted_too_slow,
    prior_loss,
    prune_reason_for_stop,
    slow_evidence,
    uniform_loss,
)

SPAM = np.array([0] * 866 + [1] * 134)  # SMS spam's ham/spam shares


def test_chance_is_the_majority_share_not_one_over_k() -> None:
    assert chance_level(SPAM) == pytest.approx(0.866)
    assert chance_level(np.repeat(np.arange(10), 5)) == pytest.approx(0.1)
    assert chance_level([3, 3, 3]) == 1.0
    with pytest.raises(ValueError):
        chance_level([])


def test_prior_loss_is_the_label_entropy_in_nats() -> None:
    assert prior_loss(np.repeat(np.arange(10), 7)) == pytest.approx(math.log(10))
    expected = -(0.866 * math.log(0.866) + 0.134 * math.log(0.134))
    assert prior_loss(SPAM) == pytest.approx(expected)  # ≈ 0.394, far under ln 2
    assert prior_loss([1, 1]) == pytest.approx(0.0)


def test_diverged_means_not_finite_or_far_above_a_uniform_guess() -> None:
    ceiling = DIVERGENCE_FACTOR * math.log(10)
    assert diverged(float("nan"), 10) and diverged(float("inf"), 10)
    assert diverged(ceiling * 1.01, 10)
    assert not diverged(ceiling, 10) and not diverged(2.3, 10)
    assert diverged(DIVERGENCE_FACTOR * math.log(2) + 1, 1)  # one class counts as two


def test_at_chance_needs_both_chance_accuracy_and_no_better_than_prior_loss() -> None:
    chance, prior = chance_level(SPAM), prior_loss(SPAM)
    assert at_chance(0.866, prior, chance, prior)
    assert at_chance(chance + CHANCE_MARGIN, prior * PRIOR_LOSS_RATIO, chance, prior)
    assert at_chance(0.5, 5.0, chance, prior)  # below chance is no better
    # a slow LSTM still predicting "ham" everywhere, but its loss already under the prior's
    assert not at_chance(0.866, 0.9 * prior, chance, prior)
    assert not at_chance(chance + 2 * CHANCE_MARGIN, prior, chance, prior)
    assert not at_chance(float("nan"), prior, chance, prior)
    assert not at_chance(0.866, float("nan"), chance, prior)
    assert not at_chance(None, prior, chance, prior)
    assert not at_chance(0.866, None, chance, prior)


def test_early_at_chance_needs_no_progress_from_a_uniform_guess_either() -> None:
    chance, prior, start = chance_level(SPAM), prior_loss(SPAM), uniform_loss(2)
    # an LSTM after epoch 1 on spam: argmax still "ham", loss on its way from ln 2 to the
    # prior's 0.39; by the end of its budget the same numbers would be at chance
    assert at_chance(0.866, 0.57, chance, prior)
    assert not at_chance(0.866, 0.57, chance, prior, start)
    assert at_chance(0.866, 0.69, chance, prior, start)  # nothing learned at all
    balanced = np.repeat(np.arange(10), 3)  # there the prior is the uniform guess
    assert uniform_loss(10) == pytest.approx(prior_loss(balanced))
    assert at_chance(0.1, 2.3, 0.1, prior_loss(balanced), uniform_loss(10))
    assert uniform_loss(1) == pytest.approx(math.log(2))


def test_early_at_chance_needs_a_stuck_training_loss_when_one_is_given() -> None:
    start = uniform_loss(10)
    assert at_chance(0.1, 2.4, 0.1, start, start, train_loss=2.3)
    assert not at_chance(0.1, 2.4, 0.1, start, start, train_loss=1.2)
    assert at_chance(0.1, 2.4, 0.1, start, start, train_loss=float("nan"))


def test_chance_is_judged_after_the_first_epoch_with_enough_steps_and_the_last() -> None:
    steps = MIN_CHANCE_STEPS
    assert [chance_check_due(e, 5, steps) for e in range(1, 6)] == [
        "early", None, None, None, "last"]
    assert [e for e in range(1, 6) if chance_check_due(e, 5, steps * 10)] == [1, 5]
    assert [e for e in range(1, 6) if chance_check_due(e, 5, steps // 2)] == [2, 5]
    assert [e for e in range(1, 4) if chance_check_due(e, 3, 1)] == [3]
    assert chance_check_due(1, 1, 1) == "last" and chance_check_due(1, 1, 0) == "last"


def test_predicted_too_slow_edge_cases() -> None:
    slow = dict(elapsed=80.0, fraction_done=0.4)  # pace: 200 s in all
    assert predicted_too_slow(**slow, median_seconds=60.0)
    assert not predicted_too_slow(**slow, median_seconds=None)  # nothing finished yet
    assert not predicted_too_slow(**slow, median_seconds=0.0)
    assert not predicted_too_slow(**slow, median_seconds=100.0)
    # exactly k x the median is not "more than": 200 = 3 x 66.67
    assert not predicted_too_slow(**slow, median_seconds=200.0 / TOO_SLOW_FACTOR)
    assert predicted_too_slow(80.0, 0.4, 60.0, k=3.0)
    assert not predicted_too_slow(80.0, 0.4, 60.0, k=4.0)
    # too early: a tiny fraction or the first seconds are start-up noise
    assert not predicted_too_slow(6.0, MIN_SLOW_FRACTION / 2, median_seconds=10.0)
    assert not predicted_too_slow(MIN_SLOW_SECONDS / 2, 0.5, median_seconds=0.1)
    assert predicted_too_slow(12.0, MIN_SLOW_FRACTION, median_seconds=10.0)
    # past k x the median already: no prediction needed, however little is done
    assert predicted_too_slow(31.0, 0.0, median_seconds=10.0)
    assert not predicted_too_slow(30.0, 0.0, median_seconds=10.0)


def test_start_up_is_not_scaled_with_the_training_pace() -> None:
    # 6 s in, 5 s of it loading and tracing, 5 % trained: 25 s at this pace, not 120 s
    assert predicted_seconds(6.0, 0.05, startup=5.0) == pytest.approx(25.0)
    assert not predicted_too_slow(8.0, 0.3, 8.0, startup=5.0)  # 15 s predicted, limit 24
    assert predicted_too_slow(8.0, 0.3, 8.0)  # without start-up: 26.7 s predicted


def test_slow_evidence_is_json_ready() -> None:
    evidence = slow_evidence(20.0, 0.1, 60.0)
    assert evidence == {"elapsed_seconds": 20.0, "startup_seconds": 0.0, "fraction_done": 0.1,
                        "predicted_seconds": 200.0, "median_seconds": 60.0,
                        "factor": TOO_SLOW_FACTOR, "limit_seconds": TOO_SLOW_FACTOR * 60.0}
    assert slow_evidence(31.0, 0.0, 10.0)["predicted_seconds"] is None


def test_stop_flags_map_to_prune_reasons() -> None:
    assert PRUNE_REASONS == ("pruner", "diverged", "chance", "too_slow")
    assert prune_reason_for_stop("prune") == "pruner"
    assert prune_reason_for_stop("too_slow") == "too_slow"
    assert prune_reason_for_stop("cancel") is None
    assert prune_reason_for_stop(None) is None
    assert prune_reason_for_stop("something else") is None


def test_the_evidence_names_the_limit_each_rule_judged_by() -> None:
    assert divergence_evidence(float("nan"), 10) == {
        "loss": "nan", "limit": pytest.approx(DIVERGENCE_FACTOR * math.log(10))}
    loss = DIVERGENCE_FACTOR * math.log(10) * 1.01
    assert diverged(loss, 10) and divergence_evidence(loss, 10)["limit"] < loss
    chance, prior = chance_level(SPAM), prior_loss(SPAM)
    late = chance_evidence(0.87, 0.5, chance, prior)
    assert late == {"val_accuracy": 0.87, "chance": chance,
                    "accuracy_limit": pytest.approx(chance + CHANCE_MARGIN),
                    "val_loss": 0.5, "prior_loss": prior,
                    "loss_limit": pytest.approx(PRIOR_LOSS_RATIO * prior)}
    assert at_chance(0.87, 0.5, chance, prior)  # within both limits
    assert not at_chance(late["accuracy_limit"] + 1e-6, 0.5, chance, prior)
    assert not at_chance(0.87, late["loss_limit"] - 1e-6, chance, prior)
    early = chance_evidence(0.87, 0.7, chance, prior, uniform_loss(2), train_loss=0.69)
    assert early["loss_limit"] == pytest.approx(PRIOR_LOSS_RATIO * math.log(2))  # ln K > prior
    assert early["loss"] == 0.69


def test_loss_evidence_keeps_json_finite() -> None:
    assert loss_evidence(2.5) == 2.5
    assert loss_evidence(float("nan")) == "nan"
    assert loss_evidence(float("inf")) == "inf"


def test_an_early_stopped_trial_sets_the_pace_of_its_whole_budget() -> None:
    """Stopped after 2 of 10 epochs in 20 s: its peers are judged against 100 s, not 20 s
    (a full-length trial of that pace would otherwise read as 5x too slow)."""
    assert budget_seconds(20.0, 2, 10) == 100.0
    assert budget_seconds(20.0, 10, 10) == budget_seconds(20.0, None, 10) == 20.0
    assert not predicted_too_slow(80.0, 0.8, budget_seconds(20.0, 2, 10))
