"""The one invariant every fault test ends with: records, study and artifacts agree.

When a job is terminal: it spent exactly its budget (or failed cleanly, saying why);
no trial of it is queued or running in the records, nor RUNNING in its Optuna study;
the records hold exactly the trials the study started (a WAITING trial, enqueued and
never asked, is not a trial yet); each record's status matches its study trial's
state; every counted trial's artifacts are stored, and a trial that never closed has
none, unless its record keeps them as partial (``artifact_prefix`` set).
"""

from __future__ import annotations

from dataclasses import dataclass

import optuna
from optuna.trial import TrialState

from onegin.artifacts import best_prefix, trial_prefix
from onegin.records import JOB_TERMINAL, JobRecord, TrialRecord
from onegin.services import Services
from onegin.study_storage import open_study_storage, study_name
from orchestrator.policy import COUNTED

STUDY_STATE = {  # what each record status is in the study
    "completed": TrialState.COMPLETE, "pruned": TrialState.PRUNED, "failed": TrialState.FAIL,
    "lost": TrialState.FAIL, "cancelled": TrialState.FAIL,
}
TRIAL_FILES = ("model.keras", "metrics.json", "history.json")


@dataclass(frozen=True)
class Checked:
    job: JobRecord
    trials: list[TrialRecord]

    def by_status(self, status: str) -> list[TrialRecord]:
        return [t for t in self.trials if t.status == status]


def assert_job_invariant(services: Services, job_id: str, *, budget: int | None = None,
                         failed_naming: str | None = None) -> Checked:
    """Check the invariant; with ``budget``: completed with exactly that many counted
    trials; with ``failed_naming``: failed with an error that contains it."""
    records = services.records
    job = records.get_job(job_id)
    assert job.status in JOB_TERMINAL, f"job {job_id} is still {job.status}"
    trials, total = records.list_trials(job_id, limit=100_000)
    assert len(trials) == total
    summary = [(t.number, t.status, t.error) for t in trials]
    if budget is not None:
        assert job.status == "completed", (job.status, job.error, summary)
        counted = [t for t in trials if t.status in COUNTED]
        assert len(counted) == budget, summary
    if failed_naming is not None:
        assert job.status == "failed", (job.status, summary)
        assert failed_naming in (job.error or ""), job.error

    still_open = [(t.number, t.status) for t in trials if t.status in ("queued", "running")]
    assert not still_open, f"trials left open in the records: {still_open}"
    study = optuna.load_study(study_name=study_name(job_id),
                              storage=open_study_storage(services.settings.database_url))
    started = {t.number: t.state for t in study.get_trials(deepcopy=False)
               if t.state != TrialState.WAITING}
    running = sorted(n for n, state in started.items() if state == TrialState.RUNNING)
    assert not running, f"trials left RUNNING in the study: {running}"
    assert {t.number for t in trials} == set(started), (
        f"records {sorted(t.number for t in trials)} != study {sorted(started)}")
    disagree = [(t.number, t.status, started[t.number].name) for t in trials
                if STUDY_STATE[t.status] != started[t.number]]
    assert not disagree, f"records and study disagree: {disagree}"

    store = services.artifacts
    for trial in trials:
        prefix = trial_prefix(job_id, trial.number)
        keys = {info.key for info in store.list(prefix)}
        if trial.status in COUNTED:
            assert trial.artifact_prefix == prefix, (trial.number, trial.artifact_prefix)
            missing = [name for name in TRIAL_FILES if prefix + name not in keys]
            assert not missing, f"trial {trial.number} lacks {missing}"
        else:
            assert not keys or trial.artifact_prefix, (
                f"trial {trial.number} ({trial.status}) never closed, yet left "
                f"{sorted(keys)[:3]}…")
    if job.status == "completed" and job.best_trial_number is not None:
        assert store.exists(best_prefix(job_id) + "model.keras")
    return Checked(job, trials)
