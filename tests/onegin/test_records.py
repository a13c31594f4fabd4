"""Contract tests for the record store: the same tests on SQLite and on PostgreSQL.

Each PostgreSQL test gets a schema of its own (through ``search_path``) inside the
session's database, so every test starts from an empty database on both backends.
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
import re
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
import yaml
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from onegin.errors import ConfigError
from onegin.records import (
    JOB_STATUSES,
    JOB_TRANSITIONS,
    TRIAL_STATUSES,
    InvalidField,
    InvalidTransition,
    RecordNotFound,
    RecordStore,
    RecordStoreUnavailable,
    check_job_transition,
    open_record_store,
)
from onegin.records.job_filter import JobFilter
from onegin.records.migrate import VERSION_TABLE, current, upgrade
from onegin.records.models import Base
from onegin.statuses import JobStatus
from tests.fixtures.services import free_port

HEAD = "0007"  # the newest migration
CONFIG = {"dataset": "digits", "budget": {"trials": 4}, "weights": {"accuracy": 0.7}}


@pytest.fixture
def db_url(records_db_url: str) -> str:
    return records_db_url


@pytest.fixture
def store(db_url: str) -> Iterator[RecordStore]:
    records = open_record_store(db_url, upgrade=True)
    yield records
    records.close()


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _scalar(url: str, sql: str, **params: Any) -> Any:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar()
    finally:
        engine.dispose()


# -- migrations --------------------------------------------------------------------------

def test_upgrade_creates_the_tables_and_indexes(db_url: str) -> None:
    assert current(db_url) is None
    upgrade(db_url)
    assert {"onegin_jobs", "onegin_trials", "onegin_tokens", "onegin_sessions",
            VERSION_TABLE} <= _tables(db_url)
    assert current(db_url) == HEAD
    engine = sa.create_engine(db_url)
    try:
        inspector = sa.inspect(engine)
        jobs = {ix["name"]: ix["column_names"] for ix in inspector.get_indexes("onegin_jobs")}
        trials = {ix["name"]: ix["column_names"] for ix in inspector.get_indexes("onegin_trials")}
    finally:
        engine.dispose()
    assert jobs["ix_onegin_jobs_created_at"] == ["created_at"]
    assert jobs["ix_onegin_jobs_owner"] == ["owner"]
    assert trials["ix_onegin_trials_job_id_status"] == ["job_id", "status"]
    upgrade(db_url)  # a second run is a no-op
    assert current(db_url) == HEAD


def test_models_match_the_migrations(db_url: str) -> None:
    upgrade(db_url)
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            ours = Base.metadata.tables
            context = MigrationContext.configure(conn, opts={
                "include_name": lambda name, kind, _: kind != "table" or name in ours,
                "compare_type": True,
            })
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def _use_optuna(url: str, study_name: str, n_trials: int) -> int:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = optuna.storages.RDBStorage(url)
    try:
        study = optuna.create_study(storage=storage, study_name=study_name, load_if_exists=True)
        study.optimize(lambda trial: trial.suggest_float("x", 0, 1), n_trials=n_trials)
        return len(study.trials)
    finally:
        storage.engine.dispose()


def _use_records(url: str) -> None:
    records = RecordStore(url)
    try:
        job = records.create_job(CONFIG)
        records.upsert_trial(job.id, 0, status="running")
        assert records.trial_counts(job.id)["running"] == 1
    finally:
        records.close()


def test_coexists_with_optuna_when_we_migrate_first(db_url: str) -> None:
    upgrade(db_url)
    assert _use_optuna(db_url, "job-a", 2) == 2
    upgrade(db_url)
    _use_records(db_url)
    assert _use_optuna(db_url, "job-a", 1) == 3
    assert current(db_url) == HEAD
    assert _scalar(db_url, "SELECT count(*) FROM alembic_version") == 1  # Optuna's own


def test_coexists_with_optuna_when_optuna_migrates_first(db_url: str) -> None:
    assert _use_optuna(db_url, "job-b", 2) == 2
    upgrade(db_url)
    _use_records(db_url)
    assert _use_optuna(db_url, "job-b", 1) == 3
    assert "trials" in _tables(db_url)  # Optuna's table, untouched beside ours


def _upgrade_after(url: str, barrier: Any) -> None:
    barrier.wait(timeout=60)
    upgrade(url)


def _run_together(target: Any, args: Sequence[tuple[Any, ...]]) -> None:
    """Start one spawned process per args tuple, released together by a barrier."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(len(args))
    procs = [ctx.Process(target=target, args=(*a, barrier)) for a in args]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=120)
    assert [proc.exitcode for proc in procs] == [0] * len(procs)


