"""Orchestration overhead and parallel efficiency on PostgreSQL + Redis.

The trainer is replaced by a fixed-duration SLEEP (benchmarks/sleep_worker.py:
the real worker path — claim, heartbeat, events, upload — minus training).

1. Per-trial overhead = (orchestrator saw the result) − (trial dispatched) − sleep,
   p50/p95 around trial 10 and around trial 500 of ONE study (one worker, one at a time).
   Targets: under 50 ms, and not growing more than 2× from trial 10 to trial 500.
   Also reported: result told -> next trial sent, the wait for Optuna's ask, which
   runs on background threads and bounds throughput when trials are shorter than it.
2. Parallel efficiency for 1, 2, 4, 8 worker processes: ideal time (rounds × sleep)
   over the trial phase's wall time (first dispatch to last result), with as many
   trials as rounds × workers. Target ≥ 0.95 at 8. Also reported without the
   first round (whose asks all happen at once): what a long job sees.
3. Real training on digits: speedup of 2 workers (1 TensorFlow thread each) over 1
   worker (2 threads), same job.

Needs PostgreSQL and Redis: eval "$(bash scripts/services.sh)" first.

    .venv/bin/python benchmarks/orchestration.py [--long-trials 510] [--quick]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import pairwise
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

from benchmarks.common import environment, fresh_database, write
from onegin.celery_app import GPU_QUEUE, create_celery
from onegin.gil import handing_over_often
from onegin.job_config import OptimizationConfig
from onegin.local_workers import child_environ, worker_command
from onegin.records.migrate import upgrade
from onegin.services import Services, use_services
from onegin.settings import GPU_WORKER, Settings, load_settings
from onegin.statuses import JobStatus
from orchestrator.runner import JobRunner
from orchestrator.tasks import CeleryDispatcher

SLEEP_MODULE = "benchmarks.sleep_worker"
JOB = {"dataset": "digits", "epochs": 1, "pruner": "none", "objective": "simple",
       "plot_mode": "none"}


@contextmanager
def workers(settings: Settings, count: int, module: str | None, threads: int,
            sleep: float = 0.0) -> Iterator[None]:
    """``count`` worker processes, returned only once every one answers a ping."""
    import signal
    import subprocess

    env = child_environ(settings, GPU_WORKER) | {
        "ONEGIN_TF_THREADS": str(threads), "SLEEP_TRAINER_SECONDS": str(sleep),
        "TF_CPP_MIN_LOG_LEVEL": "2"}
    names = [f"bench{i}-{uuid.uuid4().hex[:6]}" for i in range(count)]
    procs = [subprocess.Popen(worker_command(n, GPU_QUEUE, module=module), env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True) for n in names]
    app = create_celery(settings)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # readiness poll of servers we started
        replies = app.control.ping(timeout=1.0) or []
        if len(replies) >= count:
            break
    try:
        yield
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=60)


def run(services: Services, **job: Any) -> tuple[str, float]:
    config = OptimizationConfig.from_dict(JOB | job)
    record = services.records.create_job(config.to_dict())
    runner = JobRunner(record.id, services, CeleryDispatcher(create_celery(services.settings)),
                       poll=0.2)
    start = time.perf_counter()
    with handing_over_often():  # as the orchestrator's Celery task runs it
        status = runner.run().status
    assert status == JobStatus.COMPLETED, status
    return record.id, time.perf_counter() - start


def trial_span(services: Services, job_id: str) -> float:
    """First dispatch to last result: the trial phase, without study set-up and the final copy."""
    trials, _ = services.records.list_trials(job_id, limit=1_000_000)
    starts = [t.queued_at for t in trials if t.queued_at]
    ends = [t.finished_at for t in trials if t.finished_at]
    return (max(ends) - min(starts)).total_seconds()


def steady_span(services: Services, job_id: str, workers: int) -> float:
    """Last result of the first round (trials 0..workers-1) to the last result: no start-up."""
    trials, _ = services.records.list_trials(job_id, limit=1_000_000)
    first = max(t.finished_at for t in trials if t.number < workers and t.finished_at)
    last = max(t.finished_at for t in trials if t.finished_at)
    return (last - first).total_seconds()


def overheads(services: Services, job_id: str, sleep: float) -> list[float]:
    trials, _ = services.records.list_trials(job_id, limit=1_000_000)
    return [(t.finished_at - t.queued_at).total_seconds() - sleep for t in trials
            if t.finished_at and t.queued_at]


def idle_gaps(services: Services, job_id: str) -> list[float]:
    """One worker, one trial at a time: result told -> next trial sent, i.e. waiting for an ask."""
    trials, _ = services.records.list_trials(job_id, limit=1_000_000)
    done = sorted(((t.number, t.queued_at, t.finished_at) for t in trials
                   if t.finished_at and t.queued_at), key=lambda row: row[0])
    return [(b[1] - a[2]).total_seconds() for a, b in pairwise(done)]


def percentiles(values: Sequence[float]) -> dict[str, float]:
    return {"p50_ms": float(np.percentile(values, 50) * 1000),
            "p95_ms": float(np.percentile(values, 95) * 1000)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--long-trials", type=int, default=510)
    parser.add_argument("--short-sleep", type=float, default=0.05)
    parser.add_argument("--sleep", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--quick", action="store_true", help="smaller runs, for a smoke test")
    args = parser.parse_args()
    if args.quick:
        args.long_trials, args.sleep, args.rounds = 40, 0.5, 2
    pg, redis_url = os.environ["ONEGIN_TEST_POSTGRES_URL"], os.environ["ONEGIN_TEST_REDIS_URL"]
    redis_db = redis_url.rsplit("/", 1)[0] + "/13"  # a db no test flushes
    home = Path(tempfile.mkdtemp(prefix="onegin-orch-bench-"))
    with fresh_database(pg) as db_url:
        settings = load_settings(env={}, overrides={
            "home": str(home), "database_url": db_url, "broker_url": redis_db,
            "events_url": redis_db, "artifacts_url": f"file://{home}/artifacts",
            "heartbeat_interval": 1.0, "heartbeat_timeout": 30.0, "offline": True})
        upgrade(db_url)
        import redis

        redis.Redis.from_url(redis_db).flushdb()
        services = Services(settings)
        use_services(services)

        with workers(settings, 1, SLEEP_MODULE, 1, args.short_sleep):
            job_id, _ = run(services, trials=args.long_trials, concurrency=1)
        spent = overheads(services, job_id, args.short_sleep)
        early = percentiles(spent[5:15])
        late_at = min(500, len(spent) - 10)
        late = percentiles(spent[late_at - 5:late_at + 5])
        growth = late["p50_ms"] / early["p50_ms"]
        gaps = idle_gaps(services, job_id)
        gap_early, gap_late = percentiles(gaps[5:15]), percentiles(gaps[late_at - 5:late_at + 5])

        efficiency: dict[int, float] = {}
        steady: dict[int, float] = {}
        for count in (1, 2, 4, 8):
            with workers(settings, count, SLEEP_MODULE, 1, args.sleep):
                job_id, _ = run(services, trials=args.rounds * count, concurrency=count)
            efficiency[count] = args.rounds * args.sleep / trial_span(services, job_id)
            steady[count] = (args.rounds - 1) * args.sleep / steady_span(services, job_id, count)

        real: dict[int, float] = {}
        cores = os.cpu_count() or 2
        real_job = {"trials": 6, "epochs": 3, "plot_mode": "none", "objective": "health",
                    "params": {"conv_layers": 2, "filters": 32}}
        for count in (1, 2):
            with workers(settings, count, None, max(1, cores // count)):
                run(services, trials=count, epochs=1, concurrency=count)  # warm: TF import
                _, real[count] = run(services, concurrency=count, **real_job)
        speedup = real[1] / real[2]

    payload = {
        "environment": environment(), "trainer": "fixed-duration sleep (stand-in)",
        "overhead": {"trials": len(spent), "sleep_s": args.short_sleep,
                     "around_trial_10": early, f"around_trial_{late_at}": late,
                     "growth_p50": growth, "target_ms": 50, "target_growth": 2.0,
                     "idle_between_trials_around_10": gap_early,
                     f"idle_between_trials_around_{late_at}": gap_late},
        "parallel_efficiency": {"sleep_s": args.sleep, "rounds": args.rounds,
                                "by_workers": efficiency, "target_at_8": 0.95,
                                "after_first_round_by_workers": steady},
        "real_training_digits": {"seconds_1_worker_2_threads": real[1],
                                 "seconds_2_workers_1_thread": real[2], "speedup": speedup,
                                 "job": real_job},
    }
    rows = [
        ("overhead @10 p50 / p95 ms", f"{early['p50_ms']:.1f} / {early['p95_ms']:.1f}"),
        (f"overhead @{late_at} p50 / p95 ms", f"{late['p50_ms']:.1f} / {late['p95_ms']:.1f}"),
        ("overhead growth (p50)", f"{growth:.2f}× (target <= 2×)"),
        ("told -> next sent @10 / @late p50 ms (ask-bound)",
         f"{gap_early['p50_ms']:.1f} / {gap_late['p50_ms']:.1f}"),
        *((f"parallel efficiency, {k} workers (after round 1)",
           f"{v:.3f} ({steady[k]:.3f})") for k, v in efficiency.items()),
        ("digits, 1 worker × 2 threads, s", f"{real[1]:.1f}"),
        ("digits, 2 workers × 1 thread, s", f"{real[2]:.1f}"),
        ("speedup 2 workers / 1", f"{speedup:.2f}×"),
    ]
    write("orchestration", payload, rows)


if __name__ == "__main__":
    main()
