"""The sweeper: its decisions alone (pure), then its repairs on real SQLite and PostgreSQL
(records and Optuna study in one database), the local control store and artifacts."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import optuna
import pytest
from optuna.distributions import FloatDistribution
from optuna.trial import TrialState

from onegin.artifacts import trial_prefix
from onegin.celery_app import ORCHESTRATOR_QUEUE
from onegin.services import Services
from onegin.settings import load_settings
from onegin.study_storage import open_study_storage, study_name
from onegin.trial_message import TrialResult
from orchestrator.study import CONTINUED
from orchestrator.sweeper import Repair, TrialView, plan, sweep_finished_jobs, sweep_job
from tests.integration.harness import Process

RUNNING, WAITING, COMPLETE, PRUNED, FAIL = (TrialState.RUNNING, TrialState.WAITING,
                                            TrialState.COMPLETE, TrialState.PRUNED,
                                            TrialState.FAIL)


def one(view: TrialView, *, terminal: bool = True) -> Repair | None:
    repairs = plan([view], terminal=terminal)
    assert len(repairs) <= 1
    return repairs[0] if repairs else None


# ---- decisions -------------------------------------------------------------------


def test_a_closed_trial_in_agreement_needs_nothing() -> None:
    for record, study in (("completed", COMPLETE), ("pruned", PRUNED), ("failed", FAIL),
                          ("lost", FAIL), ("cancelled", FAIL)):
        assert one(TrialView(0, record=record, study=study,
                             artifacts=record in ("completed", "pruned"))) is None


def test_a_trial_left_running_is_failed_in_the_study_and_cancelled_in_the_records() -> None:
    repair = one(TrialView(3, record="running", study=RUNNING, artifacts=True))
    assert repair is not None
    assert repair.abandon and repair.fail_in_study and repair.delete_artifacts
    assert repair.record is not None and repair.record["status"] == "cancelled"
    assert repair.record["error"] == "closed as its job ended: it was still running"


def test_a_study_trial_without_a_record_gets_one_with_its_parameters() -> None:
    repair = one(TrialView(4, study=WAITING, params={"x": 1.0}))
    assert repair is not None and repair.fail_in_study
    assert repair.record == {"status": "cancelled", "params": {"x": 1.0},
                             "error": "closed as its job ended: it was still waiting"}


def test_a_record_the_study_already_settled_takes_the_studys_verdict() -> None:
    result = TrialResult(status="completed", total_score=0.8, val_accuracy=0.9,
                         artifact_prefix="jobs/j/trials/1/", epochs_run=3)
    done = one(TrialView(1, record="running", study=COMPLETE, value=0.8, result=result,
                         artifacts=True))
    assert done is not None and not done.fail_in_study and not done.delete_artifacts
    assert done.record is not None and done.record["status"] == "completed"
    assert done.record["total_score"] == 0.8 and done.record["metrics"]["epochs_run"] == 3
    no_result = one(TrialView(1, record="running", study=COMPLETE, value=0.7))
    assert no_result is not None and no_result.record is not None
    assert no_result.record["total_score"] == 0.7
    failed = one(TrialView(2, record="running", study=FAIL,
                           result=TrialResult(status="failed", error="bad data: x.png")))
    assert failed is not None and failed.record == {"status": "failed",
                                                    "error": "bad data: x.png"}
    pruned = one(TrialView(5, record="queued", study=PRUNED))
    assert pruned is not None and pruned.record is not None
    assert pruned.record["status"] == "pruned"


def test_a_closed_record_with_a_running_study_trial_only_fixes_the_study() -> None:
    repair = one(TrialView(6, record="cancelled", study=RUNNING))
    assert repair is not None and repair.fail_in_study and repair.record is None


def test_a_record_without_a_study_trial_gets_a_failed_one() -> None:
    repair = one(TrialView(7, record="cancelled"))
    assert repair is not None and repair.add_to_study and repair.record is None


def test_only_completed_and_pruned_trials_keep_artifacts() -> None:
    for record in ("failed", "lost", "cancelled"):
        repair = one(TrialView(0, record=record, study=FAIL, artifacts=True))
        assert repair is not None and repair.delete_artifacts


def test_for_a_running_job_only_what_the_study_settled_is_written() -> None:
    views = [TrialView(0, record="running", study=RUNNING),  # its runner adopts it
             TrialView(1, study=WAITING),  # its runner asks it
             TrialView(2, record="running", study=COMPLETE, value=0.5),
             TrialView(3, study=FAIL, params={"x": 2.0}),
             TrialView(4, record="lost", study=FAIL, artifacts=True)]
    repairs = plan(views, terminal=False)
    assert [r.number for r in repairs] == [2, 3]
    assert all(not (r.abandon or r.fail_in_study or r.add_to_study or r.delete_artifacts)
               for r in repairs)
    assert repairs[1].record is not None and repairs[1].record["status"] == "cancelled"


# ---- repairs on the real stores ----------------------------------------------------


@pytest.fixture
def services(records_db_url: str, tmp_path: Path) -> Services:
    settings = load_settings(env={}, overrides={"home": str(tmp_path / "home"),
                                                "database_url": records_db_url})
    services = Services(settings)
    from onegin.records.migrate import upgrade

    upgrade(records_db_url)
    return services


DIST = {"x": FloatDistribution(0.0, 1.0)}


def _study(services: Services, job_id: str) -> optuna.Study:
    return optuna.create_study(study_name=study_name(job_id), direction="maximize",
                               storage=open_study_storage(services.settings.database_url))


def _upload(services: Services, job_id: str, number: int) -> None:
    services.artifacts.put_bytes(trial_prefix(job_id, number) + "metrics.json", b"{}")


def crashed_job(services: Services, status: str = "failed") -> str:
    """A job whose orchestrator died mid-way, then marked ``status``: every kind of mess."""
    records = services.records
    job = records.create_job({"dataset": "digits", "trials": 4})
    study = _study(services, job.id)
    study.add_trial(optuna.trial.create_trial(  # 0: borrowed from a continued job
        params={"x": 0.1}, distributions=DIST, value=0.3, user_attrs={CONTINUED: "old#0"}))
    done = study.ask(DIST)  # 1: completed everywhere, with artifacts
    study.tell(done, 0.9)
    records.upsert_trial(job.id, 1, status="completed", total_score=0.9, params={"x": 0.5})
    _upload(services, job.id, 1)
    study.ask(DIST)  # 2: running, half uploaded
    records.upsert_trial(job.id, 2, status="running", params={"x": 0.2})
    _upload(services, job.id, 2)
    told = study.ask(DIST)  # 3: its worker's result told to the study, not to the records
    study.tell(told, 0.7)
    records.upsert_trial(job.id, 3, status="running", params={"x": 0.3})
    services.control.finish(job.id, 3, {"status": "completed", "total_score": 0.7,
                                        "val_accuracy": 0.75, "epochs_run": 2,
                                        "artifact_prefix": trial_prefix(job.id, 3)})
    _upload(services, job.id, 3)
    study.enqueue_trial({"x": 0.4})  # 4: a re-run enqueued, never asked, no record
    records.upsert_trial(job.id, 5, status="cancelled")  # 5: a record the study lacks
    path = ["running", "cancelling"] if status == "cancelled" else ["running"]
    for step in [*path, status]:
        records.update_job(job.id, status=step)
    return job.id


def test_sweeping_a_crashed_job_restores_the_invariant(services: Services) -> None:
    job_id = crashed_job(services)
    assert sweep_job(services, job_id, apply=False)  # what breaks it, before
    repairs = sweep_job(services, job_id)
    assert sorted(r.number for r in repairs) == [2, 3, 4, 5]
    trials, _ = services.records.list_trials(job_id)
    assert {t.number: t.status for t in trials} == {
        1: "completed", 2: "cancelled", 3: "completed", 4: "cancelled", 5: "cancelled"}
    settled = services.records.get_trial(job_id, 3)
    assert settled.total_score == 0.7 and settled.val_accuracy == 0.75
    # a trained trial's metrics are all written, those its result lacks as None
    assert settled.metrics is not None and settled.metrics["epochs_run"] == 2
    assert {k for k, v in settled.metrics.items() if v is not None} == {"epochs_run"}
    assert services.records.get_trial(job_id, 4).params == {"x": 0.4}
    study = optuna.load_study(study_name=study_name(job_id),
                              storage=open_study_storage(services.settings.database_url))
    states = {t.number: t.state for t in study.trials}
    assert states == {0: COMPLETE, 1: COMPLETE, 2: FAIL, 3: COMPLETE, 4: FAIL, 5: FAIL}
    assert not services.artifacts.list(trial_prefix(job_id, 2))  # never closed: removed
    assert services.artifacts.list(trial_prefix(job_id, 1))
    assert services.artifacts.list(trial_prefix(job_id, 3))
    assert services.control.claim(job_id, 2, "late-worker", ttl=60).name == "FINISHED"
    assert sweep_job(services, job_id) == []  # a second sweep finds nothing
    assert sweep_job(services, job_id, apply=False) == []


def test_at_start_only_finished_jobs_left_open_are_swept(services: Services) -> None:
    messy = crashed_job(services, status="cancelled")
    records = services.records
    tidy = records.create_job({"dataset": "digits"})
    records.update_job(tidy.id, status="failed", error="the job could not start: dataset gone")
    live = records.create_job({"dataset": "digits"})
    records.update_job(live.id, status="running")
    live_study = _study(services, live.id)
    live_study.ask(DIST)
    records.upsert_trial(live.id, 0, status="running")
    assert sweep_finished_jobs(services) == {messy: 4}
    assert records.get_trial(live.id, 0).status == "running"  # its runner's, not ours
    assert live_study.trials[0].state == RUNNING
    assert sweep_finished_jobs(services) == {}



def test_an_orchestrator_sweeps_finished_jobs_as_it_starts(services: Services,
                                                          tmp_path: Path) -> None:
    """The real orchestrator worker process: its worker_ready hook runs the sweeper."""
    messy = crashed_job(services)
    log = tmp_path / "orchestrator.log"
    process = Process(services.settings, ORCHESTRATOR_QUEUE, "orch-sweep", log)
    try:
        deadline = time.monotonic() + 90
        while sweep_job(services, messy, apply=False):  # a process starting: poll, with a limit
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
    finally:
        process.kill(signal.SIGTERM)
    assert services.records.get_trial(messy, 2).status == "cancelled"