def test_concurrent_upgrades_of_an_empty_database_both_succeed(db_url: str) -> None:
    _run_together(_upgrade_after, [(db_url,), (db_url,)])
    assert current(db_url) == HEAD


# -- jobs --------------------------------------------------------------------------------

def test_create_and_get_job(store: RecordStore) -> None:
    job = store.create_job(CONFIG, owner="token-a")
    assert re.fullmatch(r"[0-9a-f]{12}", job.id)
    assert (job.owner, job.status, job.config) == ("token-a", "queued", CONFIG)
    assert job.created_at.tzinfo is UTC
    assert abs(datetime.now(UTC) - job.created_at) < timedelta(minutes=1)
    assert store.get_job(job.id) == job


def test_a_comparisons_runs_name_it_and_keep_their_kind(store: RecordStore) -> None:
    plain = store.create_job(CONFIG)
    assert (plain.kind, plain.parent_id) == ("search", None)
    comparison = store.create_job(CONFIG, kind="compare")
    runs = [store.create_job(CONFIG, parent_id=comparison.id) for _ in range(2)]
    assert store.list_children(comparison.id) == runs
    assert store.list_children(plain.id) == []
    with pytest.raises(InvalidField, match="kind"):
        store.create_job(CONFIG, kind="bake")
    with pytest.raises(InvalidField, match="kind"):
        store.update_job(comparison.id, kind="search")  # fixed at creation
    store.delete_job(comparison.id)  # its runs stay, as jobs of their own
    assert [store.get_job(r.id).parent_id for r in runs] == [comparison.id] * 2


def test_get_missing_job_raises(store: RecordStore) -> None:
    with pytest.raises(RecordNotFound, match="job nope not found"):
        store.get_job("nope")


def test_list_jobs_pages_newest_first_with_total_and_owner_filter(store: RecordStore) -> None:
    made = [store.create_job({"n": i}, owner="alice" if i % 2 else "bob") for i in range(5)]
    newest_first = [job.id for job in reversed(made)]
    page, total = store.list_jobs(limit=2)
    assert ([j.id for j in page], total) == (newest_first[:2], 5)
    page, total = store.list_jobs(offset=4, limit=2)
    assert ([j.id for j in page], total) == (newest_first[4:], 5)
    page, total = store.list_jobs(owner="alice")
    assert ([j.id for j in page], total) == ([made[3].id, made[1].id], 2)
    assert store.list_jobs(owner="carol") == ([], 0)
    with pytest.raises(InvalidField, match="limit"):
        store.list_jobs(limit=0)


def test_list_jobs_searches_and_filters_the_config_on_both_databases(
        store: RecordStore) -> None:
    def job(name: str, dataset: str, objective: str | None, **moves: str) -> str:
        config = {"name": name, "dataset": dataset} | ({} if objective is None
                                                       else {"objective": objective})
        made = store.create_job(config, owner="alice",
                                kind="search" if objective else "compare")
        for status in moves.get("path", "").split():
            store.update_job(made.id, status=status)
        return made.id

    digits = job("Digits 50% run", "digits", "health", path="running completed")
    mnist = job("mnist_small", "mnist", "simple", path="running")
    spam = job("spam", "upload:ab12", "pareto")
    compared = job("compare digits", "digits", None)
    store.create_job({"name": "digits of bob", "dataset": "digits"}, owner="bob")

    def found(**selected: Any) -> list[str]:
        jobs, total = store.list_jobs(owner="alice", selected=JobFilter(**selected))
        assert total == len(jobs)
        return sorted(j.id for j in jobs)

    assert found() == sorted([digits, mnist, spam, compared])
    assert found(text="DIGITS") == sorted([digits, compared])  # name or dataset, any case
    assert found(text=mnist[3:9]) == [mnist]  # the id
    assert found(text="50%") == [digits]  # % and _ are literal, not wildcards
    assert found(text="t_s") == [mnist]
    assert found(text="%") == [digits]
    assert found(text="ab12") == [spam]
    assert found(statuses=("running", "completed")) == sorted([digits, mnist])
    assert found(datasets=("digits", "mnist")) == sorted([digits, mnist, compared])
    assert found(objectives=("simple", "pareto")) == sorted([mnist, spam])
    assert found(kinds=("compare",)) == [compared]
    assert found(text="digits", kinds=("search",), statuses=("completed",)) == [digits]
    assert found(datasets=("cifar10",)) == []


