"""Every way a job ends leaves it closed: no trial queued or running in the records or
RUNNING/WAITING in its study, records and study one to one (the sweeper finds nothing).

The real `JobRunner` on the records database of both kinds (SQLite, PostgreSQL), the
embedded broker, events and control store, and NO GPU worker: these ends need none.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import optuna
import pytest

from onegin.celery_app import create_celery
from onegin.cli import main as cli
from onegin.job_config import OptimizationConfig
from onegin.services import Services, use_services
from onegin.settings import load_settings
from onegin.study_storage import open_study_storage, study_name
from orchestrator.runner import JobRunner
from orchestrator.sweeper import sweep_job
from orchestrator.tasks import CeleryDispatcher
from tests.fixtures.services import free_port
from tests.integration.harness import EventWatcher, in_thread, of_type, tiny_config


def make_services(home: Path, database_url: str, **settings: Any) -> Services:
    services = Services(load_settings(env={}, overrides={
        "home": str(home), "database_url": database_url, "offline": True,
        "heartbeat_interval": 0.2, "heartbeat_timeout": 2.0, **settings}))
    from onegin.records.migrate import upgrade

    upgrade(database_url)
    use_services(services)
    return services


@pytest.fixture
def services(tmp_path: Path, records_db_url: str) -> Services:
    return make_services(tmp_path / "home", records_db_url)


def runner(services: Services, job_id: str) -> JobRunner:
    return JobRunner(job_id, services, CeleryDispatcher(create_celery(services.settings)),
                     poll=0.1)


def assert_closed(services: Services, job_id: str) -> list[Any]:
    """The invariant of a terminal job; its trial records."""
    job = services.records.get_job(job_id)
    assert job.terminal and job.waiting is None
    assert sweep_job(services, job_id, apply=False) == []
    trials, _ = services.records.list_trials(job_id, limit=1000)
    assert not [t for t in trials if t.status in ("queued", "running")]
    try:
        study = optuna.load_study(study_name=study_name(job_id),
                                  storage=open_study_storage(services.settings.database_url))
    except KeyError:
        assert trials == []
        return trials
    assert [t.number for t in study.trials] == [t.number for t in trials]
    assert all(t.state.is_finished() for t in study.trials)
    return trials


def test_a_dataset_removed_before_the_job_starts_fails_it_naming_the_file(
        services: Services, tmp_path: Path) -> None:
    texts = tmp_path / "reviews.tsv"
    texts.write_text("".join(f"{'good' if i % 2 else 'bad'}\treview number {i}\n"
                             for i in range(40)))
    config = OptimizationConfig.from_dict({"dataset": f"tsv:{texts}", "trials": 2})
    job = services.records.create_job(config.to_dict())
    texts.unlink()  # gone before any orchestrator took the job
    ended = runner(services, job.id).run()
    assert ended.status == "failed"
    assert ended.error is not None and ended.error.startswith("the job could not start: ")
    assert str(texts) in ended.error
    assert assert_closed(services, job.id) == []
    events, _ = services.events.read(job.id)
    assert events[-1]["type"] == "job_finished" and events[-1]["data"]["status"] == "failed"
    assert cli(["cancel", job.id, "--set", f"home={services.settings.home}",
                "--set", f"database_url={services.settings.database_url}"]) == 0


def test_cancel_of_a_queued_job_needs_no_orchestrator(services: Services,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    job = services.records.create_job(tiny_config(trials=2).to_dict())
    assert cli(["cancel", job.id, "--set", f"home={services.settings.home}",
                "--set", f"database_url={services.settings.database_url}"]) == 0
    assert f"job {job.id}: cancelled" in capsys.readouterr().out
    assert services.records.get_job(job.id).status == "cancelled"
    # the orchestrator that takes its message later opens nothing for it
    assert runner(services, job.id).run().status == "cancelled"
    assert assert_closed(services, job.id) == []


def test_a_job_no_worker_takes_says_so_then_fails_past_the_timeout(
        tmp_path: Path, records_db_url: str) -> None:
    services = make_services(tmp_path / "home", records_db_url, worker_wait_timeout=3.0)
    job = services.records.create_job(tiny_config(trials=4, concurrency=2).to_dict())
    watcher = EventWatcher(services.events, job.id)
    with in_thread(runner(services, job.id).run) as box:
        said = watcher.wait_for(lambda e: e["type"] == "job_status"
                                and bool(e["data"].get("waiting")), timeout=30)
        waiting = said["data"]["waiting"]
        assert waiting["gpu_queue_depth"] == 2  # both trials sent, none taken
        recorded = services.records.get_job(job.id).waiting
        assert recorded is not None and recorded["since"] == waiting["since"]
        watcher.wait_for(of_type("job_finished"), timeout=60)
    ended = box[0]
    assert ended.status == "failed"
    assert ended.error == ("no worker took its trials within 3s "
                           "(2 trial(s) waiting in the GPU queue)")
    trials = assert_closed(services, job.id)
    assert trials and all(t.status == "cancelled" and t.started_at is None for t in trials)


def test_a_broker_down_past_the_outage_limit_fails_the_job_and_closes_its_trials(
        tmp_path: Path, records_db_url: str) -> None:
    """The broker is unreachable, so sending the first trial fails, again and again for
    the outage limit: the job fails naming the broker, and the trials it had asked are
    closed in the study and the records."""
    services = make_services(tmp_path / "home", records_db_url, outage_limit=1.0,
                             broker_url=f"redis://127.0.0.1:{free_port()}/0")
    job = services.records.create_job(tiny_config(trials=4, concurrency=2).to_dict())
    ended = runner(services, job.id).run()
    assert (ended.status, ended.error) == ("failed", "Redis unreachable for 1 s")
    trials = assert_closed(services, job.id)
    assert trials and {t.status for t in trials} == {"cancelled"}
