"""``onegin tensorboard JOB [TRIAL…]``: a job's TensorBoard logs, from wherever it trained.

A core command, not a role's: it reads only the records and the artifact store, so it
works on any machine with the settings of the job's cluster, however far its GPU workers
ran. It mirrors the trials' logs into the cache (`onegin.tensorboard.cache`), names one
run per trial (`onegin.tensorboard.runs`) and serves them with TensorBoard, a separate
program, on loopback until Ctrl-C or SIGTERM. The URL is the one line on stdout.
"""

from __future__ import annotations

import argparse
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape

from onegin.cli import add_settings_flags, settings_from_args
from onegin.errors import ConfigError
from onegin.job_kinds import JobKind
from onegin.stop_signals import SignalCatcher
from onegin.tensorboard.selection import NoLogs, keep_logged, select_trials

if TYPE_CHECKING:
    from onegin.records import RecordStore, TrialRecord

console = Console(stderr=True)
PATIENCE = 10.0  # most seconds an unreachable store is retried: someone waits at the terminal
FETCH_THREADS = 8
ALL_TRIALS = 1_000_000


def add_tensorboard_parser(sub: Any) -> None:
    p = sub.add_parser(
        "tensorboard", help="serve a job's TensorBoard logs on loopback, one run per trial: "
        "fetched from the artifact store into a cache under the home folder")
    p.add_argument("job_id", metavar="JOB", help="the job's id")
    p.add_argument("trials", metavar="TRIAL", type=int, nargs="*",
                   help="trial numbers to show (default: every trial that has logs)")
    p.add_argument("--port", type=int, default=0,
                   help="port on 127.0.0.1 (default 0: a free one, printed)")
    add_settings_flags(p)
    p.set_defaults(run=_run_tensorboard)


def _run_tensorboard(args: argparse.Namespace) -> int:
    from onegin.artifacts import ArtifactAccessDenied, ArtifactStoreUnavailable
    from onegin.records import RecordStoreUnavailable
    from onegin.tensorboard.server import MISSING, installed

    if not installed():
        console.print(f"[red]{escape(MISSING)}[/red]", soft_wrap=True)
        return 3
    if not 0 <= args.port <= 65535:
        raise ConfigError("--port", f"must be 0 (a free port) to 65535, got {args.port}")
    settings = settings_from_args(args)
    try:
        job_id, runs, cache = _fetch(settings, args.job_id, args.trials)
    except NoLogs as exc:
        console.print(f"[red]nothing to show[/red]: {escape(str(exc))}", soft_wrap=True)
        return 2
    except (ArtifactStoreUnavailable, ArtifactAccessDenied) as exc:
        console.print(f"[red]artifact store unavailable[/red]: {escape(str(exc))}",
                      soft_wrap=True)
        return 3
    except RecordStoreUnavailable as exc:
        console.print(f"[red]database unavailable[/red]: {escape(str(exc))}", soft_wrap=True)
        return 3
    return _serve(job_id, runs, cache, port=args.port)


def _fetch(settings: Any, job_id: str, numbers: list[int]) -> tuple[str, dict[str, Path], Path]:
    """The job's id, its runs (name -> logs in the cache) and the cache's folder for it."""
    from onegin.records import open_record_store
    from onegin.services import Services
    from onegin.tensorboard.cache import LogCache, cache_root
    from onegin.tensorboard.runs import run_names

    store = Services(settings, patience=min(settings.outage_limit, PATIENCE)).artifacts
    records = open_record_store(settings.database_url)  # read only: never migrated from here
    job_id, chosen = _chosen_trials(records, job_id, numbers)
    cache = LogCache(cache_root(settings.home, settings.artifacts_url,
                                settings.s3_endpoint_url), store)
    with ThreadPoolExecutor(FETCH_THREADS) as pool:
        synced = list(pool.map(lambda t: cache.sync(job_id, t.number, ended=t.terminal),
                               chosen))
    logged = {t.number: one.folder for t, one in zip(chosen, synced, strict=True)
              if one.folder is not None}
    shown, left_out = keep_logged(job_id, chosen, logged, named=bool(numbers))
    if left_out:
        console.print(f"left out, no logs: {escape(left_out)}", soft_wrap=True)
    console.print(f"job {job_id}: {len(shown)} run{'s' if len(shown) != 1 else ''}; fetched "
                  f"{sum(s.fetched for s in synced)} files "
                  f"({sum(s.fetched_bytes for s in synced):,} bytes), "
                  f"{sum(s.cached for s in synced)} already in {cache.root}", soft_wrap=True)
    names = run_names({trial.number: trial.params for trial in shown})
    return job_id, {names[t.number]: logged[t.number] for t in shown}, cache.root / job_id


def _chosen_trials(records: RecordStore, job_id: str, numbers: list[int]
                   ) -> tuple[str, list[TrialRecord]]:
    """The job's id and the trials asked for (all when ``numbers`` is empty); `ConfigError`
    for an unknown job, a comparison (its trials are its runs') or unknown numbers."""
    from onegin.job_config import JOB_ID_PATTERN
    from onegin.records import RecordNotFound

    try:
        if not JOB_ID_PATTERN.fullmatch(job_id):
            raise RecordNotFound("job", job_id)
        job = records.get_job(job_id)
    except RecordNotFound:
        raise ConfigError("job", f"no job {job_id!r}") from None
    if job.kind == JobKind.COMPARE:
        runs = ", ".join(child.id for child in records.list_children(job.id))
        raise ConfigError("job", f"{job.id} is a comparison: its trials belong to its runs, "
                                 f"jobs {runs or '(none yet)'}; give one of those")
    trials, _ = records.list_trials(job.id, limit=ALL_TRIALS)
    return job.id, select_trials(job.id, trials, numbers)


def _serve(job_id: str, runs: dict[str, Path], cache: Path, *, port: int) -> int:
    """TensorBoard until a stop signal (then handed on, as it would have ended us) or
    until it ends by itself (1)."""
    from onegin.tensorboard.server import TensorBoardProcess, run_folder

    catcher = SignalCatcher()
    with tempfile.TemporaryDirectory(dir=cache, prefix="runs-") as folder, catcher:
        run_folder(Path(folder), runs)
        board = TensorBoardProcess(Path(folder), port=port, title=f"Onegin job {job_id}",
                                   on_change=catcher.wake)
        try:
            catcher.woken.wait()  # the URL, TensorBoard's end, or a signal
            if board.url is not None and catcher.received is None:
                print(board.url, flush=True)
                console.print(f"TensorBoard serves job {job_id} at {board.url}; "
                              "Ctrl-C stops it", soft_wrap=True)
                catcher.woken.clear()
                if catcher.received is None and board.exit_code is None:
                    catcher.woken.wait()  # a signal, or TensorBoard's end
        finally:
            board.stop()
    if catcher.received is not None:
        catcher.redeliver()
        return 0
    console.print(f"[red]TensorBoard ended[/red] (exit code {board.exit_code}); "
                  "its messages are above", soft_wrap=True)
    return 1
