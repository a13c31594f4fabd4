"""OwnedStudyStorage: memory answers what the database says, and the database is never behind.

Every check reads the database through a separate, plain `RDBStorage` (its own
engine), on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import optuna
import pytest
from optuna.trial import FrozenTrial, TrialState

from onegin.job_config import OptimizationConfig
from onegin.search_space import SearchSpace
from onegin.study_storage import open_study_storage, study_name
from orchestrator.study import (
    make_sampler,
    open_study,
    owned_storage,
    trial_handle,
)


def config(**fields: Any) -> OptimizationConfig:
    return OptimizationConfig.from_dict({"dataset": "digits", "seed": 3, **fields})


def start(job_id: str, url: str, **fields: Any) -> tuple[optuna.Study, SearchSpace]:
    """The job's study as its orchestrator opens it, and the job's search space."""
    cfg = config(**fields)
    return open_study(job_id, cfg, url), cfg.space()


def facts(trial: FrozenTrial) -> tuple[Any, ...]:
    return (trial.number, trial.state, trial.values, trial.params, trial.distributions,
            trial.user_attrs, trial.system_attrs, trial.intermediate_values,
            trial.datetime_start is None, trial.datetime_complete is None)


@pytest.fixture
def reader(records_db_url: str) -> Iterator[optuna.storages.RDBStorage]:
    storage = open_study_storage(records_db_url)
    yield storage
    storage.engine.dispose()


def in_database(reader: optuna.storages.RDBStorage, job_id: str) -> list[FrozenTrial]:
    study_id = reader.get_study_id_from_name(study_name(job_id))
    return reader.get_all_trials(study_id, deepcopy=False)


def assert_agree(study: optuna.Study, reader: optuna.storages.RDBStorage, job_id: str) -> None:
    memory, stored = study.get_trials(deepcopy=False), in_database(reader, job_id)
    assert [facts(t) for t in memory] == [facts(t) for t in stored]
    for mine, theirs in zip(memory, stored, strict=True):
        for mine_at, theirs_at in ((mine.datetime_start, theirs.datetime_start),
                                   (mine.datetime_complete, theirs.datetime_complete)):
            if mine_at is not None and theirs_at is not None:
                assert abs((mine_at - theirs_at).total_seconds()) < 1.0


def ask(study: optuna.Study, space: SearchSpace) -> tuple[optuna.Trial, dict[str, Any]]:
    trial = study.ask()
    with owned_storage(study).params_written_together(trial._trial_id):
        params = space.suggest(trial)
    return trial, params


def test_memory_and_database_agree_after_every_write(
        records_db_url: str, reader: optuna.storages.RDBStorage) -> None:
    study, space = start("agree", records_db_url, concurrency=2,
                         initial_params=[{"conv_layers": 1}])
    assert_agree(study, reader, "agree")  # the enqueued initial trial: WAITING

    first, params = ask(study, space)
    assert params["conv_layers"] == 1  # the enqueued one comes first
    assert_agree(study, reader, "agree")
    first.report(0.5, 1)
    first.set_user_attr("note", "first")
    assert_agree(study, reader, "agree")
    study.tell(first, 0.7)
    assert_agree(study, reader, "agree")

    pruned, _ = ask(study, space)
    pruned.report(0.1, 1)
    study.tell(pruned, state=TrialState.PRUNED)
    failed, _ = ask(study, space)
    study.tell(failed, state=TrialState.FAIL)
    study.enqueue_trial(dict(failed.params), user_attrs={"retry_of": failed.number})
    retry, _ = ask(study, space)
    assert retry.user_attrs == {"retry_of": failed.number}
    assert retry.params == failed.params
    assert_agree(study, reader, "agree")
    states = [t.state for t in in_database(reader, "agree")]
    assert states == [TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL,
                      TrialState.RUNNING]


def test_params_reach_the_database_together_or_not_at_all(
        records_db_url: str, reader: optuna.storages.RDBStorage) -> None:
    study, _ = start("batch", records_db_url)
    storage = owned_storage(study)
    trial = study.ask()
    with storage.params_written_together(trial._trial_id):
        trial.suggest_int("units", 8, 64)
        trial.suggest_float("lr", 1e-4, 1e-1, log=True)
        assert in_database(reader, "batch")[0].params == {}  # not yet
        assert set(study.get_trials()[0].params) == {"units", "lr"}
    assert set(in_database(reader, "batch")[0].params) == {"units", "lr"}

    second = study.ask()
    with pytest.raises(RuntimeError, match="space broke"), \
            storage.params_written_together(second._trial_id):
        second.suggest_int("units", 8, 64)
        raise RuntimeError("space broke")
    assert in_database(reader, "batch")[1].params == {}
    assert study.get_trials()[1].params == {}  # memory forgot them too
    study.tell(second, state=TrialState.FAIL)
    assert_agree(study, reader, "batch")


def test_writes_refused_change_neither_memory_nor_database(
        records_db_url: str, reader: optuna.storages.RDBStorage) -> None:
    study, _ = start("refuse", records_db_url)
    storage = owned_storage(study)
    done = study.ask()
    done.suggest_int("units", 8, 64)
    study.tell(done, 0.5)
    with pytest.raises(optuna.exceptions.UpdateFinishedTrialError):
        storage.set_trial_param(done._trial_id, "extra", 1.0,
                                optuna.distributions.FloatDistribution(0, 2))

    other = study.ask()
    with pytest.raises(ValueError, match=r"[Cc]annot set different distribution"):
        other.suggest_categorical("units", ["a", "b"])  # "units" is an int elsewhere
    assert study.get_trials()[1].params == {}

    # another process (which only a broken claim allows) finishes the trial first:
    # the database refuses our write, and memory keeps what we knew
    reader.set_trial_state_values(other._trial_id, TrialState.FAIL)
    with pytest.raises(optuna.exceptions.UpdateFinishedTrialError):
        storage.set_trial_state_values(other._trial_id, TrialState.COMPLETE, [0.9])
    assert study.get_trials()[1].state is TrialState.RUNNING
    assert in_database(reader, "refuse")[1].state is TrialState.FAIL


def test_asks_on_many_threads_keep_every_trial_whole(
        records_db_url: str, reader: optuna.storages.RDBStorage) -> None:
    study, space = start("threads", records_db_url, concurrency=8)
    for value in range(12):  # past TPE's random start-up: the liar reads running trials
        trial, _ = ask(study, space)
        study.tell(trial, value / 12)
    together = threading.Barrier(8)

    def ask_together(_: int) -> int:
        together.wait()
        return ask(study, space)[0].number

    with ThreadPoolExecutor(8) as pool:
        numbers = list(pool.map(ask_together, range(8)))
    assert sorted(numbers) == list(range(12, 20))
    stored = in_database(reader, "threads")
    names = set(space.defaults())  # a whole trial: every parameter that applies, its rate too
    assert all(set(space.from_study(t.params)) == names for t in stored)
    assert all(len(t.params) == len(stored[0].params) for t in stored)
    assert_agree(study, reader, "threads")


def test_each_enqueued_trial_is_taken_by_one_ask_only(
        records_db_url: str, reader: optuna.storages.RDBStorage) -> None:
    """Asks on many threads pop the enqueued trials (warm starts, re-runs) once each."""
    starts = [{"conv_layers": 1, "filters": 16 + i} for i in range(6)]
    study, space = start("waiting", records_db_url, concurrency=8, initial_params=starts)
    together = threading.Barrier(8)

    def ask_together(_: int) -> tuple[int, int]:
        together.wait()
        trial, params = ask(study, space)
        return trial.number, params["filters"]

    with ThreadPoolExecutor(8) as pool:
        asked = list(pool.map(ask_together, range(8)))
    assert sorted(number for number, _ in asked) == list(range(8))
    assert sorted(filters for number, filters in asked if number < 6) == [16 + i for i in range(6)]
    assert not study.get_trials(states=(TrialState.WAITING,))
    assert_agree(study, reader, "waiting")


def test_a_resumed_orchestrator_reads_what_the_first_wrote(
        records_db_url: str, reader: optuna.storages.RDBStorage) -> None:
    first, space = start("resume", records_db_url, concurrency=2)
    for value in (0.2, 0.4):
        trial, _ = ask(first, space)
        trial.report(value, 1)
        first.tell(trial, value)
    ask(first, space)  # left running, as a killed orchestrator leaves it
    again, _ = start("resume", records_db_url, concurrency=2)
    assert [facts(t) for t in again.get_trials()] == [facts(t) for t in first.get_trials()]
    assert_agree(again, reader, "resume")


def test_tpe_proposes_what_it_proposes_over_optunas_own_storage(records_db_url: str) -> None:
    """Same seed, same history: the sampler sees the same study through either storage."""
    ours, space = start("same", records_db_url, concurrency=1, warm_start=False)
    plain = optuna.create_study(
        study_name="plain", storage=open_study_storage(records_db_url), direction="maximize",
        sampler=make_sampler(config(concurrency=1)), pruner=optuna.pruners.NopPruner())

    def score(params: dict[str, Any]) -> float:
        return sum(hash(str(v)) % 97 for v in params.values()) / 1000

    for _ in range(14):
        trial, params = ask(ours, space)
        ours.tell(trial, score(params))
        twin = plain.ask()
        assert space.suggest(twin) == params
        plain.tell(twin, score(params))


def test_an_ask_cut_short_is_completed_by_the_next_orchestrator(
        records_db_url: str, reader: optuna.storages.RDBStorage) -> None:
    """The runner that resumes a job suggests again for a trial asked but never sent:
    params it has are kept, and a killed runner's ask left none behind."""
    first, space = start("cut", records_db_url)
    trial = first.ask()
    with pytest.raises(KeyboardInterrupt), \
            owned_storage(first).params_written_together(trial._trial_id):
        space.suggest(trial)
        raise KeyboardInterrupt  # the process dies before the write
    assert in_database(reader, "cut")[0].params == {}

    again, _ = start("cut", records_db_url)
    (frozen,) = again.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    handle = trial_handle(again, frozen)
    with owned_storage(again).params_written_together(frozen._trial_id):
        params = space.suggest(handle)
    stored = in_database(reader, "cut")[0]
    assert stored.params and space.from_study(stored.params) == space.resolve(params)
    with owned_storage(again).params_written_together(frozen._trial_id):
        assert space.suggest(trial_handle(again, stored)) == params  # kept, not re-drawn
    assert_agree(again, reader, "cut")