def test_update_job_stamps_start_and_finish(store: RecordStore) -> None:
    job = store.create_job(CONFIG)
    running = store.update_job(job.id, status="running")
    assert running.started_at is not None and running.finished_at is None
    done = store.update_job(job.id, status="completed", best_trial_number=3, best_score=0.91,
                            best_accuracy=0.95)
    assert done.started_at == running.started_at and done.finished_at is not None
    assert (done.best_trial_number, done.best_score, done.best_accuracy) == (3, 0.91, 0.95)
    assert store.get_job(job.id) == done


def test_timestamps_come_back_as_the_same_instant_in_utc(store: RecordStore) -> None:
    job = store.create_job(CONFIG)
    beat = datetime(2030, 1, 2, 3, 4, 5, 678901, tzinfo=timezone(timedelta(hours=5)))
    updated = store.update_job(job.id, orchestrator_heartbeat_at=beat)
    stored = store.get_job(job.id).orchestrator_heartbeat_at
    assert stored == beat and stored is not None and stored.tzinfo is UTC
    assert updated.orchestrator_heartbeat_at == beat
    with pytest.raises(InvalidField, match="orchestrator_heartbeat_at: must be a timezone-aware"):
        store.update_job(job.id, orchestrator_heartbeat_at=datetime(2030, 1, 1))


@pytest.mark.parametrize("current_status", JOB_STATUSES)
@pytest.mark.parametrize("requested", JOB_STATUSES)
def test_job_transition_rules(current_status: str, requested: str) -> None:
    legal = {
        ("queued", "running"), ("queued", "cancelling"), ("queued", "cancelled"),
        ("queued", "failed"), ("running", "cancelling"), ("running", "completed"),
        ("running", "failed"), ("cancelling", "cancelled"), ("cancelling", "failed"),
        ("cancelling", "completed"),
    }
    if current_status == requested or (current_status, requested) in legal:
        check_job_transition(current_status, requested)
    else:
        with pytest.raises(InvalidTransition, match=f"from {current_status} to {requested}"):
            check_job_transition(current_status, requested)
    assert {(a, b) for a, moves in JOB_TRANSITIONS.items() for b in moves} == legal


def test_unknown_status_is_rejected() -> None:
    with pytest.raises(InvalidField, match="status: must be one of"):
        check_job_transition("queued", "paused")


@pytest.mark.parametrize("path", [
    ["running", "completed"],
    ["running", "cancelling", "cancelled"],
    ["cancelling", "completed"],
    ["cancelled"],
    ["running", "running", "failed", "failed"],
])
def test_legal_status_paths_are_stored(store: RecordStore, path: list[str]) -> None:
    job = store.create_job(CONFIG)
    for status in path:
        assert store.update_job(job.id, status=status).status == status
    assert store.get_job(job.id).status == path[-1]


@pytest.mark.parametrize(("path", "illegal"), [
    (["running", "completed"], "running"),
    (["failed"], "queued"),
    (["running"], "queued"),
    (["running", "cancelling"], "running"),
    ([], "completed"),
])
def test_illegal_transition_stores_nothing(store: RecordStore, path: list[str],
                                           illegal: str) -> None:
    job = store.create_job(CONFIG)
    for status in path:
        store.update_job(job.id, status=status)
    before = store.get_job(job.id)
    with pytest.raises(InvalidTransition) as caught:
        store.update_job(job.id, status=illegal, error="should not be stored")
    assert (caught.value.current, caught.value.requested) == (before.status, illegal)
    assert store.get_job(job.id) == before


def test_the_store_refuses_a_move_the_transitions_table_forbids(store: RecordStore) -> None:
    job = store.create_job(CONFIG)
    store.update_job(job.id, status=JobStatus.RUNNING)
    done = store.update_job(job.id, status=JobStatus.COMPLETED)
    assert JobStatus.RUNNING not in JOB_TRANSITIONS[JobStatus.COMPLETED]
    with pytest.raises(InvalidTransition, match=r"^status: cannot go from completed to running$"):
        store.update_job(job.id, status=JobStatus.RUNNING)
    assert store.get_job(job.id) == done


