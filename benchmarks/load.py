"""The web app under load: gunicorn serving Socket.IO watchers and REST readers of a running job.

Loopback only, on the running PostgreSQL (a private database) and Redis (db 14
unless told otherwise), everything started here and stopped at the end:

- the web app exactly as ``deploy/entrypoint.sh web`` runs it (that script starts it):
  gunicorn, one worker of each ``--worker-class`` in turn (gevent: a greenlet per
  connection; gthread: 400 threads), 75 s keep-alive, access log, auth required (one
  API token). With several classes, or ``--rounds``, the runs alternate (gthread,
  gevent, gthread, …) so the machine's other load falls on each alike;
- a real job: the real orchestrator and GPU-worker processes (Celery), whose events
  reach the browsers through onegin's own `RedisEventBus` and Flask-SocketIO's
  message queue. By default the trainer is a SLEEP (``benchmarks/sleep_worker.py``,
  a stand-in, named so): the worker's whole path runs (claim, heartbeat, events,
  upload), and each trial reports 4 progress events a second, the rate the real
  trainer's throttle allows. Real training would put two TensorFlow processes on
  the cores the web app is measured on; ``--trainer digits`` runs it anyway;
- 100 watchers (python-socketio clients, spread over 4 processes of their own) that
  connect and join the job's room as the dashboard does, and a REST client at a steady
  50 requests/s, round-robin over the job list, the job, its trials page and its study.

Reported: errors (HTTP errors, requests with no response, Socket.IO connect and
join errors, disconnects, events a watcher never got, gunicorn worker restarts),
event latency p50/p95 (the event's ``ts``, set when it is published, to its arrival
in a watcher; after the warm-up), REST latency, and the RSS growth of the gunicorn
processes (master and worker, summed, sampled every second): the mean over the last
``--window`` seconds against the mean over the ``--window`` seconds after the warm-up;
and the web processes' CPU, with the kernel's share of it (a thread's wake-up is
kernel time) and the time they waited, runnable, for a CPU. Targets: 0 errors, event
p95 <= 100 ms, RSS growth < 10 %.

A machine shared with other busy work is not a web pod with a CPU share of its own:
there gevent's one thread gets one run-queue slot among many and is starved, where
gthread's many threads take more. ``--web-nice -10`` gives the web app's session
(kernel autogroup) the weight a pod's CPU request would; both are worth measuring.

Needs PostgreSQL and Redis (ONEGIN_TEST_POSTGRES_URL, ONEGIN_TEST_REDIS_URL):

    .venv/bin/python benchmarks/load.py                    # 10 minutes
    .venv/bin/python benchmarks/load.py --duration 120 --warmup 20 --window 30
    .venv/bin/python benchmarks/load.py --worker-class gthread gevent --rounds 2 ...
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # environment() imports TensorFlow

from benchmarks.common import environment, fresh_database, markdown, write  # noqa: E402

TARGET_P95_MS = 100.0
TARGET_GROWTH = 0.10
ENTRYPOINT = ROOT / "deploy" / "entrypoint.sh"
WORKER_CLASSES = ("gevent", "gthread")  # deploy/entrypoint.sh's WEB_WORKER_CLASS; its default first
SLEEP_MODULE = "benchmarks.sleep_worker"
PROGRESS_PER_SECOND = 4  # the real trainer's cap: onegin.progress.Throttle(0.25)
# 100 python-socketio clients in one process serialise on its GIL: 30 ms median latency
# with the web app idle (0.12 cores); browsers are processes of their own
WATCHER_PROCESSES = 4
GRACE_S = 3.0  # after the load stops, for events still on their way to the watchers


# ------------------------------------------------------------------- pure summary


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100), linear between closest ranks (numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def latency_ms(seconds: Sequence[float]) -> dict[str, float | int | None]:
    """Count, p50, p95, p99 and max in milliseconds."""
    def ms(value: float | None) -> float | None:
        return None if value is None else value * 1000

    return {"count": len(seconds), "p50_ms": ms(percentile(seconds, 50)),
            "p95_ms": ms(percentile(seconds, 95)), "p99_ms": ms(percentile(seconds, 99)),
            "max_ms": ms(max(seconds)) if seconds else None}


def split(total: int, parts: int) -> list[int]:
    """``total`` as ``parts`` near-equal non-zero counts (fewer parts when total is small)."""
    parts = max(1, min(parts, total))
    return [total // parts + (i < total % parts) for i in range(parts)]


def window_mean(samples: Iterable[tuple[float, float]], start: float, end: float) -> float | None:
    """Mean of the sampled values whose time is in [start, end]; None when none is."""
    values = [value for t, value in samples if start <= t <= end]
    return sum(values) / len(values) if values else None


def growth(samples: Sequence[tuple[float, float]], first: tuple[float, float],
           last: tuple[float, float]) -> dict[str, float | None]:
    """Mean over the ``last`` window relative to the mean over the ``first``: 0.05 is +5 %."""
    before, after = window_mean(samples, *first), window_mean(samples, *last)
    change = None if before is None or after is None or before == 0 else after / before - 1
    return {"first_mean": before, "last_mean": after, "growth": change}


def memory_windows(load_start: float, load_end: float, warmup: float,
                   window: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """(the window right after the warm-up, the last window); raises if they overlap."""
    first = (load_start + warmup, load_start + warmup + window)
    last = (load_end - window, load_end)
    if first[1] > last[0]:
        raise ValueError(f"a run of {load_end - load_start:.0f} s is too short for a "
                         f"{warmup:.0f} s warm-up and two {window:.0f} s windows")
    return first, last


def undelivered(published: Iterable[float], received: Iterable[float]) -> int:
    """Events published but never received, matched by their ``ts`` (a multiset)."""
    return sum((Counter(published) - Counter(received)).values())


def rest_summary(requests: Sequence[Any], start: float, end: float) -> dict[str, Any]:
    """Per endpoint and overall: requests, HTTP errors, no-response errors, latency."""
    def block(rows: Sequence[Any]) -> dict[str, Any]:
        return {"requests": len(rows),
                "http_errors": sum(r.status is not None and r.status >= 400 for r in rows),
                "no_response": sum(r.status is None for r in rows),
                "latency": latency_ms([r.latency_s for r in rows])}

    names = sorted({r.endpoint for r in requests})
    overall = block(requests) | {"rate_per_s": len(requests) / (end - start) if end > start
                                 else None}
    return {"overall": overall,
            "by_endpoint": {n: block([r for r in requests if r.endpoint == n]) for n in names}}


def error_counts(rest: Mapping[str, Any], watchers: Sequence[Any], missed: int,
                 worker_restarts: int) -> dict[str, int]:
    """Every kind of error the targets count, by kind (the target is 0 of each)."""
    return {
        "http_errors": rest["overall"]["http_errors"],
        "http_no_response": rest["overall"]["no_response"],
        "socket_connect_errors": sum(len(w.connect_errors) for w in watchers),
        "socket_join_errors": sum(len(w.join_errors) for w in watchers),
        "socket_never_joined": sum(w.joined_after_s is None for w in watchers),
        "socket_disconnects": sum(len(w.disconnects) for w in watchers),
        "events_not_delivered": missed,
        "web_worker_restarts": worker_restarts,
    }


def cpu_use(samples: Sequence[Any]) -> dict[str, float | None]:
    """From the first sample to the last (`Sample`s): CPU cores used, the kernel's share
    of that CPU, and the seconds per second the process waited, runnable, for a CPU."""
    if len(samples) < 2 or samples[-1].t <= samples[0].t:
        return {"cores": None, "kernel_share": None, "run_queue_wait_per_s": None}
    first, last = samples[0], samples[-1]
    seconds, cpu = last.t - first.t, last.cpu_s - first.cpu_s
    return {"cores": cpu / seconds,
            "kernel_share": (last.system_s - first.system_s) / cpu if cpu > 0 else None,
            "run_queue_wait_per_s": (last.waiting_s - first.waiting_s) / seconds}


def verdicts(errors: Mapping[str, int], event_p95_ms: float | None,
             rss_growth: float | None) -> dict[str, bool]:
    return {"no_errors": not any(errors.values()),
            "event_p95_at_most_100_ms": event_p95_ms is not None
            and event_p95_ms <= TARGET_P95_MS,
            "rss_growth_under_10_percent": rss_growth is not None
            and rss_growth < TARGET_GROWTH}


# ----------------------------------------------------------------- processes


@dataclass(frozen=True)
class Sample:
    t: float
    rss_bytes: int
    cpu_s: float
    system_s: float  # the kernel's part of cpu_s
    waiting_s: float  # runnable but not running: waiting for a CPU (its threads, summed)
    worker_pids: tuple[int, ...]


def process_tree(root: int) -> tuple[list[int], list[int]]:
    """(``root`` and its descendants, ``root``'s children), from /proc (Linux)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree, children.get(root, [])


def sample(root: int) -> Sample:
    """RSS, CPU seconds and seconds waiting for a CPU of gunicorn's master, workers and
    theirs (the importance process), summed; the workers' pids, to count restarts."""
    rss, ticks, system, waiting = 0, 0, 0, 0
    pids, workers = process_tree(root)
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # exited between listing and reading
            continue
        rss += next((int(line.split()[1]) * 1024 for line in status.splitlines()
                     if line.startswith("VmRSS:")), 0)  # a zombie has none
        ticks += int(stat[11]) + int(stat[12])  # utime, stime
        system += int(stat[12])
        waiting += run_queue_ns(pid)
    hz = os.sysconf("SC_CLK_TCK")
    return Sample(time.time(), rss, ticks / hz, system / hz, waiting / 1e9,
                  tuple(sorted(workers)))


def run_queue_ns(pid: int) -> int:
    """Nanoseconds the threads of ``pid`` alive now have spent runnable on a run queue,
    not running (``/proc/…/schedstat``'s second field): how much the machine's other
    load held the process up."""
    total = 0
    for task in Path(f"/proc/{pid}/task").glob("*/schedstat"):
        try:
            total += int(task.read_text().split()[1])
        except (OSError, IndexError):  # the thread ended; a kernel without schedstats
            continue
    return total


@contextmanager
def started(command: list[str], env: Mapping[str, str], log: Path) -> Iterator[Any]:
    """A process group of ours; SIGTERM when done, SIGKILL to the group after 60 s."""
    import subprocess

    from onegin.local_workers import stop_processes

    proc = subprocess.Popen(command, env=dict(env), cwd=ROOT, stdout=log.open("ab"),
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield proc
    finally:
        stop_processes([proc], timeout=60)


def say(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Any, what: str, timeout: float, every: float = 0.25) -> Any:
    """Readiness poll of something we started; returns the first truthy ``check()``."""
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        try:
            if value := check():
                return value
        except Exception as exc:  # not up yet
            last = exc
        time.sleep(every)
    raise TimeoutError(f"{what} not ready after {timeout:.0f} s (last error: {last!r})")


def job_fields(trainer: str, workers: int, duration: float, trial_seconds: float,
               epochs: int) -> dict[str, Any]:
    """A job long enough to keep events flowing past the end of the run (then cancelled)."""
    common = {"dataset": "digits", "concurrency": workers, "pruner": "none",
              "objective": "simple", "plot_mode": "none", "hopeless_stop": False}
    if trainer == "sleep":
        trials = workers * math.ceil((duration + 300) / trial_seconds)
        return common | {"name": "load benchmark (sleep trainer)", "trials": trials,
                         "epochs": epochs}
    return common | {  # a tiny CNN on 300 digits: seconds per trial
        "name": "load benchmark (digits)", "trials": 2000, "epochs": 3,
        "max_train_samples": 300, "max_eval_samples": 120,
        "params": {"filters": 16, "dense_units": 64, "conv_layers": 1, "batch_size": 32,
                   "pooling": "flatten", "batch_norm": False, "optimizer": "adam"}}


# ----------------------------------------------------------------------- the run


def run(args: argparse.Namespace, worker_class: str) -> dict[str, Any]:
    """One run of the whole load against a web app of ``worker_class``."""
    import multiprocessing

    import redis
    import requests

    from benchmarks.load_clients import RestLoad, run_watchers
    from onegin.celery_app import GPU_QUEUE, ORCHESTRATOR_QUEUE, create_celery
    from onegin.job_config import MAX_EPOCHS, MAX_TRIALS
    from onegin.local_workers import child_environ, worker_command
    from onegin.records import RecordStore
    from onegin.records.migrate import upgrade
    from onegin.services import Services
    from onegin.settings import Role, load_settings
    from onegin.statuses import JobStatus

    admin_pg, base_redis = os.environ["ONEGIN_TEST_POSTGRES_URL"], os.environ[
        "ONEGIN_TEST_REDIS_URL"]
    redis_url = base_redis.rsplit("/", 1)[0] + f"/{args.redis_db}"
    home = Path(tempfile.mkdtemp(prefix="onegin-load-bench-"))
    logs = home / "logs"
    logs.mkdir()
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with fresh_database(admin_pg) as db_url, ExitStack() as stack:
        settings = load_settings(env={}, overrides={
            "home": str(home), "database_url": db_url, "broker_url": redis_url,
            "events_url": redis_url, "artifacts_url": f"file://{home}/artifacts",
            "auth": "required", "web_host": "127.0.0.1", "web_port": port,
            "heartbeat_interval": 1.0, "heartbeat_timeout": 30.0, "offline": True,
            "tf_threads": 1})
        upgrade(db_url)
        scratch = redis.Redis.from_url(redis_url)
        scratch.flushdb()
        stack.callback(scratch.flushdb)  # runs last: after every process of ours stopped
        _, secret = RecordStore(db_url).create_token(
            "load-benchmark", max_trials=MAX_TRIALS, max_epochs=MAX_EPOCHS,
            max_concurrency=args.workers)
        extra = {
            "PYTHONPATH": os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH")))),
            "TF_CPP_MIN_LOG_LEVEL": "2", "SLEEP_TRAINER_SECONDS": str(args.trial_seconds)}

        def env(role: Role) -> dict[str, str]:
            return child_environ(settings, role) | extra

        # the entrypoint runs `gunicorn` from PATH: this interpreter's
        web_env = env(Role.WEB) | {
            "PATH": os.pathsep.join((str(Path(sys.executable).parent), os.environ["PATH"])),
            "WEB_WORKER_CLASS": worker_class} | (
            {"WEB_THREADS": str(args.threads)} if args.threads else {})
        web = stack.enter_context(started(["bash", str(ENTRYPOINT), "web"], web_env,
                                          logs / "web.log"))
        if args.web_nice:
            # the web app is a session of its own (started()): with the kernel's autogroups
            # its CPU share is its session's, and a process's own niceness counts only inside
            Path(f"/proc/{web.pid}/autogroup").write_text(str(args.web_nice))
        stack.enter_context(started(worker_command("load-orch", ORCHESTRATOR_QUEUE),
                                    env(Role.ORCHESTRATOR),
                                    logs / "orchestrator.log"))
        module = SLEEP_MODULE if args.trainer == "sleep" else None
        for i in range(args.workers):
            stack.enter_context(started(worker_command(f"load-gpu{i}", GPU_QUEUE, module=module),
                                        env(Role.GPU_WORKER), logs / f"gpu{i}.log"))
        wait_until(lambda: requests.get(base_url + "/api/v1/readyz", timeout=2).ok,
                   "gunicorn", 120)
        celery = create_celery(settings)
        wait_until(lambda: len(celery.control.ping(timeout=1.0) or []) >= args.workers + 1,
                   "Celery workers", 180)

        auth = {"Authorization": f"Bearer {secret}"}
        fields = job_fields(args.trainer, args.workers, args.duration, args.trial_seconds,
                            args.epochs)
        reply = requests.post(base_url + "/api/v1/jobs", json=fields, headers=auth, timeout=30)
        reply.raise_for_status()
        job_id = reply.json()["id"]
        services = Services(settings)
        cursor: list[str | None] = [None]

        def training() -> bool:
            events, cursor[0] = services.events.read(job_id, cursor[0], timeout=1.0)
            return any(e["type"] == "trial_progress" and e["data"]["phase"] == "training"
                       for e in events)

        wait_until(training, "the job's first training progress", 300, every=0)
        say(f"job {job_id} is training; connecting {args.sockets} watchers")

        ctx = multiprocessing.get_context("spawn")
        stop_watchers, results = ctx.Event(), ctx.Queue()
        watcher_procs = []
        for count in split(args.sockets, args.watcher_processes):
            ready = ctx.Event()
            proc = ctx.Process(target=run_watchers, daemon=True, args=(
                base_url, secret, job_id, count, ready, stop_watchers, results))
            proc.start()
            stack.callback(proc.terminate)  # after a failure; a no-op once it exited
            watcher_procs.append((proc, ready))
        for _, ready in watcher_procs:
            if not ready.wait(300):
                raise TimeoutError("watchers did not connect within 300 s")
        say("watchers connected (or gave up after 60 s)")

        paths = [("jobs", "/api/v1/jobs"), ("job", f"/api/v1/jobs/{job_id}"),
                 ("trials", f"/api/v1/jobs/{job_id}/trials?page=1&per_page=50"),
                 ("study", f"/api/v1/jobs/{job_id}/study")]
        rest = RestLoad(base_url, secret, paths, args.rps)
        stop = threading.Event()
        samples: list[Sample] = []

        def sampler() -> None:
            while True:
                samples.append(sample(web.pid))
                if stop.wait(args.sample_every):
                    return

        load_start = time.time()
        load_avg_start = os.getloadavg()
        threads = [threading.Thread(target=rest.run, args=(stop,)),
                   threading.Thread(target=sampler)]
        for thread in threads:
            thread.start()
        say(f"load on for {args.duration:.0f} s")
        stop.wait(args.duration)  # the run itself
        stop.set()
        load_end = time.time()
        load_avg_end = os.getloadavg()
        for thread in threads:
            thread.join()
        say("load off; REST requests in flight answered or cancelled")
        time.sleep(GRACE_S)  # the last events are still on their way: let them land
        stop_watchers.set()
        reports = [report for _ in watcher_procs for report in results.get(timeout=300)]
        for proc, _ in watcher_procs:
            proc.join(timeout=60)
        say("watchers closed and reported")

        published: list[float] = []
        cursor[0] = None
        while True:
            events, cursor[0] = services.events.read(job_id, cursor[0], limit=10_000)
            if not events:
                break
            published.extend(e["ts"] for e in events)
        # through the records, as the REST endpoint does: teardown must not need the web app
        services.records.update_job(job_id, status=JobStatus.CANCELLING)
        wait_until(lambda: services.records.get_job(job_id).terminal, "the job's cancellation",
                   180, every=0.5)
        job = services.records.get_job(job_id)
        counts = services.records.trial_counts(job_id)
        services.events.close()

    return summarize(args, worker_class, load_start, load_end, published, reports,
                     rest.requests, samples, {"status": job.status, "counts": dict(counts)},
                     (load_avg_start, load_avg_end), logs / "web.log")


def summarize(args: argparse.Namespace, worker_class: str, load_start: float, load_end: float,
              published_ts: Sequence[float], watchers: Sequence[Any], requests: Sequence[Any],
              samples: Sequence[Sample], job: Mapping[str, Any],
              load_avg: tuple[Any, Any], web_log: Path) -> dict[str, Any]:
    warm_end = load_start + args.warmup
    in_run = [t for t in published_ts if load_start <= t <= load_end]
    missed = sum(undelivered(in_run, [t for t in w.ts if load_start <= t <= load_end])
                 for w in watchers)
    latencies = [lat for w in watchers for t, lat in zip(w.ts, w.latency_s, strict=True)
                 if warm_end <= t <= load_end]
    events = latency_ms(latencies)
    rest = rest_summary(requests, load_start, load_end)
    first, last = memory_windows(load_start, load_end, args.warmup, args.window)
    rss = growth([(s.t, s.rss_bytes) for s in samples], first, last)
    worker_sets = [s.worker_pids for s in samples]
    restarts = sum(a != b for a, b in pairwise(worker_sets))
    errors = error_counts(rest, watchers, missed, restarts)
    log_lines = web_log.read_text(errors="replace").splitlines()
    joins = [w.joined_after_s for w in watchers if w.joined_after_s is not None]
    return {
        "worker_class": worker_class,
        "watchers": {"joined": len(joins), "of": len(watchers),
                     "connect_to_join": latency_ms(joins),
                     "snapshots": sum(w.snapshots for w in watchers)},
        "load": {"sockets": args.sockets, "watcher_processes": args.watcher_processes,
                 "rest_per_s": args.rps, "duration_s": args.duration,
                 "warmup_s": args.warmup, "window_s": args.window,
                 "web": f"deploy/entrypoint.sh web: gunicorn, 1 {worker_class} worker"
                        + (f", {args.threads} threads" if args.threads and worker_class == "gthread"
                           else "") + (f", nice {args.web_nice}" if args.web_nice else "")
                        + ", auth required",
                 "job": job_description(args), "job_status_after_cancel": job["status"],
                 "job_trial_counts": job["counts"]},
        "events": {"published_during_load": len(in_run),
                   "published_per_s": len(in_run) / (load_end - load_start),
                   "latency_after_warmup": events,
                   "latency_definition": "watcher's arrival time - event ts (time.time() when "
                                         "published); events published after the warm-up"},
        "rest": rest,
        "errors": errors,
        "error_samples": {
            "http": [asdict(r) for r in requests if r.error][:5],
            "socket": [m for w in watchers for m in w.connect_errors + w.join_errors
                       + w.disconnects][:10]},
        "memory": rss | {"first_window": [first[0] - load_start, first[1] - load_start],
                         "last_window": [last[0] - load_start, last[1] - load_start],
                         "samples": len(samples),
                         "definition": "RSS (VmRSS) of gunicorn's master, worker and its "
                                       f"children summed, every {args.sample_every} s; "
                                       "growth = mean of the last window / mean of the "
                                       "window after the warm-up - 1",
                         "series_mb": [[round(s.t - load_start, 1), round(s.rss_bytes / 2**20, 1)]
                                       for s in samples]},
        "web_cpu": cpu_use(samples),
        "web_log_error_lines": sum(("ERROR" in line or "Traceback" in line)
                                   for line in log_lines),
        "machine_load_average_start_end": load_avg,
        "verdicts": verdicts(errors, events["p95_ms"], rss["growth"]),
    }


def job_description(args: argparse.Namespace) -> str:
    if args.trainer == "sleep":
        return (f"real orchestrator + {args.workers} GPU worker processes, SLEEP trainer "
                f"(stand-in: {args.trial_seconds} s trials of {args.epochs} epochs, "
                f"{args.epochs / args.trial_seconds:.1f} progress events/s each)")
    return f"real orchestrator + {args.workers} GPU worker processes training tiny digits CNNs"


def _fmt(value: float | None, spec: str = ".1f") -> str:
    return "—" if value is None else format(value, spec)


def rows(result: Mapping[str, Any]) -> list[tuple[str, str]]:
    ev, rest, mem = result["events"], result["rest"]["overall"], result["memory"]
    errors, ok = result["errors"], result["verdicts"]
    lat, rlat = ev["latency_after_warmup"], rest["latency"]
    growth_pct = None if mem["growth"] is None else mem["growth"] * 100
    cpu = result["web_cpu"]
    kernel_pct = None if cpu["kernel_share"] is None else cpu["kernel_share"] * 100
    return [
        ("load", f"{result['load']['sockets']} watchers, {rest['rate_per_s']:.1f} REST req/s, "
                 f"{result['load']['duration_s']:.0f} s"),
        ("events published / s", f"{ev['published_per_s']:.1f}"),
        ("watchers joined, connect-to-join p50 / max ms",
         f"{result['watchers']['joined']}/{result['watchers']['of']}, "
         f"{_fmt(result['watchers']['connect_to_join']['p50_ms'])} / "
         f"{_fmt(result['watchers']['connect_to_join']['max_ms'])}"),
        ("errors (target 0)", f"{sum(errors.values())} "
                              + (", ".join(f"{k} {v}" for k, v in errors.items() if v) or "")
         + (" ✓" if ok["no_errors"] else " ✗")),
        ("event latency p50 / p95 ms (p95 <= 100)",
         f"{_fmt(lat['p50_ms'])} / {_fmt(lat['p95_ms'])}"
         + (" ✓" if ok["event_p95_at_most_100_ms"] else " ✗")),
        ("REST latency p50 / p95 ms", f"{_fmt(rlat['p50_ms'])} / {_fmt(rlat['p95_ms'])}"),
        ("gunicorn RSS MB first / last window",
         f"{_fmt(mem['first_mean'] and mem['first_mean'] / 2**20)} / "
         f"{_fmt(mem['last_mean'] and mem['last_mean'] / 2**20)}"),
        ("RSS growth % (< 10)", _fmt(growth_pct, "+.1f")
         + (" ✓" if ok["rss_growth_under_10_percent"] else " ✗")),
        ("web CPU cores (kernel %), run-queue wait s/s",
         f"{_fmt(cpu['cores'], '.2f')} ({_fmt(kernel_pct, '.0f')}), "
         f"{_fmt(cpu['run_queue_wait_per_s'], '.2f')}"),
        ("machine load average, start / end",
         " / ".join(f"{load[0]:.1f}" for load in result["machine_load_average_start_end"])),
    ]


def schedule(worker_classes: Sequence[str], rounds: int) -> list[tuple[str, str]]:
    """(label, class) of each run in order: the classes in turn, ``rounds`` times over."""
    return [(c + (f" #{r}" if rounds > 1 else ""), c)
            for r in range(1, rounds + 1) for c in worker_classes]


def side_by_side(tables: Sequence[Sequence[tuple[str, str]]]) -> list[tuple[str, ...]]:
    """One row per figure, one value per run (the runs' `rows`, all of the same figures)."""
    return [(figure, *(table[i][1] for table in tables))
            for i, (figure, _) in enumerate(tables[0])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=600.0, help="seconds of load")
    parser.add_argument("--warmup", type=float, default=60.0,
                        help="seconds at the start left out of latency and the first RSS window")
    parser.add_argument("--window", type=float, default=60.0, help="RSS averaging window, s")
    parser.add_argument("--sockets", type=int, default=100)
    parser.add_argument("--watcher-processes", type=int, default=WATCHER_PROCESSES,
                        help="processes the watchers are spread over")
    parser.add_argument("--rps", type=float, default=50.0, help="REST requests per second")
    parser.add_argument("--worker-class", nargs="+", choices=WORKER_CLASSES,
                        default=[WORKER_CLASSES[0]], dest="worker_classes",
                        help="gunicorn worker classes to measure, each in turn")
    parser.add_argument("--rounds", type=int, default=1, choices=range(1, 11), metavar="1-10",
                        help="times the classes are measured in turn (interleaved)")
    parser.add_argument("--threads", type=int, default=None,
                        help="gthread: gunicorn threads (default: the entrypoint's)")
    parser.add_argument("--web-nice", type=int, default=0,
                        help="the niceness of the web app's autogroup (negative: root only): "
                             "on a machine shared with other work, a CPU share like a pod's")
    parser.add_argument("--workers", type=int, default=2, help="GPU worker processes")
    parser.add_argument("--trainer", choices=("sleep", "digits"), default="sleep")
    parser.add_argument("--trial-seconds", type=float, default=10.0, help="sleep trainer only")
    parser.add_argument("--epochs", type=int, default=None,
                        help="sleep trainer: one progress event per epoch (default: "
                             f"{PROGRESS_PER_SECOND} a second, the real trainer's cap)")
    parser.add_argument("--sample-every", type=float, default=1.0, help="RSS sampling, s")
    parser.add_argument("--redis-db", type=int, default=14, choices=(13, 14, 15))
    parser.add_argument("--name", default="load", help="results/<name>.json and .md")
    args = parser.parse_args()
    if args.epochs is None:
        args.epochs = max(1, round(args.trial_seconds * PROGRESS_PER_SECOND))
    memory_windows(0.0, args.duration, args.warmup, args.window)  # refuse a run too short
    # SIGTERM (timeout, kill) unwinds like Ctrl-C: the processes started here are stopped
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    plan = schedule(args.worker_classes, args.rounds)
    runs = []
    for label, worker_class in plan:
        say(f"run {label}")
        runs.append(run(args, worker_class) | {"label": label})
    result = {"runs": runs, "environment": environment(),
              "date": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    table = side_by_side([rows(r) for r in runs])
    header = ("figure", *(label for label, _ in plan))
    path = write(args.name, result, table, header)
    path.with_suffix(".md").write_text(markdown(table, header))


if __name__ == "__main__":
    main()
