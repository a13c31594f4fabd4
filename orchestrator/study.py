"""Optuna study per job in the RDB storage: seeded TPE, the job's pruner, resumable.

A new study starts from what is already known: the finished trials of the job it
continues (added, not re-run, their scores recomputed for this job's objective),
then the user's starting configurations or the modality's warm starts (enqueued,
so they are the first trials asked), then TPE. A `pareto` job's study has two
objectives, validation accuracy and health, both maximised (TPE handles several
objectives; no pruner does, so such a job has none).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from onegin.job_config import OptimizationConfig
from onegin.records import TrialRecord
from onegin.scoring import pareto_values, total_score
from onegin.study_storage import open_study_storage, study_name
from orchestrator.owned_storage import OwnedStudyStorage

optuna.logging.set_verbosity(optuna.logging.WARNING)
# multivariate TPE is marked experimental, yet it is the documented choice for
# conditional spaces such as a learning rate per optimizer
warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)

ORIGIN = "origin"  # the user attribute that says why a configuration ran
CONTINUED = "continued_from"  # the user attribute naming an added trial's job and number
MAX_STARTUP = 10  # Optuna's default number of random trials before TPE models the space
REDUCTION_FACTOR = 3  # successive halving keeps the best third at each rung (Optuna's default)


def startup_trials(budget: int) -> int:
    """Random trials before TPE: a fifth of the budget, 3 to 10.

    Optuna's default of 10 turns a 12-trial job into a random search; the warm
    starts already cover the region a practitioner would try first.
    """
    return max(3, min(MAX_STARTUP, budget // 5))


def make_sampler(config: OptimizationConfig) -> optuna.samplers.BaseSampler:
    return optuna.samplers.TPESampler(
        seed=config.seed, n_startup_trials=startup_trials(config.trials),
        multivariate=True, group=True,  # learning rates live in per-optimizer branches
        # with trials in flight, the liar keeps concurrent asks from piling onto one spot
        constant_liar=config.concurrency > 1,
    )


def warmup_epochs(epochs: int) -> int:
    """Epochs before the median pruner judges: a third of the budget.

    First-epoch accuracy ranks short trials badly (batch norm's moving statistics
    lag): on digits a warm start at 0.27 after epoch 1 of 3 ended the job's best.
    """
    return epochs // 3


def make_pruner(name: str, epochs: int) -> optuna.pruners.BasePruner:
    if name == "median":
        # Optuna's default of 5 finished trials before it judges: against the two warm
        # starts alone it stopped 0.981-0.984 SMS models for trailing them by 0.002
        # steps are epochs counted from 1: the first judged is the one after the warm-up
        return optuna.pruners.MedianPruner(n_startup_trials=5,
                                           n_warmup_steps=warmup_epochs(epochs) + 1)
    if name == "successive_halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=1,
                                                      reduction_factor=REDUCTION_FACTOR)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max(epochs, 1),
                                              reduction_factor=REDUCTION_FACTOR)
    return optuna.pruners.NopPruner()


def open_study(job_id: str, config: OptimizationConfig, database_url: str,
               earlier: Iterable[TrialRecord] = ()) -> optuna.Study:
    """Create the job's study, or load it after an orchestrator restart.

    ``earlier``: the records of the job named by ``config.continue_from``.
    Only the orchestrator holding the job's claim may call this: the study's
    trials are then kept in its memory (`OwnedStudyStorage`).
    """
    study = optuna.create_study(
        study_name=study_name(job_id),
        storage=OwnedStudyStorage(open_study_storage(database_url)),
        directions=["maximize"] * (2 if config.objective == "pareto" else 1),
        sampler=make_sampler(config),
        pruner=make_pruner(config.pruner, config.epochs),
        load_if_exists=True,
    )
    if not study.trials:
        if config.continue_from is not None:
            study.add_trials(continued_trials(
                optuna.load_study(study_name=study_name(config.continue_from),
                                  storage=open_study_storage(database_url)).trials,
                {t.number: t for t in earlier}, config))
        for origin, params in starting_configurations(config):
            study.enqueue_trial(config.space().to_study(params), user_attrs={ORIGIN: origin})
    return study


def starting_configurations(config: OptimizationConfig) -> list[tuple[str, dict[str, Any]]]:
    """(origin, configuration) to run first: the user's own, else the warm starts."""
    if config.initial_params:
        return [("initial", dict(p)) for p in config.initial_params]
    if not config.warm_start:
        return []
    return [("warm_start", p) for p in config.space().warm_starts()[:config.trials]]


def study_values(config: OptimizationConfig, accuracy: float | None,
                 health: Mapping[str, float] | None) -> list[float]:
    """What the study is told of a completed trial: its total score, or in pareto mode its
    (accuracy, health); `ValueError` when it lacks what the objective needs."""
    if accuracy is None:
        raise ValueError("the trial has no validation accuracy")
    if config.objective == "pareto":
        return list(pareto_values(accuracy, health, config.weights))
    return [total_score(config.objective, accuracy, health, config.weights)]


def continued_trials(trials: Iterable[FrozenTrial], records: Mapping[int, TrialRecord],
                     config: OptimizationConfig) -> list[FrozenTrial]:
    """The earlier job's finished trials as this study's history, never re-run.

    Completed trials are scored again with this job's objective and weights from
    their recorded accuracy and health (`study_values`), whatever the earlier job's
    objective; pruned ones keep their learning curves, except in a pareto study.
    Trials whose score cannot be recomputed (no health measured) are left out.
    """
    added = []
    for trial in trials:
        record = records.get(trial.number)
        if record is None or trial.state not in (TrialState.COMPLETE, TrialState.PRUNED):
            continue
        values = None
        if trial.state == TrialState.COMPLETE:
            try:
                values = study_values(config, record.val_accuracy, record.health)
            except ValueError:
                continue
        added.append(optuna.trial.create_trial(
            state=trial.state, values=values, params=trial.params,
            distributions=trial.distributions,
            # none in a multi-objective study: TPE ranks a pruned trial by its last value
            # through ``study.direction``, which such a study refuses
            intermediate_values={} if config.objective == "pareto"
            else trial.intermediate_values,
            user_attrs={CONTINUED: f"{config.continue_from}#{trial.number}"},
        ))
    return added


def owned_storage(study: optuna.Study) -> OwnedStudyStorage:
    """The storage `open_study` gave the study."""
    storage = study._storage
    assert isinstance(storage, OwnedStudyStorage), type(storage)
    return storage


def trial_handle(study: optuna.Study, frozen: optuna.trial.FrozenTrial) -> optuna.Trial:
    """A live `Trial` for a running trial loaded from storage (after a restart)."""
    return optuna.Trial(study, frozen._trial_id)
