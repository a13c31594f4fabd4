"""Optuna study per job in the RDB storage: seeded TPE, the job's pruner, resumable."""

from __future__ import annotations

from typing import Any

import optuna

from onegin.job_config import OptimizationConfig
from orchestrator.owned_storage import OwnedStudyStorage

optuna.logging.set_verbosity(optuna.logging.WARNING)


def study_name(job_id: str) -> str:
    return f"job-{job_id}"


def make_pruner(name: str, epochs: int) -> optuna.pruners.BasePruner:
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=0)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max(epochs, 1))
    return optuna.pruners.NopPruner()


def storage_for(url: str) -> optuna.storages.RDBStorage:
    engine_kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if url.startswith("sqlite"):
        engine_kwargs["connect_args"] = {"timeout": 30}
    return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs)


def open_study(job_id: str, config: OptimizationConfig, database_url: str) -> optuna.Study:
    """Create the job's study, or load it after an orchestrator restart.

    Only the orchestrator holding the job's claim may call this: the study's
    trials are then kept in its memory (`OwnedStudyStorage`).
    """
    study = optuna.create_study(
        study_name=study_name(job_id),
        storage=OwnedStudyStorage(storage_for(database_url)),
        direction="maximize",
        # with trials in flight, the liar keeps concurrent asks from piling onto one spot
        sampler=optuna.samplers.TPESampler(seed=config.seed,
                                           constant_liar=config.concurrency > 1),
        pruner=make_pruner(config.pruner, config.epochs),
        load_if_exists=True,
    )
    if not study.trials:
        for params in config.initial_trials:
            study.enqueue_trial(dict(params))
    return study


def owned_storage(study: optuna.Study) -> OwnedStudyStorage:
    """The storage `open_study` gave the study."""
    storage = study._storage
    assert isinstance(storage, OwnedStudyStorage), type(storage)
    return storage


def trial_handle(study: optuna.Study, frozen: optuna.trial.FrozenTrial) -> optuna.Trial:
    """A live `Trial` for a running trial loaded from storage (after a restart)."""
    return optuna.Trial(study, frozen._trial_id)
