"""A job's Optuna study, read from the database: value history and parameter importances.

The web app only reads studies (the orchestrator is their one writer), so the
storage is opened without creating tables or checking the schema, and a job
whose study does not exist yet (still queued) reads as empty. Importances
(fANOVA, seeded) cost real CPU on big studies: `webapp.importances` decides when
they are computed.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from functools import partial
from typing import Any

import optuna
import sqlalchemy as sa

from onegin.job_config import OptimizationConfig
from onegin.json_values import finite_or_none
from onegin.search_space import ConditionalFloatParam, SearchSpace
from onegin.study_storage import open_study_storage, study_name
from webapp.importances import ImportanceCache, Ranked, RankingProcess, forget_fanova_forests
from webapp.single_flight import SingleFlight

log = logging.getLogger(__name__)
MIN_TRIALS_FOR_IMPORTANCE = 2
STUDIES_KEPT = 64  # loaded studies kept, the most recently read


def history(trials: Iterable[optuna.trial.FrozenTrial]) -> list[dict[str, Any]]:
    """``[{number, value, state}]`` by trial number; value None unless finite."""
    out = []
    for trial in sorted(trials, key=lambda t: t.number):
        value = trial.value if trial.values is not None and len(trial.values) == 1 else None
        out.append({"number": trial.number, "value": finite_or_none(value),
                    "state": trial.state.name})
    return out


def merged_branches(trials: Iterable[optuna.trial.FrozenTrial],
                    space: SearchSpace) -> list[optuna.trial.FrozenTrial]:
    """Completed trials with each conditional parameter's branches as one parameter,
    valued by their first objective (fANOVA ranks one).

    The study asks ``learning_rate_adam``, ``learning_rate_sgd``…; fANOVA only ranks
    parameters that every trial has, so it would never rank the learning rate. Here
    it is one parameter again, over the span of all its branches.
    """
    merged_name: dict[str, str] = {}
    spans: dict[str, optuna.distributions.FloatDistribution] = {}
    for param in space.params:
        if isinstance(param, ConditionalFloatParam):
            lows, highs = zip(*param.ranges.values(), strict=True)
            spans[param.name] = optuna.distributions.FloatDistribution(
                min(lows), max(highs), log=param.log)
            merged_name |= {param.study_name(branch): param.name for branch in param.ranges}
    out = []
    for trial in trials:
        if trial.state != optuna.trial.TrialState.COMPLETE:
            continue
        params, distributions = {}, {}
        for name, value in trial.params.items():
            target = merged_name.get(name, name)
            params[target] = value
            distributions[target] = spans.get(target, trial.distributions[name])
        # the first objective: the total score, or a pareto study's validation accuracy
        out.append(optuna.trial.create_trial(value=trial.values[0], params=params,
                                             distributions=distributions))
    return out


class StudyReader:
    """Reads the studies in one database; importances come from an `ImportanceCache`."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self._storage: optuna.storages.RDBStorage | None = None
        self._lock = threading.Lock()
        self._studies: OrderedDict[str, optuna.Study] = OrderedDict()  # job -> loaded study
        self._ranking = RankingProcess()
        self.importances = ImportanceCache(run=self._ranking)
        self._reads: SingleFlight[dict[str, Any]] = SingleFlight()

    def summary(self, job_id: str, config: Mapping[str, Any], *,
                final: bool = True) -> dict[str, Any]:
        """``{"history": [...], "importances": {...}, "importance_trials": n}``; empty
        before the study exists.

        ``config`` is the job's (its space names the parameters); trials still
        waiting to be asked (the warm starts) are not history yet. ``final``: the job
        has ended, so its importances must rank every trial; while it runs they may
        rank fewer (``importance_trials`` says how many completed trials they rank).
        Concurrent readers of one job share one read (`webapp.single_flight`); a
        reader that knows the job has ended never shares a read begun before.
        """
        return self._reads.run((job_id, final), partial(self._summarize, job_id, config, final))

    def _summarize(self, job_id: str, config: Mapping[str, Any], final: bool) -> dict[str, Any]:
        study = self._load(job_id)
        if study is None:
            return {"history": [], "importances": {}, "importance_trials": 0}
        trials = [t for t in study.get_trials(deepcopy=False)
                  if t.state != optuna.trial.TrialState.WAITING]
        complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
        ranked = Ranked(None, 0, {})
        if len(complete) >= MIN_TRIALS_FOR_IMPORTANCE:
            key = (len(complete), max(t.number for t in complete))
            ranked = self.importances.get(
                job_id, key, len(complete), partial(_rank, job_id, config, complete),
                final=final)
        return {"history": history(trials), "importances": dict(ranked.values),
                "importance_trials": ranked.trials}

    def delete(self, job_id: str) -> None:
        """Drop the job's study, if it has one."""
        storage = self.storage
        if storage is not None and self._load(job_id) is not None:
            optuna.delete_study(study_name=study_name(job_id), storage=storage)
        with self._lock:
            self._studies.pop(job_id, None)

    @property
    def storage(self) -> optuna.storages.RDBStorage | None:
        """The storage, once an orchestrator has created Optuna's tables (None before:
        opening it earlier would write to a database the web app only reads)."""
        with self._lock:
            if self._storage is None:
                engine = sa.create_engine(self.database_url)
                try:
                    if not sa.inspect(engine).has_table("studies"):
                        return None
                finally:
                    engine.dispose()
                self._storage = open_study_storage(self.database_url, read_only=True)
            return self._storage

    def close(self) -> None:
        self.importances.close()
        self._ranking.close()
        with self._lock:
            if self._storage is not None:
                self._storage.engine.dispose()

    def _load(self, job_id: str) -> optuna.Study | None:
        """The job's study, kept: Optuna's cache in a loaded study reads only the trials
        that were unfinished or are new since its last read (finished ones never change)."""
        with self._lock:
            study = self._studies.get(job_id)
            if study is not None:
                self._studies.move_to_end(job_id)
                return study
        storage = self.storage
        if storage is None:
            return None
        try:
            study = optuna.load_study(study_name=study_name(job_id), storage=storage)
        except KeyError:
            return None
        with self._lock:
            self._studies[job_id] = study
            while len(self._studies) > STUDIES_KEPT:
                self._studies.popitem(last=False)
        return study


def _rank(job_id: str, config: Mapping[str, Any],
          complete: list[optuna.trial.FrozenTrial]) -> dict[str, float]:
    """fANOVA (seeded) over the completed trials, conditional branches merged."""
    try:
        study = optuna.create_study(direction="maximize")  # in memory: a view to rank
        study.add_trials(merged_branches(complete, OptimizationConfig.from_dict(config).space()))
        evaluator = optuna.importance.FanovaImportanceEvaluator(seed=0)
        found = optuna.importance.get_param_importances(study, evaluator=evaluator)
    except (RuntimeError, ValueError) as exc:  # e.g. every parameter fixed
        log.info("no importances for job %s: %s", job_id, exc)
        return {}
    finally:
        forget_fanova_forests()
    return {name: float(value) for name, value in found.items()}