def test_cancel_ends_a_job_nobody_started_and_asks_a_started_one_to_stop(
        store: RecordStore) -> None:
    queued = store.create_job(CONFIG)
    cancelled = store.cancel_job(queued.id)
    assert cancelled.status == "cancelled" and cancelled.finished_at is not None
    assert store.get_job(queued.id) == cancelled
    running = store.create_job(CONFIG)
    store.update_job(running.id, status="running", waiting={"since": "x", "gpu_queue_depth": 2})
    assert store.cancel_job(running.id).status == "cancelling"
    assert store.cancel_job(running.id).status == "cancelling"  # again: no change
    done = store.update_job(running.id, status="cancelled")
    assert done.waiting is None  # a finished job waits for nothing
    with pytest.raises(InvalidTransition, match="from cancelled to cancelling"):
        store.cancel_job(running.id)
    with pytest.raises(RecordNotFound):
        store.cancel_job("000000000000")


def test_a_cancel_racing_the_orchestrators_start_has_exactly_one_winner(
        store: RecordStore) -> None:
    """Either the job started and is now cancelling, or it never started and is cancelled."""
    outcomes = []
    for _ in range(10):
        job = store.create_job(CONFIG)
        barrier = threading.Barrier(2)
        started: list[bool] = []

        def start(job_id: str = job.id, started: list[bool] = started,
                  barrier: threading.Barrier = barrier) -> None:
            barrier.wait(timeout=30)
            try:
                store.update_job(job_id, status="running")
                started.append(True)
            except InvalidTransition:
                started.append(False)

        thread = threading.Thread(target=start)
        thread.start()
        barrier.wait(timeout=30)
        cancel = store.cancel_job(job.id)
        thread.join(timeout=30)
        final = store.get_job(job.id).status
        assert (started[0], final) in ((True, "cancelling"), (False, "cancelled"))
        assert cancel.status == final
        outcomes.append(started[0])


@pytest.mark.parametrize(("fields", "name", "reason"), [
    ({"colour": "red"}, "colour", "unknown field"),
    ({"config": {}}, "config", "cannot be changed"),
    ({"id": "abc"}, "id", "cannot be changed"),
    ({"created_at": datetime.now(UTC)}, "created_at", "cannot be changed"),
    ({"best_score": "high"}, "best_score", "must be a number"),
    ({"best_trial_number": -1}, "best_trial_number", "non-negative integer"),
    ({"status": None}, "status", "must not be null"),
    ({"error": 42}, "error", "must be a string"),
])
def test_bad_update_names_the_field_and_stores_nothing(
        store: RecordStore, fields: dict[str, Any], name: str, reason: str) -> None:
    job = store.create_job(CONFIG)
    with pytest.raises(InvalidField, match=reason) as caught:
        store.update_job(job.id, best_accuracy=0.5, **fields)
    assert caught.value.field == name
    assert store.get_job(job.id) == job


def test_update_missing_job_raises(store: RecordStore) -> None:
    with pytest.raises(RecordNotFound):
        store.update_job("000000000000", status="running")


def test_delete_job_cascades_to_its_trials(store: RecordStore, db_url: str) -> None:
    keep, gone = store.create_job(CONFIG), store.create_job(CONFIG)
    for job in (keep, gone):
        for number in range(3):
            store.upsert_trial(job.id, number)
    store.delete_job(gone.id)
    with pytest.raises(RecordNotFound):
        store.get_job(gone.id)
    with pytest.raises(RecordNotFound):
        store.get_trial(gone.id, 0)
    count = "SELECT count(*) FROM onegin_trials WHERE job_id = :job"
    assert _scalar(db_url, count, job=gone.id) == 0
    assert _scalar(db_url, count, job=keep.id) == 3
    with pytest.raises(RecordNotFound):
        store.delete_job(gone.id)


# -- trials ------------------------------------------------------------------------------

def test_upsert_trial_is_idempotent_and_merges_fields(store: RecordStore) -> None:
    job = store.create_job(CONFIG)
    first = store.upsert_trial(job.id, 0, params={"units": 64}, status="running",
                               worker="gpu-1", task_id="t-1")
    assert (first.status, first.queued_at.tzinfo, first.intermediate) == ("running", UTC, {})
    assert store.upsert_trial(job.id, 0, params={"units": 64}, status="running",
                              worker="gpu-1", task_id="t-1") == first
    merged = store.upsert_trial(job.id, 0, status="completed", val_accuracy=0.9,
                                metrics={"val_accuracy": 0.9, "epochs_run": 3},
                                intermediate={1: 0.8, 2: 0.9})
    assert (merged.worker, merged.params, merged.queued_at) == ("gpu-1", {"units": 64},
                                                                      first.queued_at)
    assert (merged.status, merged.val_accuracy) == ("completed", 0.9)
    assert merged.intermediate == {"1": 0.8, "2": 0.9}
    assert store.upsert_trial(job.id, 0) == merged  # no fields: a no-op read
    assert store.list_trials(job.id)[1] == 1
    assert store.get_trial(job.id, 0) == merged


