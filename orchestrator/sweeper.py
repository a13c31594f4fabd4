"""Repair what a crash left behind, so a finished job's records, study and artifacts agree.

The invariant: when a job is terminal, none of its trials is queued or running in
the records, none is RUNNING or WAITING in its Optuna study, every study trial
number has a record and every record a study trial, and only completed or pruned
trials keep artifacts. A trial that never closed has its uploads removed rather
than attached as partial: a half-written model is nothing anyone should download,
and a re-run of its parameters, if any, has artifacts of its own.

`plan` decides (pure). `sweep_job` reads the records, the study, the control store
and the artifacts, applies the plan, and may run again at any time: a second run
finds nothing to do. The runner sweeps its job at each of its ends, and at a
resume (only what the study already settled); `sweep_finished_jobs` sweeps, at
orchestrator start, every finished job that still holds an open trial. Trials a
continued job borrows from its earlier job (user attribute ``continued_from``)
have their records in that job and are left out.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import optuna
from optuna.exceptions import UpdateFinishedTrialError
from optuna.trial import FrozenTrial, TrialState

from onegin.artifacts import job_prefix, trial_prefix
from onegin.services import Services
from onegin.statuses import JOB_TERMINAL, TRIAL_ACTIVE, TrialStatus
from onegin.study_storage import open_study_storage, study_name
from onegin.trial_message import TrialResult
from orchestrator.policy import COUNTED
from orchestrator.study import CONTINUED
from orchestrator.trial_results import result_fields

log = logging.getLogger(__name__)
T = TypeVar("T")
OPEN_RECORD = TRIAL_ACTIVE
OPEN_STUDY = (TrialState.RUNNING, TrialState.WAITING)
SWEPT = "swept"  # user attribute of a study trial the sweeper added for a lone record
PAGE = 200


@dataclass(frozen=True)
class TrialView:
    """One trial number as the sweeper finds it in each place."""

    number: int
    record: str | None = None  # the record's status; None: no record
    study: TrialState | None = None  # None: no study trial
    value: float | None = None  # a COMPLETE single-objective study trial's value
    params: Mapping[str, Any] = field(default_factory=dict)  # the study trial's
    result: TrialResult | None = None  # the worker's result in the control store
    artifacts: bool = False  # something is stored under its trial prefix


@dataclass(frozen=True)
class Repair:
    """What to change for one trial number, in this order."""

    number: int
    abandon: bool = False  # a worker still on it stops and drops its upload
    fail_in_study: bool = False  # RUNNING or WAITING -> FAIL
    add_to_study: bool = False  # a record with no study trial gets a FAIL one
    record: Mapping[str, Any] | None = None  # fields that close (or create) its record
    delete_artifacts: bool = False


def plan(trials: Iterable[TrialView], *, terminal: bool) -> list[Repair]:
    """The repairs that make ``trials`` meet the invariant, by trial number.

    For a job still running (``terminal`` False) only what its study already
    settled is written to the records: a trial open in the study is its
    runner's, which adopts a RUNNING one and asks a WAITING one.
    """
    repairs = [_repair(view, terminal) for view in sorted(trials, key=lambda v: v.number)]
    return [r for r in repairs if r is not None]


def _repair(view: TrialView, terminal: bool) -> Repair | None:
    study_open = view.study in OPEN_STUDY
    if study_open and not terminal:
        return None
    record_open = view.record is None or view.record in OPEN_RECORD
    fields = _closing_fields(view) if record_open else None
    final = fields["status"] if fields else view.record
    repair = Repair(
        view.number,
        abandon=terminal and (study_open or record_open),
        fail_in_study=study_open,
        add_to_study=terminal and view.study is None,
        record=fields,
        delete_artifacts=terminal and view.artifacts and final not in COUNTED,
    )
    changes = (repair.fail_in_study, repair.add_to_study, repair.record is not None,
               repair.delete_artifacts)
    return repair if any(changes) else None


def _closing_fields(view: TrialView) -> dict[str, Any]:
    """The record a trial ends with: what its study says, else cancelled (never finished)."""
    result = view.result
    if view.study == TrialState.COMPLETE:
        status = TrialStatus.COMPLETED
    elif view.study == TrialState.PRUNED:
        status = TrialStatus.PRUNED
    elif view.study == TrialState.FAIL and result is not None and \
            result.status == TrialStatus.FAILED:
        status = TrialStatus.FAILED
    else:
        status = TrialStatus.CANCELLED
    fields: dict[str, Any] = {"status": status}
    if status in COUNTED:
        fields |= result_fields(result) if result is not None else {}
        if fields.get("total_score") is None:
            fields["total_score"] = view.value
    elif status == TrialStatus.FAILED:
        fields["error"] = result.error if result is not None else None
    else:
        was = view.record or (view.study.name.lower() if view.study else "open")
        fields["error"] = f"closed as its job ended: it was still {was}"
    if view.record is None:
        fields["params"] = dict(view.params)
    return fields


# ---- the I/O shell ---------------------------------------------------------------


def sweep_job(services: Services, job_id: str, *, terminal: bool | None = None,
              storage: optuna.storages.RDBStorage | None = None,
              study: optuna.Study | None = None, apply: bool = True) -> list[Repair]:
    """Repair one job (``terminal`` defaults to its status); the repairs made.

    A running job's runner passes its own ``study`` (read only: such a sweep
    writes records alone); otherwise the study is loaded from ``storage``.
    With ``apply`` False nothing changes: the repairs a finished job needs are
    what breaks the invariant (tests assert there are none).
    """
    records = services.records
    if terminal is None:
        terminal = records.get_job(job_id).status in JOB_TERMINAL
    assert study is None or not terminal, "a finished job's study is loaded here, not passed"
    storage = storage or open_study_storage(services.settings.database_url)
    study = study or _load_study(storage, job_id)
    frozen = {t.number: t for t in (study.get_trials(deepcopy=False) if study else [])
              if CONTINUED not in t.user_attrs}
    kept = {t.number: t.status for t in records.list_trials(job_id, limit=1_000_000)[0]}
    stored: set[int] = (_best_effort(f"listing job {job_id}'s artifacts", set[int](),
                           _trials_with_artifacts, services, job_id) if terminal else set())
    views = [_view(services, job_id, n, kept.get(n), frozen.get(n), n in stored)
             for n in sorted(set(frozen) | set(kept) | stored)]
    repairs = plan(views, terminal=terminal)
    if not apply:
        return repairs
    for repair in repairs:
        _apply(services, job_id, study, storage, repair)
    if repairs:
        log.warning("job %s: swept %d trial(s) left open or astray: %s", job_id, len(repairs),
                    ", ".join(str(r.number) for r in repairs))
    return repairs


def sweep_finished_jobs(services: Services) -> dict[str, int]:
    """Sweep every finished job that still holds an open trial; job id -> repairs made.

    Cheap per job (a count of open records, a look for open study trials), so it
    runs at every orchestrator start; a crash between closing the trials and
    ending the job leaves such a job.
    """
    records, storage = services.records, open_study_storage(services.settings.database_url)
    swept: dict[str, int] = {}
    offset = 0
    while True:
        jobs, total = records.list_jobs(offset=offset, limit=PAGE)
        done = [job.id for job in jobs if job.terminal]
        counts = records.trial_counts_for(done)
        for job_id in done:
            open_records = any(counts[job_id].get(s, 0) for s in OPEN_RECORD)
            if open_records or _open_in_study(storage, job_id):
                swept[job_id] = len(sweep_job(services, job_id, terminal=True,
                                              storage=storage))
        offset += len(jobs)
        if not jobs or offset >= total:
            return swept


def _load_study(storage: optuna.storages.RDBStorage, job_id: str) -> optuna.Study | None:
    try:
        return optuna.load_study(study_name=study_name(job_id), storage=storage)
    except KeyError:  # the job failed before its study was made
        return None


def _open_in_study(storage: optuna.storages.RDBStorage, job_id: str) -> bool:
    try:
        study_id = storage.get_study_id_from_name(study_name(job_id))
    except KeyError:
        return False
    return bool(storage.get_all_trials(study_id, deepcopy=False, states=OPEN_STUDY))


def _trials_with_artifacts(services: Services, job_id: str) -> set[int]:
    folder = job_prefix(job_id) + "trials/"
    numbers = set()
    for info in services.artifacts.list(folder):
        segment = info.key[len(folder):].split("/", 1)[0]
        if segment.isdigit():
            numbers.add(int(segment))
    return numbers


def _view(services: Services, job_id: str, number: int, record: str | None,
          frozen: FrozenTrial | None, artifacts: bool) -> TrialView:
    closing = record is None or record in OPEN_RECORD
    return TrialView(
        number, record=record, study=frozen.state if frozen else None,
        # a pareto study's two values are no total score: its result holds that
        value=frozen.values[0] if frozen and frozen.state == TrialState.COMPLETE
        and len(frozen.values) == 1 else None,
        # an enqueued (WAITING) trial holds its parameters as Optuna's fixed_params
        params=(frozen.params or frozen.system_attrs.get("fixed_params", {})) if frozen else {},
        result=_best_effort("reading a trial's result", None, _stored_result, services, job_id,
                            number) if closing else None,
        artifacts=artifacts)


def _apply(services: Services, job_id: str, study: optuna.Study | None,
           storage: optuna.storages.RDBStorage, repair: Repair) -> None:
    number = repair.number
    if repair.abandon:
        _best_effort("telling its worker to stop", None, services.control.abandon, job_id,
                     number, "closed by the sweeper: the job has ended")
    if study is not None and repair.fail_in_study:
        trial_id = storage.get_trial_id_from_study_id_trial_number(
            storage.get_study_id_from_name(study.study_name), number)
        with contextlib.suppress(UpdateFinishedTrialError):  # finished meanwhile: closed
            storage.set_trial_state_values(trial_id, TrialState.FAIL)
    if study is not None and repair.add_to_study:
        if len(study.get_trials(deepcopy=False)) == number:  # numbers are given in order
            study.add_trial(optuna.trial.create_trial(state=TrialState.FAIL,
                                                      user_attrs={SWEPT: True}))
        else:
            log.error("job %s: record %d has no study trial and cannot get one", job_id, number)
    if repair.record is not None:
        services.records.upsert_trial(job_id, number, **repair.record,
                                      finished_at=datetime.now(UTC))
    if repair.delete_artifacts:
        _best_effort("removing a trial's artifacts", 0, services.artifacts.delete,
                     trial_prefix(job_id, number))


def _stored_result(services: Services, job_id: str, number: int) -> TrialResult | None:
    """The worker's result in the control store; one that does not read (`ConfigError`)
    is logged by `_best_effort` and left out, as an unreachable store is."""
    found = services.control.result(job_id, number)
    return None if found is None else TrialResult.from_dict(found)


def _best_effort(what: str, default: T, call: Callable[..., T], *args: Any) -> T:
    """The control store and the artifacts help; the invariant lives in the records and the
    study, so when one of them is down the sweep goes on without it and logs what it could
    not do there (a worker told to stop, stray uploads removed)."""
    try:
        return call(*args)
    except Exception as exc:
        log.warning("sweeper: %s failed, going on without it: %s", what, exc)
        return default
