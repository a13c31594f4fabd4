"""The `onegin` command line.

The core's commands live here; each role adds its own (`onegin web`, `onegin trial`,
`onegin scale`) through the ``onegin.commands`` entry-point group in pyproject.toml,
so this module imports no role. Heavy modules are imported only inside the command
that needs them, so `onegin --help` stays instant.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from rich.console import Console

from onegin.errors import (
    ConfigError,
    ConfigErrors,
    DatasetUnavailable,
    JobBusy,
    TrialCancelled,
    TrialFailed,
)
from onegin.job_config import PLOT_MODES, PRUNERS
from onegin.scoring import OBJECTIVES
from onegin.search_space import SPACE_NAMES
from onegin.statuses import JobStatus

console = Console(stderr=True)
COMMANDS_GROUP = "onegin.commands"  # pyproject.toml: each role's `register(subparsers)`


def settings_from_args(args: argparse.Namespace) -> Any:
    """The settings, with ``--config`` and ``--set`` (`add_settings_flags`) applied."""
    from onegin.settings import load_settings

    overrides: dict[str, str] = {}
    for text in args.set or []:
        key, sep, value = text.partition("=")
        if not sep:
            raise ConfigError("--set", f"expected name=value, got {text!r}")
        overrides[key.strip()] = value
    return load_settings(args.config, overrides=overrides)


def add_settings_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", help="settings file (YAML); default $ONEGIN_CONFIG")
    p.add_argument("--set", action="append", metavar="SETTING=VALUE",
                   help="override a setting, e.g. --set database_url=postgresql+psycopg2://…")


def _optimize_parser(sub: Any) -> None:
    p = sub.add_parser("optimize", help="run a whole optimization job")
    p.add_argument("--job", type=Path, help="job configuration file (YAML/JSON); flags win")
    p.add_argument("--dataset")
    p.add_argument("--trials", type=int)
    p.add_argument("--concurrency", type=int)
    p.add_argument("--epochs", type=int)
    p.add_argument("--objective", choices=OBJECTIVES)
    p.add_argument("--pruner", choices=PRUNERS)
    p.add_argument("--seed", type=int, help="reproduce a job's parameter sequence "
                   "(default: a fresh seed, printed and recorded)")
    p.add_argument("--space", choices=SPACE_NAMES,
                   help="default: a practitioner's priors; wide: every option, wide ranges")
    p.add_argument("--no-warm-start", dest="warm_start", action="store_false", default=None,
                   help="start with TPE's random trials, not the known-good configurations")
    p.add_argument("--no-hopeless-stop", dest="hopeless_stop", action="store_false",
                   default=None, help="train diverged, chance-level and very slow trials on")
    p.add_argument("--holdout", action="store_true", default=None,
                   help="also score each completed trial on the holdout split "
                        "(reported only, never used by the search)")
    p.add_argument("--continue-from", metavar="JOB_ID",
                   help="add a finished job's trials to this job's study (not re-run)")
    p.add_argument("--plots", dest="plot_mode", choices=PLOT_MODES)
    p.add_argument("--max-train-samples", type=int)
    p.add_argument("--max-eval-samples", type=int)
    p.add_argument("--time-limit", type=float,
                   help="seconds; no new trial after it (the first always runs)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="fix a hyperparameter (repeatable)")
    p.add_argument("--workers", type=int, help="local GPU-worker processes (embedded mode)")
    p.add_argument("--resume", metavar="JOB_ID",
                   help="go on with a job handed back by SIGTERM/SIGHUP (its own configuration)")
    p.add_argument("--submit", action="store_true",
                   help="send the job to the cluster's orchestrator and print its id")
    p.add_argument("--follow", action="store_true", help="with --submit: show it live")
    add_settings_flags(p)
    p.set_defaults(run=_run_optimize)


JOB_FLAGS = ("dataset", "trials", "concurrency", "epochs", "objective", "pruner", "seed",
             "plot_mode", "max_train_samples", "max_eval_samples", "time_limit", "space",
             "warm_start", "hopeless_stop", "holdout", "continue_from")


def read_job_file(path: Path) -> dict[str, Any]:
    """The job fields in a YAML/JSON file; `ConfigError` naming ``--job``, the file and
    what is wrong (unreadable, not YAML, not a mapping), never a traceback."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("--job", f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise ConfigError("--job", f"{path}: not a text file (UTF-8)") from None
    except OSError as exc:
        raise ConfigError("--job", f"{path}: cannot read it ({exc.strerror or exc})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError("--job", f"{path}: not valid YAML: {_yaml_problem(exc)}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"the single value {data!r}"
        raise ConfigError("--job", f"{path}: must hold a mapping of job fields "
                                   f"(name: value lines), got {kind}")
    return data


def _yaml_problem(exc: Exception) -> str:
    """PyYAML's error on one line: what, and where (1-based line and column)."""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return f"{problem}{where}"


def _validated(config_class: Any, data: dict[str, Any], errors: list[ConfigError]) -> Any:
    """``config_class.from_dict(data)``, raising every error at once: the flags' own
    ``errors`` (found before) with the config's."""
    try:
        config = config_class.from_dict(data)
    except ConfigErrors as exc:
        errors = errors + exc.errors
    if errors:
        raise ConfigErrors(errors)
    return config


def _job_config(args: argparse.Namespace) -> Any:
    from onegin.job_config import OptimizationConfig

    data: dict[str, Any] = read_job_file(args.job) if args.job else {}
    for key in JOB_FLAGS:
        if getattr(args, key) is not None:
            data[key] = getattr(args, key)
    errors = _fixed_params(args.param, data) if args.param else []
    return _validated(OptimizationConfig, data, errors)


def _run_optimize(args: argparse.Namespace) -> int:
    """The command's process is Onegin's own, so its in-process orchestrator hands the
    GIL over often, as the orchestrator service does (`onegin.gil`); the Python API
    leaves its caller's interpreter alone."""
    from onegin.gil import handing_over_often

    with handing_over_often():
        return _optimize_or_resume(args)


def _optimize_or_resume(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    if args.resume:
        return _resume(args, settings)
    config = _job_config(args)
    if args.submit:
        return _submit(settings, config, follow=args.follow)
    from onegin.api import optimize

    console.print(f"seed {config.seed} (--seed {config.seed} replays this job's parameters)")
    return _print_result(optimize(config, settings=settings, workers=args.workers, live=True))


def _resume(args: argparse.Namespace, settings: Any) -> int:
    from onegin.api import resume
    from onegin.records import RecordNotFound

    given = [f"--{k.replace('_', '-')}" for k in (*JOB_FLAGS, "job", "submit", "param")
             if getattr(args, k) is not None and getattr(args, k) is not False
             and getattr(args, k) != []]
    if given:
        raise ConfigError("--resume", f"the job keeps its own configuration; drop "
                                      f"{', '.join(given)}")
    from onegin.api import ComparisonResult

    try:
        result = resume(args.resume, settings=settings, workers=args.workers, live=True)
    except RecordNotFound:
        raise ConfigError("--resume", f"no job {args.resume!r}") from None
    except JobBusy:
        console.print(f"[red]job {args.resume} is held by another orchestrator[/red]; if that "
                      f"one died, its claim expires within {settings.heartbeat_timeout:g}s")
        return 1
    if isinstance(result, ComparisonResult):
        return _print_comparison(result)
    return _print_result(result)


def _say_end(job_id: str, status: str, error: str | None) -> None:
    """How a job ended, its error verbatim (no Rich markup: it may hold brackets)."""
    console.print(f"job {job_id}: {status}" + (f" ({error})" if error else ""), markup=False)


def _print_result(result: Any) -> int:
    _say_end(result.job_id, result.status, result.error)
    if result.best_trial is None:
        return 1
    print(
        f"best trial {result.best_trial}: total score {result.best_score:.4f}, "
        f"validation accuracy {result.best_accuracy:.4f}\n"
        f"best model: {result.model_url}\n"
        f"hyperparameters: {result.best_params}"
    )
    if result.pareto_front:
        from onegin.artifacts import job_prefix

        print(f"Pareto front (accuracy vs health): trials "
              f"{', '.join(map(str, result.pareto_front))}; each one's model is "
              f"{job_prefix(result.job_id)}trials/<n>/model.keras in the artifact store")
    return 0 if result.status == JobStatus.COMPLETED else 1


def _submit(settings: Any, config: Any, *, follow: bool) -> int:
    from onegin.celery_app import create_celery
    from onegin.display import JobDisplay
    from onegin.services import Services
    from onegin.submission import create_job, submit_job

    services = Services(settings)
    job = create_job(services.records, config)
    submit_job(create_celery(settings), job.id)
    print(job.id, flush=True)
    console.print(f"seed {config.seed}")
    if not follow:
        return 0
    with JobDisplay(services.events, job.id, config.trials) as display:
        display.wait()
    done = services.records.get_job(job.id)
    _say_end(done.id, done.status, done.error)
    return 0 if done.status == JobStatus.COMPLETED else 1  # as a job run here exits


def _compare_parser(sub: Any) -> None:
    p = sub.add_parser("compare", help="compare an accuracy-only search with a health-aware "
                       "one: same dataset, budget and seeds, scored on the holdout split")
    p.add_argument("--job", type=Path, help="comparison fields file (YAML/JSON); flags win")
    p.add_argument("--dataset")
    p.add_argument("--trials", type=int, help="trials per arm and seed (default 12)")
    p.add_argument("--seeds", type=int, help="splits; one search per arm each (default 3)")
    p.add_argument("--seed", type=int, help="the first run's seed (default: a fresh one)")
    p.add_argument("--retrain-seeds", type=int,
                   help="new training seeds each arm's best configuration gets (default 2)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--concurrency", type=int, help="trials at once in each run")
    p.add_argument("--weights", metavar="MAPPING",
                   help="the health arm's weights, YAML: '{accuracy: 0.6}' or "
                        "'{health: {neuron_utilization: 0.5, ...}}'")
    p.add_argument("--pruner", choices=PRUNERS)
    p.add_argument("--space", choices=SPACE_NAMES)
    p.add_argument("--plots", dest="plot_mode", choices=PLOT_MODES)
    p.add_argument("--max-train-samples", type=int)
    p.add_argument("--max-eval-samples", type=int)
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="fix a hyperparameter in both arms (repeatable)")
    p.add_argument("--name")
    p.add_argument("--workers", type=int, help="local GPU-worker processes (embedded mode)")
    p.add_argument("--submit", action="store_true",
                   help="send it to the cluster's orchestrator and print its id")
    p.add_argument("--wait", action="store_true",
                   help="with --submit: wait for the end and print the table")
    add_settings_flags(p)
    p.set_defaults(run=_run_compare)


COMPARE_FLAGS = ("dataset", "trials", "seeds", "seed", "retrain_seeds", "epochs", "concurrency",
                 "pruner", "space", "plot_mode", "max_train_samples", "max_eval_samples", "name")


def _compare_config(args: argparse.Namespace) -> Any:
    import yaml

    from onegin.compare_config import CompareConfig

    data: dict[str, Any] = read_job_file(args.job) if args.job else {}
    data |= {key: getattr(args, key) for key in COMPARE_FLAGS if getattr(args, key) is not None}
    errors: list[ConfigError] = []
    if args.weights is not None:
        try:
            data["weights"] = yaml.safe_load(args.weights)
        except yaml.YAMLError as exc:
            errors.append(ConfigError("weights", f"not valid YAML: {_yaml_problem(exc)}"))
    if args.param:
        errors += _fixed_params(args.param, data)
    return _validated(CompareConfig, data, errors)


def _fixed_params(assignments: list[str], data: dict[str, Any]) -> list[ConfigError]:
    """``--param`` values merged into ``data["params"]``; the errors of those that are bad."""
    from collections.abc import Mapping

    from onegin.datasets import get_spec
    from onegin.search_space import space_for

    if not isinstance(data.get("params") or {}, Mapping):
        return []  # the params error is reported with the others
    params = dict(data.get("params") or {})
    errors: list[ConfigError] = []
    try:
        space = space_for(get_spec(data.get("dataset", "digits")).modality,
                          name=data.get("space", "default"))
    except ConfigError:
        pass  # the dataset error is reported with the others
    else:
        for assignment in assignments:
            try:
                params |= space.parse_assignments([assignment])
            except ConfigError as exc:
                errors.append(exc)
    data["params"] = params
    return errors


def _run_compare(args: argparse.Namespace) -> int:
    """Run here as `onegin optimize` does (its id printed first), or send it with --submit."""
    from onegin.gil import handing_over_often

    if args.wait and not args.submit:
        raise ConfigError("--wait", "goes with --submit: without it the comparison runs here "
                                    "and is waited for")
    settings = settings_from_args(args)
    config = _compare_config(args)
    with handing_over_often():
        if args.submit:
            result = _submit_comparison(settings, config, wait=args.wait)
            if result is None:
                return 0
        else:
            from onegin.api import compare

            result = compare(config, settings=settings, workers=args.workers, live=True,
                             on_created=_print_comparison_id)
    return _print_comparison(result)


def _print_comparison_id(job_id: str) -> None:
    print(job_id, flush=True)


def _submit_comparison(settings: Any, config: Any, *, wait: bool) -> Any:
    """Send it to the orchestrator; with ``wait``, its result once it has ended."""
    from onegin.api import comparison_result_for
    from onegin.celery_app import create_celery
    from onegin.services import Services
    from onegin.submission import create_comparison, submit_job

    services = Services(settings)
    job = create_comparison(services.records, config)
    submit_job(create_celery(settings), job.id)
    _print_comparison_id(job.id)
    if not wait:
        return None
    cursor: str | None = None
    while not services.records.get_job(job.id).terminal:
        _events, cursor = services.events.read(job.id, cursor, timeout=2.0)
    return comparison_result_for(services, job.id)


def _print_comparison(result: Any) -> int:
    from onegin.compare_table import format_comparison

    console.print(f"comparison {result.job_id}: {result.status}" +
                  (f" ({result.error})" if result.error else ""))
    if result.summary is not None:
        print(format_comparison(result.summary), end="")
    if result.report_url is not None:
        print(f"report: {result.report_url}")
    else:
        print(f"report files: {result.report_prefix} in the artifact store")
    return 0 if result.status == JobStatus.COMPLETED else 1


def _worker_parser(sub: Any) -> None:
    p = sub.add_parser("worker", help="run a Celery worker: the orchestrator or a GPU worker")
    p.add_argument("role", choices=("orchestrator", "gpu"))
    p.add_argument("--name", default=None, help="worker name (default: role-pid)")
    p.add_argument("--concurrency", type=int, default=1,
                   help="pool processes: one per GPU for gpu, jobs at once for orchestrator")
    p.add_argument("--trials-per-child", type=int, default=10,
                   help="recycle a GPU pool process after this many trials (frees GPU memory)")
    add_settings_flags(p)
    p.set_defaults(run=_run_worker)


def _run_worker(args: argparse.Namespace) -> int:
    import os

    from onegin.local_workers import child_environ, worker_command
    from onegin.logs import check_log_file
    from onegin.settings import GPU_WORKER, ORCHESTRATOR

    settings = settings_from_args(args)
    if settings.log_file is not None:  # fail here, naming the setting, not inside Celery
        check_log_file(settings.log_file)
    if args.role == "orchestrator":
        settings_records_ready(settings)
    command = worker_command(args.name or f"{args.role}-{os.getpid()}", args.role,
                             concurrency=args.concurrency, trials_per_child=args.trials_per_child)
    # become the worker (signals reach Celery directly), holding only the settings it reads
    env = child_environ(settings, ORCHESTRATOR if args.role == "orchestrator" else GPU_WORKER)
    os.execve(command[0], command, env)
    return 0  # pragma: no cover


def settings_records_ready(settings: Any) -> None:
    """The orchestrator needs the schema: upgrade it before taking jobs."""
    from onegin.records.migrate import upgrade

    upgrade(settings.database_url)


def _db_parser(sub: Any) -> None:
    p = sub.add_parser("db", help="database maintenance")
    p.add_argument("action", choices=("upgrade",))
    add_settings_flags(p)
    p.set_defaults(run=_run_db)


def _run_db(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    settings_records_ready(settings)
    Console().print(f"database schema is up to date ({settings.redacted()['database_url']})")
    return 0


def _cancel_parser(sub: Any) -> None:
    p = sub.add_parser("cancel", help="cancel a job: running trials stop within one batch")
    p.add_argument("job_id")
    add_settings_flags(p)
    p.set_defaults(run=_run_cancel)


def _run_cancel(args: argparse.Namespace) -> int:
    """A queued job is cancelled at once (no orchestrator needed); a running one stops."""
    from onegin.records import InvalidTransition
    from onegin.services import Services
    from onegin.submission import cancel_job

    services = Services(settings_from_args(args))
    try:
        job = cancel_job(services.records, services.events, args.job_id)
    except InvalidTransition as exc:
        Console().print(f"job {args.job_id} already {exc.current}")
        return 0
    Console().print(f"job {job.id}: {job.status}")
    return 0


def _token_parser(sub: Any) -> None:
    p = sub.add_parser("token", help="web API tokens: create, list, revoke")
    actions = p.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create a token and print it (shown only once)")
    create.add_argument("name", help="who or what the token is for")
    create.add_argument("--max-trials", type=int, help="most trials per job (default: setting)")
    create.add_argument("--max-epochs", type=int, help="most epochs per trial (default: setting)")
    create.add_argument("--max-concurrency", type=int,
                        help="most trials at once per job (default: setting)")
    create.add_argument("--admin", action="store_true",
                        help="may list and revoke every token over the web API")
    add_settings_flags(create)
    create.set_defaults(run=_run_token_create)
    listing = actions.add_parser("list", help="every token: id, name, admin, created, last "
                                 "used, revoked (never a secret: none is stored)")
    add_settings_flags(listing)
    listing.set_defaults(run=_run_token_list)
    revoke = actions.add_parser("revoke", help="revoke a token: its requests fail at once, "
                                "its browser sessions end, its live connections close")
    revoke.add_argument("token", metavar="ID_OR_NAME", help="the token's id, or its name")
    add_settings_flags(revoke)
    revoke.set_defaults(run=_run_token_revoke)


def _run_token_create(args: argparse.Namespace) -> int:
    from onegin.records import InvalidField
    from onegin.services import Services

    records = Services(settings_from_args(args)).records
    try:
        token, secret = records.create_token(
            args.name, admin=args.admin, max_trials=args.max_trials,
            max_epochs=args.max_epochs, max_concurrency=args.max_concurrency)
    except InvalidField as exc:
        raise ConfigError(exc.field.replace("_", "-"), exc.reason) from None
    kind = "admin token" if token.admin else "token"
    console.print(f"{kind} {token.id} ({token.name}) created; it is shown only this once:")
    print(secret, flush=True)
    return 0


def _run_token_list(args: argparse.Namespace) -> int:
    from onegin.services import Services

    tokens = Services(settings_from_args(args)).records.list_tokens()
    print(format_tokens(tokens), end="", flush=True)
    return 0


def format_tokens(tokens: Sequence[Any]) -> str:
    """`TokenRecord` listings as aligned text columns (UTC, to the minute), one per line."""
    def when(value: Any) -> str:
        return value.strftime("%Y-%m-%d %H:%M") if value is not None else "-"

    rows = [("ID", "NAME", "ADMIN", "CREATED (UTC)", "LAST USED", "REVOKED")]
    rows += [(t.id, t.name, "yes" if t.admin else "no", when(t.created_at),
              when(t.last_used_at), when(t.revoked_at)) for t in tokens]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True))
                   .rstrip() + "\n" for row in rows)


