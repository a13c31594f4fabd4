"""The job's study as its one writer sees it: every trial in memory, each write through to the RDB.

Optuna's storage wrapper (`_CachedStorage`) must assume other processes write
the study, so each read re-fetches every unfinished trial and one lock spans
those fetches and each parameter write: with several trials in flight, asks
queue behind each other. A job's study has exactly one writer, the orchestrator
holding the job's claim, so here reads come from memory and the lock covers
memory only. Every write reaches the database before memory, so the database is
never behind what this process acted on, and an orchestrator that resumes the
job (reading the database afresh) loses nothing. An ask's parameters are written
in one transaction, with Optuna's private RDB models: docs/architecture.md says
why no public API serves; `benchmarks/orchestration.py` measures the dispatch time.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Container, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from optuna import distributions
from optuna.distributions import BaseDistribution
from optuna.storages import BaseStorage, RDBStorage
from optuna.storages._rdb import models
from optuna.storages._rdb.storage import _create_scoped_session
from optuna.study import StudyDirection
from optuna.study._frozen import FrozenStudy
from optuna.trial import FrozenTrial, TrialState

Param = tuple[str, float, BaseDistribution]  # name, value as stored, distribution


class OwnedStudyStorage(BaseStorage):
    """`RDBStorage` for studies this process alone writes; reads are served from memory."""

    def __init__(self, backend: RDBStorage) -> None:
        self._backend = backend
        self._lock = threading.Lock()
        # one ask at a time takes a WAITING trial: the database alone does not stop two
        # (SQLite ignores FOR UPDATE), and memory, the single writer's truth, is checked here
        self._start_lock = threading.Lock()
        self._trials: dict[int, dict[int, FrozenTrial]] = {}  # study id -> number -> trial
        self._where: dict[int, tuple[int, int]] = {}  # trial id -> (study id, number)
        self._dists: dict[int, dict[str, BaseDistribution]] = {}  # study id -> param -> first
        self._directions: dict[int, list[StudyDirection]] = {}
        self._batches: dict[int, list[Param]] = {}  # trial id -> params not written yet

    # ---- memory ------------------------------------------------------------
    def _study(self, study_id: int) -> dict[int, FrozenTrial]:
        """The study's trials, loaded from the database on first use."""
        with self._lock:
            trials = self._trials.get(study_id)
        if trials is not None:
            return trials
        loaded = self._backend.get_all_trials(study_id, deepcopy=False)
        with self._lock:
            if study_id not in self._trials:
                self._trials[study_id] = {}
                self._dists[study_id] = {}
                for trial in loaded:
                    self._keep(study_id, trial)
            return self._trials[study_id]

    def _keep(self, study_id: int, trial: FrozenTrial) -> None:
        """Store ``trial`` (caller holds the lock)."""
        self._trials[study_id][trial.number] = trial
        self._where[trial._trial_id] = (study_id, trial.number)
        for name, dist in trial.distributions.items():
            self._dists[study_id].setdefault(name, dist)

    def _cached(self, trial_id: int) -> FrozenTrial | None:
        with self._lock:
            where = self._where.get(trial_id)
            return None if where is None else self._trials[where[0]][where[1]]

    def _swap(self, trial_id: int, change: Callable[[FrozenTrial], None]) -> None:
        """Replace the cached trial with a changed copy.

        Copy-and-swap: a reader holding the old trial (TPE on another ask thread)
        never sees it change, nor half of a change.
        """
        with self._lock:
            where = self._where.get(trial_id)
            if where is None:
                return
            new = copy.copy(self._trials[where[0]][where[1]])
            change(new)
            self._trials[where[0]][where[1]] = new

    def _amend(self, trial_id: int, **changes: tuple[Any, Any]) -> None:
        """Add ``key: value`` to each named dict field of the cached trial."""
        def change(trial: FrozenTrial) -> None:
            for field, (key, value) in changes.items():
                setattr(trial, field, {**getattr(trial, field), key: value})
        self._swap(trial_id, change)

    # ---- studies: straight to the database -----------------------------------
    def create_new_study(self, directions: Sequence[StudyDirection],
                         study_name: str | None = None) -> int:
        return self._backend.create_new_study(directions, study_name)

    def delete_study(self, study_id: int) -> None:
        self._backend.delete_study(study_id)
        with self._lock:
            for trial in self._trials.pop(study_id, {}).values():
                self._where.pop(trial._trial_id, None)
            self._dists.pop(study_id, None)

    def set_study_user_attr(self, study_id: int, key: str, value: Any) -> None:
        self._backend.set_study_user_attr(study_id, key, value)

    def set_study_system_attr(self, study_id: int, key: str, value: Any) -> None:
        self._backend.set_study_system_attr(study_id, key, value)

    def get_study_id_from_name(self, study_name: str) -> int:
        return self._backend.get_study_id_from_name(study_name)

    def get_study_name_from_id(self, study_id: int) -> str:
        return self._backend.get_study_name_from_id(study_id)

    def get_study_directions(self, study_id: int) -> list[StudyDirection]:
        if study_id not in self._directions:  # fixed when the study is created
            self._directions[study_id] = self._backend.get_study_directions(study_id)
        return self._directions[study_id]

    def get_study_user_attrs(self, study_id: int) -> dict[str, Any]:
        return self._backend.get_study_user_attrs(study_id)

    def get_study_system_attrs(self, study_id: int) -> dict[str, Any]:
        return self._backend.get_study_system_attrs(study_id)

    def get_all_studies(self) -> list[FrozenStudy]:
        return self._backend.get_all_studies()

    # ---- trial writes: database first, then memory ---------------------------
    def create_new_trial(self, study_id: int, template_trial: FrozenTrial | None = None) -> int:
        self._study(study_id)
        trial_id = self._backend.create_new_trial(study_id, template_trial)
        trial = self._backend.get_trial(trial_id)
        with self._lock:
            self._keep(study_id, trial)
        return trial_id

    def set_trial_param(self, trial_id: int, param_name: str, param_value_internal: float,
                        distribution: BaseDistribution) -> None:
        trial = self._cached(trial_id)
        if trial is None:
            self._backend.set_trial_param(trial_id, param_name, param_value_internal,
                                          distribution)
            return
        self.check_trial_is_updatable(trial_id, trial.state)
        study_id = self._where[trial_id][0]
        with self._lock:  # memory holds every trial: the study's first distribution is known
            first = self._dists[study_id].setdefault(param_name, distribution)
        distributions.check_distribution_compatibility(first, distribution)
        batch = self._batches.get(trial_id)
        if batch is None:
            self._write_params(trial_id, [(param_name, param_value_internal, distribution)])
        else:
            batch.append((param_name, param_value_internal, distribution))
        self._amend(trial_id, distributions=(param_name, distribution),
                    params=(param_name, distribution.to_external_repr(param_value_internal)))

    @contextmanager
    def params_written_together(self, trial_id: int) -> Iterator[None]:
        """Parameters set inside the block are written in one transaction as it ends.

        An ask sets a dozen parameters; a commit for each was most of its time.
        If the block fails, none of them is written, nor kept in memory.
        """
        self._batches[trial_id] = []
        try:
            yield
            batch = self._batches[trial_id]
            if batch:
                self._write_params(trial_id, batch)
        except BaseException:
            self._forget_params(trial_id, [name for name, _, _ in self._batches[trial_id]])
            raise
        finally:
            del self._batches[trial_id]

    def _write_params(self, trial_id: int, batch: Sequence[Param]) -> None:
        """Insert parameters (already checked against memory) in one transaction."""
        with _create_scoped_session(self._backend.scoped_session) as session:
            session.add_all([models.TrialParamModel(
                trial_id=trial_id, param_name=name, param_value=value,
                distribution_json=distributions.distribution_to_json(dist))
                for name, value, dist in batch])

    def _forget_params(self, trial_id: int, names: Sequence[str]) -> None:
        def change(trial: FrozenTrial) -> None:
            trial.params = {k: v for k, v in trial.params.items() if k not in names}
            trial.distributions = {k: v for k, v in trial.distributions.items()
                                   if k not in names}
        self._swap(trial_id, change)

    def set_trial_state_values(self, trial_id: int, state: TrialState,
                               values: Sequence[float] | None = None) -> bool:
        if state != TrialState.RUNNING:
            return self._set_state(trial_id, state, values)
        with self._start_lock:  # an enqueued trial is taken by one ask only
            cached = self._cached(trial_id)
            if cached is not None and cached.state != TrialState.WAITING:
                return False
            return self._set_state(trial_id, state, values)

    def _set_state(self, trial_id: int, state: TrialState,
                   values: Sequence[float] | None) -> bool:
        changed = self._backend.set_trial_state_values(trial_id, state, values)
        if changed:  # as the backend did it; its clock and ours differ by microseconds
            now = datetime.now()

            def change(trial: FrozenTrial) -> None:
                trial.state = state
                if values is not None:
                    trial.values = list(values)
                if state == TrialState.RUNNING:
                    trial.datetime_start = now
                if state.is_finished():
                    trial.datetime_complete = now
            self._swap(trial_id, change)
        return changed

    def set_trial_intermediate_value(self, trial_id: int, step: int,
                                     intermediate_value: float) -> None:
        self._backend.set_trial_intermediate_value(trial_id, step, intermediate_value)
        self._amend(trial_id, intermediate_values=(step, intermediate_value))

    def set_trial_user_attr(self, trial_id: int, key: str, value: Any) -> None:
        self._backend.set_trial_user_attr(trial_id, key, value)
        self._amend(trial_id, user_attrs=(key, value))

    def set_trial_system_attr(self, trial_id: int, key: str, value: Any) -> None:
        self._backend.set_trial_system_attr(trial_id, key, value)
        self._amend(trial_id, system_attrs=(key, value))

    # ---- trial reads: memory ---------------------------------------------------
    def get_trial(self, trial_id: int) -> FrozenTrial:
        """A live `optuna.Trial` keeps this and changes its dicts in place: it gets its own
        copy of an unfinished trial, so memory changes only through the writes above."""
        trial = self._cached(trial_id)
        if trial is None:
            return self._backend.get_trial(trial_id)
        return trial if trial.state.is_finished() else copy.deepcopy(trial)

    def get_all_trials(self, study_id: int, deepcopy: bool = True,
                       states: Container[TrialState] | None = None) -> list[FrozenTrial]:
        trials = self._study(study_id)
        with self._lock:
            chosen = [t for t in trials.values() if states is None or t.state in states]
        chosen.sort(key=lambda t: t.number)  # samplers expect trials in number order
        return copy.deepcopy(chosen) if deepcopy else chosen

    def get_trial_id_from_study_id_trial_number(self, study_id: int, trial_number: int) -> int:
        trial = self._study(study_id).get(trial_number)
        if trial is not None:
            return trial._trial_id
        return self._backend.get_trial_id_from_study_id_trial_number(study_id, trial_number)

    def remove_session(self) -> None:
        self._backend.remove_session()

    def close(self) -> None:
        """Release the pooled database connections (the storage reconnects if used again)."""
        self._backend.remove_session()
        self._backend.engine.dispose()
