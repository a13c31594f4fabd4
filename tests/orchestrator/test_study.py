"""A job's study: warm starts first and marked, seeds that replay, continuing a finished job."""

from __future__ import annotations

from typing import Any

import optuna
import pytest
from optuna.study import StudyDirection
from optuna.trial import TrialState

from onegin.job_config import OptimizationConfig
from onegin.records import RecordStore
from onegin.scoring import HEALTH_COMPONENTS, ScoringWeights, health_score, total_score
from onegin.submission import check_continue_from
from orchestrator.study import (
    CONTINUED,
    ORIGIN,
    open_study,
    owned_storage,
    startup_trials,
)


def config(**fields: Any) -> OptimizationConfig:
    return OptimizationConfig.from_dict({"dataset": "digits", "seed": 3, **fields})


def ask(study: optuna.Study, cfg: OptimizationConfig) -> tuple[optuna.Trial, dict[str, Any]]:
    """As the runner asks: the space suggests, the params are written in one go."""
    trial = study.ask()
    with owned_storage(study).params_written_together(trial._trial_id):
        params = cfg.space().suggest(trial)
    return trial, cfg.space().resolve(params)


def score(params: dict[str, Any]) -> float:
    """A made-up but deterministic objective, so runs with one seed must agree."""
    return -abs(params["learning_rate"] - 1e-3) * 100 - abs(params["dropout"] - 0.2)


def run(job_id: str, url: str, cfg: OptimizationConfig, n: int) -> list[dict[str, Any]]:
    study = open_study(job_id, cfg, url)
    seen = []
    for _ in range(n):
        trial, params = ask(study, cfg)
        study.tell(trial, score(params))
        seen.append(params)
    return seen


def test_warm_starts_come_first_and_are_marked(records_db_url: str) -> None:
    cfg = config(trials=8)
    warm = cfg.space().warm_starts()
    assert 1 <= len(warm) <= 3
    study = open_study("warm", cfg, records_db_url)
    for expected in warm:
        trial, params = ask(study, cfg)
        assert trial.user_attrs[ORIGIN] == "warm_start"
        assert params == cfg.space().resolve(expected)
        study.tell(trial, 0.5)
    trial, _ = ask(study, cfg)
    assert ORIGIN not in trial.user_attrs  # then the sampler


def test_the_users_starting_points_replace_the_warm_starts(records_db_url: str) -> None:
    mine = {"conv_layers": 1, "optimizer": "sgd", "learning_rate": 0.05}
    cfg = config(trials=8, initial_params=[mine])
    study = open_study("mine", cfg, records_db_url)
    trial, params = ask(study, cfg)
    assert trial.user_attrs[ORIGIN] == "initial"
    assert {k: params[k] for k in mine} == mine
    study.tell(trial, 0.5)
    trial, _ = ask(study, cfg)
    assert ORIGIN not in trial.user_attrs
    assert open_study("cold", config(warm_start=False), records_db_url).trials == []


def test_warm_starts_never_exceed_the_budget(records_db_url: str) -> None:
    study = open_study("one", config(trials=1), records_db_url)
    assert len(study.get_trials(states=(TrialState.WAITING,))) == 1


def test_a_seed_replays_the_same_parameters(records_db_url: str) -> None:
    n = startup_trials(8) + 4  # past the random start, into TPE's own proposals
    first = run("seed-a", records_db_url, config(seed=11, trials=8), n)
    again = run("seed-b", records_db_url, config(seed=11, trials=8), n)
    other = run("seed-c", records_db_url, config(seed=12, trials=8), n)
    assert first == again
    assert first != other


def test_startup_trials_leave_most_of_a_small_budget_to_tpe() -> None:
    assert [startup_trials(b) for b in (1, 8, 12, 30, 100, 1000)] == [3, 3, 3, 6, 10, 10]


def finished_job(records: RecordStore, url: str, **fields: Any) -> str:
    """A finished job of 4 trials (3 completed, 1 pruned) with records as a runner leaves them."""
    cfg = config(trials=4, objective="simple", warm_start=False, **fields)
    job = records.create_job(cfg.to_dict())
    study = open_study(job.id, cfg, url)
    health = dict.fromkeys(HEALTH_COMPONENTS, 0.5)
    for number in range(4):
        trial, params = ask(study, cfg)
        accuracy = 0.5 + 0.1 * number
        trial.report(accuracy, 1)
        if number == 3:
            study.tell(trial, state=TrialState.PRUNED)
            records.upsert_trial(job.id, number, status="pruned", params=params,
                                 val_accuracy=accuracy)
        else:
            study.tell(trial, accuracy)
            records.upsert_trial(job.id, number, status="completed", params=params,
                                 val_accuracy=accuracy, health=health, total_score=accuracy)
    records.update_job(job.id, status="running")
    records.update_job(job.id, status="completed")
    return job.id


