"""Holdout metrics on constructed probabilities: calibration tells a calibrated model from
an overconfident one, the worst class shows a class the model always gets wrong."""

from __future__ import annotations

import numpy as np
import pytest

from gpu_worker.holdout import metrics as m


def _onehot(labels: np.ndarray, classes: int) -> np.ndarray:
    return np.eye(classes)[labels]


def _sampled(calibrated: bool, n: int = 4000) -> tuple[np.ndarray, np.ndarray]:
    """Binary predictions whose confidence is spread over [0.55, 0.95]; each is right
    with exactly that probability. The overconfident model says 0.99 for the same calls."""
    rng = np.random.default_rng(0)
    confidence = rng.uniform(0.55, 0.95, n)
    right = rng.random(n) < confidence
    labels = np.where(right, 0, 1)
    top = confidence if calibrated else np.full(n, 0.99)
    return labels, np.stack([top, 1 - top], axis=1)


def test_a_calibrated_model_has_a_lower_ece_than_an_overconfident_one() -> None:
    labels, calibrated = _sampled(calibrated=True)
    _, overconfident = _sampled(calibrated=False)
    assert m.expected_calibration_error(labels, calibrated) < 0.03
    # it is right about 75 % of the time while claiming 99 %
    assert m.expected_calibration_error(labels, overconfident) == pytest.approx(
        0.99 - m.accuracy(labels, overconfident))
    assert m.brier_score(labels, calibrated) < m.brier_score(labels, overconfident)


def test_ece_weighs_each_bin_by_its_share_of_the_samples() -> None:
    # bin (0.6, 0.667]: 4 predictions at 0.65, all right (underconfident);
    # bin (0.933, 1]: 1 at 1.0, wrong (overconfident)
    probs = np.array([[0.65, 0.35]] * 4 + [[1.0, 0.0]])
    labels = np.array([0, 0, 0, 0, 1])
    expected = 4 / 5 * abs(1.0 - 0.65) + 1 / 5 * abs(0.0 - 1.0)
    assert m.expected_calibration_error(labels, probs) == pytest.approx(expected)
    # one bin lets the two errors cancel: why ECE bins at all
    assert m.expected_calibration_error(labels, probs, bins=1) == pytest.approx(
        abs(4 / 5 - (4 * 0.65 + 1.0) / 5))


def test_brier_spans_zero_for_certain_and_right_to_two_for_certain_and_wrong() -> None:
    labels = np.array([0, 1, 2, 2])
    assert m.brier_score(labels, _onehot(labels, 3)) == 0.0
    assert m.brier_score(labels, _onehot((labels + 1) % 3, 3)) == pytest.approx(2.0)
    # uniform over K classes: (K - 1) / K
    assert m.brier_score(labels, np.full((4, 3), 1 / 3)) == pytest.approx(2 / 3)


def test_worst_class_accuracy_is_zero_when_one_class_is_always_wrong() -> None:
    labels = np.repeat(np.arange(4), 25)
    predicted = np.where(labels == 2, 3, labels)  # class 2 is always called 3
    report = m.summarize(labels, _onehot(predicted, 4))
    assert report["per_class_accuracy"] == [1.0, 1.0, 0.0, 1.0]
    assert report["worst_class_accuracy"] == 0.0
    assert report["accuracy"] == pytest.approx(0.75) and report["samples"] == 100


def test_a_class_without_holdout_samples_has_no_accuracy_and_is_not_the_worst() -> None:
    labels = np.array([0, 0, 1, 1])
    probs = _onehot(np.array([0, 1, 1, 1]), 3)
    assert m.per_class_accuracy(labels, probs) == [0.5, 1.0, None]
    assert m.worst_class_accuracy(m.per_class_accuracy(labels, probs)) == 0.5


@pytest.mark.parametrize(("labels", "probs"), [
    (np.array([0, 1]), np.full((3, 2), 0.5)), (np.array([], dtype=int), np.zeros((0, 2))),
    (np.array([0, 1]), np.full(2, 0.5))])
def test_mismatched_or_empty_inputs_are_refused(labels: np.ndarray, probs: np.ndarray) -> None:
    with pytest.raises(ValueError, match="labels"):
        m.summarize(labels, probs)
