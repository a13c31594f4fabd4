"""A cluster of the fault tests' own: PostgreSQL, Redis and S3 (behind a gate) that the
tests kill, restart and cut; two GPU-worker processes; an orchestrator process per test.

Tiny jobs (digits, a small CNN), heartbeats every 0.5 s and a 6 s heartbeat timeout keep
the folder within minutes. The GPU workers run `tests.faults.fault_worker`: the real
task, with an out-of-memory stand-in for models of 256 dense units or more.
"""

from __future__ import annotations

import contextlib
import os
import signal
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import redis

from onegin.celery_app import GPU_QUEUE, ORCHESTRATOR_QUEUE, create_celery
from onegin.job_config import OptimizationConfig
from onegin.records import JOB_TERMINAL
from onegin.services import Services, use_services
from onegin.settings import Settings, load_settings
from onegin.submission import submit_job
from tests.faults.oom import OOM_ENV
from tests.faults.servers import MotoServer, PostgresCluster, RedisServer, TcpGate
from tests.integration.harness import EventWatcher, Process, of_type

WORKERS = 2
OOM_DENSE_UNITS = 256
OUTAGE_LIMIT = 60.0  # the S3 outage (30 s) and the Redis one (10 s) stay within it


@dataclass
class FaultCluster:
    settings: Settings
    services: Services
    postgres: PostgresCluster
    redis: RedisServer
    s3_gate: TcpGate
    home: Path
    workers: list[Process] = field(default_factory=list)
    jobs: list[str] = field(default_factory=list)  # submitted by the running test

    def start_worker(self, index: int) -> Process:
        return Process(self.settings, GPU_QUEUE, f"gpu{index}-{uuid.uuid4().hex[:4]}",
                       self.home / f"gpu{index}.log", module="tests.faults.fault_worker",
                       reaped=False)  # the cluster's own: its fixture stops them

    def start_orchestrator(self, log: Path, settings: Settings | None = None) -> Process:
        return Process(settings or self.settings, ORCHESTRATOR_QUEUE, log.stem, log)

    def submit(self, config: OptimizationConfig) -> tuple[str, EventWatcher]:
        """A job sent to the orchestrator queue, and a watcher of its events."""
        job = self.services.records.create_job(config.to_dict())
        self.jobs.append(job.id)
        submit_job(create_celery(self.settings), job.id)
        return job.id, EventWatcher(self.services.events, job.id)

    def bring_back(self) -> None:
        """Every server up again (a failed test may have left one down)."""
        if not self.postgres.running:
            self.postgres.start()
        if not self.redis.running:
            self.redis.start()
        if not self.s3_gate.open:
            self.s3_gate.restore()

    def worker_running(self, pid: int) -> Process:
        """The worker process whose pool child ``pid`` is (a trial's ``worker`` says it):
        each worker leads its own process group."""
        group = os.getpgid(pid)
        return next(w for w in self.workers if w.proc.pid == group)


@pytest.fixture(scope="session")
def fault_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultCluster]:
    home = tmp_path_factory.mktemp("faults")
    postgres, redis_server, moto = PostgresCluster(), RedisServer(), MotoServer()
    gate = TcpGate(moto.port)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ACCESS_KEY_ID", "test")
        env.setenv("AWS_SECRET_ACCESS_KEY", "test")
        env.setenv("AWS_DEFAULT_REGION", "us-east-1")
        env.setenv(OOM_ENV, str(OOM_DENSE_UNITS))  # read by the workers' fault stand-in
        try:
            postgres.start()
            postgres.create_database()
            redis_server.start()
            settings = load_settings(env={}, overrides={
                "home": str(home), "database_url": postgres.url,
                "broker_url": redis_server.url, "events_url": redis_server.url,
                "artifacts_url": f"s3://onegin-faults-{uuid.uuid4().hex[:6]}/onegin",
                "s3_endpoint_url": gate.endpoint, "heartbeat_interval": 0.5,
                "heartbeat_timeout": 6.0, "outage_limit": OUTAGE_LIMIT, "offline": True,
                "tf_threads": 1,
            })
            from onegin.records.migrate import upgrade

            upgrade(settings.database_url)
            services = Services(settings)
            use_services(services)
            cluster = FaultCluster(settings, services, postgres, redis_server, gate, home)
            cluster.workers = [cluster.start_worker(i) for i in range(WORKERS)]
            yield cluster
        finally:
            for worker in getattr(locals().get("cluster"), "workers", []):
                worker.kill(signal.SIGTERM)
            gate.cut()
            moto.stop()
            redis_server.remove()
            postgres.remove()


@pytest.fixture
def cluster(fault_cluster: FaultCluster) -> Iterator[FaultCluster]:
    """The cluster with its servers up and both workers alive; after the test, its jobs
    are ended (cancelled, else marked failed) so that none runs into the next test."""
    for index, worker in enumerate(fault_cluster.workers):
        if worker.proc.poll() is not None:  # killed by an earlier test
            fault_cluster.workers[index] = fault_cluster.start_worker(index)
    fault_cluster.jobs = []
    yield fault_cluster
    _end_leftover_jobs(fault_cluster)


def _end_leftover_jobs(cluster: FaultCluster) -> None:
    cluster.bring_back()
    records = cluster.services.records
    for job_id in cluster.jobs:
        if records.get_job(job_id).status in JOB_TERMINAL:
            continue
        with contextlib.suppress(Exception):
            records.update_job(job_id, status="cancelling")
        with contextlib.suppress(TimeoutError):
            EventWatcher(cluster.services.events, job_id).wait_for(of_type("job_finished"),
                                                                   timeout=60)
        if records.get_job(job_id).status not in JOB_TERMINAL:
            records.update_job(job_id, status="failed", error="ended by the test's teardown")
    client = redis.Redis.from_url(cluster.settings.broker_url)
    client.delete(GPU_QUEUE, ORCHESTRATOR_QUEUE)  # duplicates and re-sends of ended jobs
    client.close()


@pytest.fixture
def orchestrator(cluster: FaultCluster, tmp_path: Path) -> Iterator[Process]:
    """One orchestrator process (a Celery worker on the orchestrator queue) for the test."""
    process = cluster.start_orchestrator(tmp_path / "orchestrator.log")
    yield process
    _end_leftover_jobs(cluster)
    process.kill(signal.SIGTERM)
