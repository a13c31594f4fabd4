"""The threshold `pruner_evidence` re-derives is the one Optuna's pruner judged by.

Real studies with the job's own pruners (`make_pruner`), trials reported epoch by epoch
as the runner reports them: every prune's evidence must show the trial below its
threshold, and every judgement that let a trial go on (a median judged, a rung passed)
at or above it. This also pins `HyperbandPruner._get_bracket_id`, the one private piece
used: a release that moved trials between brackets otherwise would fail here.
"""

from __future__ import annotations

import random

import optuna
import pytest

from orchestrator.prune_evidence import (
    RUNG_KEY,
    median_threshold,
    pruner_evidence,
    rung_cutoff,
)
from orchestrator.study import make_pruner, warmup_epochs

EPOCHS = 9
MEDIAN_STARTUP = 5  # make_pruner's n_startup_trials for the median pruner


def _rungs(study: optuna.Study, number: int) -> int:
    trial = study.get_trials(deepcopy=False)[number]
    return sum(1 for key in trial.system_attrs if key.startswith(RUNG_KEY.format("")))


def test_the_cutoffs_follow_optunas_rules() -> None:
    assert median_threshold([0.2, 0.9, 0.5]) == 0.5
    assert median_threshold([0.2, float("nan"), 0.4]) == pytest.approx(0.3)
    assert median_threshold([]) is None
    assert rung_cutoff([0.1, 0.5], 3) == 0.5  # under 3 values: only the best goes on
    assert rung_cutoff([0.3, 0.1, 0.9, 0.5, 0.7, 0.2], 3) == 0.7  # the best third
    assert rung_cutoff([0.4], 3) == 0.4


@pytest.mark.parametrize("name", ["median", "successive_halving", "hyperband"])
def test_each_verdict_agrees_with_its_evidence(name: str) -> None:
    study = optuna.create_study(direction="maximize", pruner=make_pruner(name, EPOCHS),
                                study_name=f"evidence-{name}")
    rng = random.Random(7)
    verdicts = {"pruned": 0, "passed": 0}
    for _ in range(40):
        trial = study.ask()
        skill = rng.random()
        value = 0.0
        pruned = False
        for epoch in range(1, EPOCHS + 1):
            value = skill * epoch / EPOCHS + rng.gauss(0, 0.02)
            trial.report(value, epoch)
            rungs = _rungs(study, trial.number)
            pruned = trial.should_prune()
            evidence = pruner_evidence(study, trial.number) or {}
            if name == "median":
                completed = len(study.get_trials(states=(optuna.trial.TrialState.COMPLETE,)))
                judged = epoch >= warmup_epochs(EPOCHS) + 1 and completed >= MEDIAN_STARTUP
                assert evidence["judged_epoch"] == epoch and evidence["rule"] == "median"
            else:
                judged = _rungs(study, trial.number) > rungs  # it reached a rung just now
                if judged:
                    assert evidence["rule"] == name
                    assert evidence["rung"] == _rungs(study, trial.number) - 1
            if pruned:
                assert judged and evidence["value"] < evidence["threshold"], evidence
                verdicts["pruned"] += 1
                break
            if judged:
                assert evidence["value"] >= evidence["threshold"], evidence
                verdicts["passed"] += 1
        if pruned:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        else:
            study.tell(trial, value)
    assert verdicts["pruned"] >= 5 and verdicts["passed"] >= 5, verdicts


def test_no_evidence_for_a_job_without_a_pruner() -> None:
    study = optuna.create_study(direction="maximize", pruner=make_pruner("none", EPOCHS))
    trial = study.ask()
    trial.report(0.5, 1)
    assert pruner_evidence(study, trial.number) is None