def test_trial_json_is_made_plain(store: RecordStore) -> None:
    job = store.create_job(CONFIG)
    trial = store.upsert_trial(job.id, 0, metrics={
        "val_loss": float("nan"), "test_loss": np.float32(0.25), "epochs_run": np.int64(3),
        "timings": (1.5, float("inf")),
    }, health_score=float("nan"))
    assert trial.to_dict()["metrics"] == {"val_loss": None, "test_loss": 0.25, "epochs_run": 3,
                                          "timings": [1.5, None]}
    assert trial.health_score is None
    with pytest.raises(InvalidField, match="metrics: holds object") as caught:
        store.upsert_trial(job.id, 0, metrics={"x": object()})
    assert caught.value.field == "metrics"


@pytest.mark.parametrize(("fields", "name"), [
    ({"status": "exploded"}, "status"),
    ({"queued_at": "yesterday"}, "queued_at"),
    ({"flavour": 1}, "flavour"),
    ({"retry_of": "three"}, "retry_of"),
    ({"params": None}, "params"),
])
def test_bad_trial_fields_are_rejected(store: RecordStore, fields: dict[str, Any],
                                       name: str) -> None:
    job = store.create_job(CONFIG)
    with pytest.raises(InvalidField) as caught:
        store.upsert_trial(job.id, 0, **fields)
    assert caught.value.field == name
    assert store.list_trials(job.id) == ([], 0)


def test_trial_of_missing_job_raises(store: RecordStore) -> None:
    with pytest.raises(RecordNotFound):
        store.upsert_trial("000000000000", 0)
    with pytest.raises(RecordNotFound):
        store.trial_counts("000000000000")


def test_list_trials_by_number_with_paging_and_status(store: RecordStore) -> None:
    job = store.create_job(CONFIG)
    for number in (3, 0, 4, 1, 2):
        store.upsert_trial(job.id, number, status="completed" if number % 2 else "failed")
    page, total = store.list_trials(job.id, offset=1, limit=3)
    assert ([t.number for t in page], total) == ([1, 2, 3], 5)
    page, total = store.list_trials(job.id, status="completed")
    assert ([t.number for t in page], total) == ([1, 3], 2)
    with pytest.raises(InvalidField, match="status"):
        store.list_trials(job.id, status="done")


def test_trial_fields_are_some_fields_of_every_trial_by_number(store: RecordStore) -> None:
    job, other = store.create_job(CONFIG), store.create_job(CONFIG)
    store.upsert_trial(job.id, 1, status="pruned", intermediate={"1": 0.5}, total_score=0.5)
    store.upsert_trial(job.id, 0, status="completed", params={"units": 8}, health={"a": 1.0})
    store.upsert_trial(other.id, 0, status="failed")
    assert store.trial_fields(job.id, ("number", "status", "params", "health", "intermediate",
                                       "total_score")) == [
        {"number": 0, "status": "completed", "params": {"units": 8}, "health": {"a": 1.0},
         "intermediate": {}, "total_score": None},
        {"number": 1, "status": "pruned", "params": {}, "health": None,
         "intermediate": {"1": 0.5}, "total_score": 0.5}]
    with pytest.raises(InvalidField, match="owner"):
        store.trial_fields(job.id, ("number", "owner"))
    with pytest.raises(RecordNotFound):
        store.trial_fields("nosuchjob", ("number",))


def test_trial_counts(store: RecordStore) -> None:
    job = store.create_job(CONFIG)
    other = store.create_job(CONFIG)
    for number, status in enumerate(["completed", "completed", "pruned", "lost", "running"]):
        store.upsert_trial(job.id, number, status=status)
    store.upsert_trial(other.id, 0, status="failed")
    counts = store.trial_counts(job.id)
    assert set(counts) == set(TRIAL_STATUSES)
    assert {k: v for k, v in counts.items() if v} == {"completed": 2, "pruned": 1, "lost": 1,
                                                       "running": 1}