def test_continuing_adds_the_finished_trials_rescored_without_rerunning(
        records_db_url: str) -> None:
    records = RecordStore(records_db_url, upgrade=True)
    try:
        earlier = finished_job(records, records_db_url)
        weights = ScoringWeights.from_mapping({"accuracy": 0.5})
        cfg = config(trials=4, objective="health", weights={"accuracy": 0.5},
                     continue_from=earlier)
        check_continue_from(cfg, records)
        study = open_study("later", cfg, records_db_url,
                           records.list_trials(earlier)[0])
        added = [t for t in study.trials if CONTINUED in t.user_attrs]
        assert [t.state for t in added] == [TrialState.COMPLETE] * 3 + [TrialState.PRUNED]
        assert [t.user_attrs[CONTINUED] for t in added] == [f"{earlier}#{n}" for n in range(4)]
        health = dict.fromkeys(HEALTH_COMPONENTS, 0.5)
        assert [t.value for t in added[:3]] == pytest.approx(
            [total_score("health", 0.5 + 0.1 * n, health, weights) for n in range(3)])
        trial, _ = ask(study, cfg)  # the job's own trials follow; none is re-run
        assert (trial.number, trial.user_attrs[ORIGIN]) == (4, "warm_start")
    finally:
        records.close()


def test_a_pareto_study_maximises_accuracy_and_health_and_continues_a_job_on_both(
        records_db_url: str) -> None:
    records = RecordStore(records_db_url, upgrade=True)
    try:
        earlier = finished_job(records, records_db_url)
        cfg = config(trials=8, objective="pareto", continue_from=earlier, warm_start=False)
        check_continue_from(cfg, records)
        study = open_study("pareto-later", cfg, records_db_url, records.list_trials(earlier)[0])
        assert study.directions == [StudyDirection.MAXIMIZE] * 2
        added = [t for t in study.trials if CONTINUED in t.user_attrs]
        health = health_score(dict.fromkeys(HEALTH_COMPONENTS, 0.5), cfg.weights)
        assert [t.values for t in added[:3]] == [
            pytest.approx([0.5 + 0.1 * n, health]) for n in range(3)]
        # no curve: TPE would read a pruned trial's through study.direction, which fails
        assert added[3].state == TrialState.PRUNED and added[3].intermediate_values == {}
        trial, _ = ask(study, cfg)  # TPE's turn (3 startup trials are in): it reads them all
        assert ORIGIN not in trial.user_attrs
        study.tell(trial, [0.65, 0.9])
        assert sorted(t.number for t in study.best_trials) == [2, 4]

        warm_cfg = config(trials=8, objective="pareto")
        warm = open_study("pareto-warm", warm_cfg, records_db_url)
        trial, _ = ask(warm, warm_cfg)
        assert trial.user_attrs[ORIGIN] == "warm_start"
        warm.tell(trial, [0.8, 0.6])
        assert warm.best_trials[0].values == [0.8, 0.6]
    finally:
        records.close()


@pytest.mark.parametrize(("fields", "reason"), [
    ({"continue_from": "nosuchjob"}, "no job"),
    ({"dataset": "sms_spam"}, "searched dataset 'digits'"),
    ({"space": "wide"}, "searched the 'default' space"),
])
def test_continuing_is_refused_naming_the_field(
        records_db_url: str, fields: dict[str, Any], reason: str) -> None:
    from onegin.errors import ConfigError

    records = RecordStore(records_db_url, upgrade=True)
    try:
        earlier = finished_job(records, records_db_url)
        with pytest.raises(ConfigError) as err:
            check_continue_from(config(**({"continue_from": earlier} | fields)), records)
        assert err.value.field == "continue_from" and reason in err.value.reason
        running = records.create_job(config().to_dict()).id
        with pytest.raises(ConfigError, match="still queued"):
            check_continue_from(config(continue_from=running), records)
    finally:
        records.close()


def test_the_median_pruner_first_judges_after_a_third_of_the_epochs() -> None:
    from orchestrator.study import make_pruner

    pruner = make_pruner("median", epochs=3)
    assert isinstance(pruner, optuna.pruners.MedianPruner)
    study = optuna.create_study(direction="maximize", pruner=pruner)
    for value in (0.9, 0.9, 0.9, 0.9, 0.9):  # five finished peers: the pruner may judge
        trial = study.ask()
        for epoch in (1, 2, 3):
            trial.report(value, epoch)
        study.tell(trial, value)
    behind = study.ask()
    behind.report(0.1, 1)
    assert not behind.should_prune()  # epoch 1 of 3: the warm-up
    behind.report(0.1, 2)
    assert behind.should_prune()