def _run_token_revoke(args: argparse.Namespace) -> int:
    from onegin.records import InvalidField, RecordNotFound, resolve_token
    from onegin.services import Services

    records = Services(settings_from_args(args)).records
    try:
        token = resolve_token(records.list_tokens(), args.token)
    except RecordNotFound:
        raise ConfigError("token", f"no token has the id or name {args.token!r} "
                          "(see 'onegin token list')") from None
    except InvalidField as exc:
        raise ConfigError("token", exc.reason) from None
    if not token.active:
        console.print(f"token {token.id} ({token.name}) was already revoked")
        return 0
    records.revoke_token(token.id)
    console.print(f"token {token.id} ({token.name}) revoked: its requests get 401 and its "
                  "browser sessions are ended; web servers disconnect its live clients "
                  "within session_check_interval")
    return 0


class _Parser(argparse.ArgumentParser):
    """Says why a command is unknown when a role's commands could not be added."""

    missing_roles = ""

    def error(self, message: str) -> NoReturn:
        if self.missing_roles and "invalid choice" in message:
            message = f"{message}\n{self.missing_roles}"
        super().error(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="onegin", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    _optimize_parser(sub)
    _compare_parser(sub)
    _worker_parser(sub)
    _db_parser(sub)
    _cancel_parser(sub)
    _token_parser(sub)
    # these import this module's helpers
    from onegin.tensorboard.command import add_tensorboard_parser
    from onegin.upload_commands import add_dataset_parser

    add_dataset_parser(sub)
    add_tensorboard_parser(sub)
    parser.missing_roles = _add_role_commands(sub)
    return parser


def _add_role_commands(sub: Any) -> str:
    """Each installed role's subcommands; what is missing and why ("" when nothing is).

    A role whose package this installation lacks (the GPU image has no web app) is
    left out, so the core's commands still work.
    """
    from importlib.metadata import entry_points

    found = sorted(entry_points(group=COMMANDS_GROUP), key=lambda point: point.name)
    if not found:
        return (f"the roles' commands (web, trial, …) are found through the package's "
                f"{COMMANDS_GROUP!r} entry points, and this installation has none: "
                "run `pip install -e .` in the repository")
    missing: list[str] = []
    for point in found:
        try:
            register = point.load()
        except ModuleNotFoundError as exc:  # the role itself is absent; any other error shows
            if exc.name is None or not f"{point.module}.".startswith(f"{exc.name}."):
                raise
            missing.append(f"`onegin {point.name}` ({exc})")
            continue
        register(sub)
    if not missing:
        return ""
    return (f"not installed here: {', '.join(missing)}; install its role "
            "(`pip install -e .` in the repository)")


def _print_invalid(error: ConfigError) -> None:
    """One line per bad field, however narrow the terminal; markup in values is shown as is."""
    from rich.markup import escape

    console.print(f"[red]invalid {escape(str(error.field))}[/red]: {escape(error.reason)}",
                  soft_wrap=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except ConfigError as exc:
        _print_invalid(exc)
        return 2
    except ConfigErrors as exc:
        for error in exc.errors:
            _print_invalid(error)
        return 2
    except DatasetUnavailable as exc:
        console.print(f"[red]dataset unavailable[/red]: {exc}")
        return 3
    except TrialFailed as exc:
        console.print(f"[red]trial failed[/red]: {exc}")
        return 4
    except TrialCancelled:
        console.print("[yellow]cancelled[/yellow]")
        return 130
    except KeyboardInterrupt:  # Ctrl-C: whatever it stopped has said so
        return 130


if __name__ == "__main__":
    sys.exit(main())