def test_running_trials_across_jobs(store: RecordStore) -> None:
    job, other = store.create_job(CONFIG), store.create_job(CONFIG)
    for number, status in enumerate(["completed", "running", "queued", "running"]):
        store.upsert_trial(job.id, number, status=status)
    store.upsert_trial(other.id, 0, status="running")
    running = {(t.job_id, t.number) for t in store.running_trials()}
    assert running == {(job.id, 1), (job.id, 3), (other.id, 0)}
    assert len(store.running_trials(limit=2)) == 2


def test_records_are_frozen_copies_that_serialise_to_json(store: RecordStore) -> None:
    job = store.create_job({"weights": {"health": {"a": 0.5}}, "datasets": ["digits"]})
    trial = store.upsert_trial(job.id, 0, params={"units": 32})
    with pytest.raises(dataclasses.FrozenInstanceError):
        job.status = "running"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        trial.status = "running"  # type: ignore[misc]
    job.config["weights"]["health"]["a"] = 1.0  # a private copy: the store is unchanged
    trial.params["units"] = 64
    assert store.get_job(job.id).config["weights"]["health"]["a"] == 0.5
    assert store.get_trial(job.id, 0).params == {"units": 32}
    data = store.get_job(job.id).to_dict()
    data["config"]["datasets"].append("mnist")  # to_dict is a deep copy too
    again = json.loads(json.dumps(store.get_job(job.id).to_dict()))
    assert again["config"] == {"weights": {"health": {"a": 0.5}}, "datasets": ["digits"]}
    assert datetime.fromisoformat(again["created_at"]) == job.created_at
    assert yaml.safe_load(yaml.safe_dump(store.get_trial(job.id, 0).params)) == {"units": 32}
    assert json.loads(json.dumps(trial.to_dict()))["queued_at"] == trial.queued_at.isoformat()


def _write_trials(url: str, job_id: str, numbers: list[int], barrier: Any) -> None:
    records = RecordStore(url)
    barrier.wait(timeout=60)
    for number in numbers:
        records.upsert_trial(job_id, number, status="running", worker=f"pid-{os.getpid()}")
        records.upsert_trial(job_id, number, status="completed", val_accuracy=number / 100)
        records.update_job(job_id, orchestrator_heartbeat_at=datetime.now(UTC))
    records.close()


def test_two_processes_write_trials_of_one_job_at_once(store: RecordStore, db_url: str) -> None:
    job = store.create_job(CONFIG)
    store.update_job(job.id, status="running")
    _run_together(_write_trials, [(db_url, job.id, list(range(0, 60, 2))),
                                  (db_url, job.id, list(range(1, 60, 2)))])
    trials, total = store.list_trials(job.id)
    assert total == 60 and [t.number for t in trials] == list(range(60))
    assert all(t.status == "completed" and t.val_accuracy == t.number / 100 for t in trials)
    assert len({t.worker for t in trials}) == 2


def test_threads_share_one_store(store: RecordStore) -> None:
    job = store.create_job(CONFIG)
    errors: list[BaseException] = []

    def write(first: int) -> None:
        try:
            for number in range(first, first + 20):
                store.upsert_trial(job.id, number, status="running")
                store.list_trials(job.id, limit=5)
        except BaseException as exc:  # reported below: a thread's exception is otherwise lost
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(k * 100,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and store.trial_counts(job.id)["running"] == 80


# -- availability ------------------------------------------------------------------------

def test_ping(store: RecordStore) -> None:
    store.ping()


def test_unreachable_database_is_reported_without_its_password() -> None:
    url = f"postgresql+psycopg2://onegin:hunter2secret@127.0.0.1:{free_port()}/nowhere"
    records = RecordStore(url)
    with pytest.raises(RecordStoreUnavailable) as caught:
        records.ping()
    assert "hunter2secret" not in str(caught.value)
    assert "hunter2secret" not in repr(records)


@pytest.mark.parametrize(("url", "reason"), [
    ("mysql://onegin:hunter2@localhost/onegin", "unsupported database 'mysql'"),
    ("hunter2 is not a url", "is not a database URL"),
])
def test_resolver_names_the_field_on_a_bad_url(url: str, reason: str) -> None:
    with pytest.raises(ConfigError, match=f"database_url.*{reason}") as caught:
        open_record_store(url)
    assert "hunter2" not in str(caught.value)  # a URL may hold a password
