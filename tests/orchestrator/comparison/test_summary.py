"""Checking a comparison summary: every bad field named by its full path."""

from __future__ import annotations

import pytest

from onegin.errors import ConfigErrors
from orchestrator.comparison.summary import parse_summary
from tests.orchestrator.comparison.summaries import example, holdout, summary


def _errors(data: object) -> dict[str, str]:
    with pytest.raises(ConfigErrors) as caught:
        parse_summary(data)
    return caught.value.as_dict()


def test_the_example_summary_is_valid() -> None:
    parsed = parse_summary(example())
    assert parsed.seeds == (1, 2, 3)
    for arm in parsed.arms.values():
        assert [run.best() is not None for run in arm.runs] == [True] * 3


def test_every_bad_field_is_named_by_its_path() -> None:
    data = summary([holdout(), holdout()], [holdout(), holdout()])
    data["modality"] = "audio"
    data["arms"]["health"]["runs"][1]["trials"][0]["holdout"]["ece"] = "low"
    data["arms"]["accuracy"]["objective"] = "health"
    data["arms"]["accuracy"]["runs"][0]["best_trial"] = 7
    data["arms"]["health"]["runs"][1]["seed"] = 1
    del data["arms"]["health"]["retrain"]["holdout"][0]["robustness_mean"]
    errors = _errors(data)
    assert errors == {
        "modality": "must be one of images, text, got 'audio'",
        "arms.health.runs[1].trials[0].holdout.ece": "must be a finite number, got 'low'",
        "arms.accuracy.objective": "must be 'simple' for the accuracy arm, got 'health'",
        "arms.accuracy.runs[0].best_trial": "names trial 7, which is not among the run's trials",
        "arms.health.runs[0].seed": "seed 1 is repeated or not among the summary's seeds",
        "arms.health.runs[1].seed": "seed 1 is repeated or not among the summary's seeds",
        "arms.health.retrain.holdout[0].robustness_mean": "is missing",
    }


def test_missing_arms_and_bad_weights_are_named() -> None:
    data = summary([holdout()], [holdout()])
    del data["arms"]["accuracy"]
    data["arms"]["health"]["weights"] = {"accuracy": 2}
    data["arms"]["extra"] = {}
    assert _errors(data) == {"arms.accuracy": "is missing",
                             "arms.extra": "unknown arm; the arms are accuracy and health",
                             "arms.health.weights.accuracy": "must be between 0 and 1, got 2"}


def test_a_non_object_summary_is_refused() -> None:
    assert _errors([1, 2]) == {"summary": "must be an object, got [1, 2]"} | {
        name: "is missing" for name in ("modality", "seeds", "arms", "id", "dataset",
                                        "trials_per_arm", "epochs")}
