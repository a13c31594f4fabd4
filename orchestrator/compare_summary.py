"""A finished comparison's records as the summary its report is rendered from.

Pure: job and trial records in, the JSON-able dict of the comparison summary out
(the interface `orchestrator.comparison.report.render_report` reads; its shape is
in docs/architecture.md). Each arm lists its runs (one per seed) with every trial,
and the retrain of its best configuration, whose holdout results give the spread.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from onegin.compare_config import ARMS, CompareConfig, arm_of, is_retrain, split_seed
from onegin.records import JobRecord, TrialRecord

# the dataset registry's word -> the summary's
MODALITIES = {"image": "images", "text": "text"}


@dataclass(frozen=True)
class Run:
    """One child job of a comparison and its trials."""

    job: JobRecord
    trials: Sequence[TrialRecord]

    @property
    def arm(self) -> str:
        return arm_of(self.job)

    @property
    def seed(self) -> int:
        return split_seed(self.job)

    @property
    def retrain(self) -> bool:
        return is_retrain(self.job)


def trial_summary(trial: TrialRecord) -> dict[str, Any]:
    return {
        "number": trial.number, "status": trial.status, "params": dict(trial.params),
        "val_accuracy": trial.val_accuracy,
        "test_accuracy": (trial.metrics or {}).get("test_accuracy"),
        "health": dict(trial.health) if trial.health is not None else None,
        "health_score": trial.health_score, "total_score": trial.total_score,
        "holdout": trial.holdout,
    }


def best_search(runs: Sequence[JobRecord], arm: str) -> JobRecord | None:
    """The arm's search whose best trial scored highest by the arm's objective (the
    first seed's on a tie); None when none of them completed a trial."""
    scored = [job for job in runs if arm_of(job) == arm and not is_retrain(job)
              and job.best_score is not None and job.best_trial_number is not None]
    return max(scored, key=lambda job: float(job.best_score or 0.0), default=None)


def build_summary(comparison: JobRecord, config: CompareConfig, modality: str,
                  runs: Sequence[Run]) -> dict[str, Any]:
    """The summary of ``comparison`` from its runs (searches and retrains)."""
    return {
        "id": comparison.id, "dataset": config.base.dataset,
        "modality": MODALITIES.get(modality, modality),
        "trials_per_arm": config.base.trials, "seeds": config.run_seeds,
        "epochs": config.base.epochs,
        "arms": {arm: _arm(arm, config, runs) for arm in ARMS},
    }


def _arm(arm: str, config: CompareConfig, runs: Sequence[Run]) -> dict[str, Any]:
    searches = sorted((r for r in runs if r.arm == arm and not r.retrain),
                      key=lambda r: config.run_seeds.index(r.seed)
                      if r.seed in config.run_seeds else len(config.run_seeds))
    retrain = next((r for r in runs if r.arm == arm and r.retrain), None)
    objective = ARMS[arm]
    return {
        "objective": objective,
        "weights": config.base.weights.to_dict() if objective == "health" else None,
        "runs": [{"seed": r.seed, "job_id": r.job.id, "status": r.job.status,
                  "best_trial": r.job.best_trial_number,
                  "trials": [trial_summary(t) for t in r.trials]} for r in searches],
        "retrain": None if retrain is None else {
            "params": _retrained_params(retrain), "seed": retrain.seed,
            "job_id": retrain.job.id,
            "holdout": [t.holdout for t in retrain.trials
                        if t.status == "completed" and t.holdout is not None],
        },
    }


def _retrained_params(run: Run) -> dict[str, Any]:
    initial = run.job.config.get("initial_params") or [{}]
    return dict(initial[0])
