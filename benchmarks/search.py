"""Search quality per second: Onegin's default search vs a plain Optuna script.

Arms, each per (dataset, budget, seed), two trials or cores at a time:

- ``onegin``: ``onegin.optimize`` on the embedded default (SQLite, filesystem broker,
  two local worker processes with one TensorFlow thread each), objective ``simple``.
- ``onegin-wide``: the same with ``space="wide", warm_start=False, hopeless_stop=False``.
- ``optuna-tpe``: one process, ``TPESampler(seed)`` on the same default space
  (``space_for(modality, name="default", facts=...)``), the same Keras builder and a
  plain ``model.fit`` on the same split (TensorFlow on every core), last-epoch
  validation accuracy as the objective. No orchestration, health or plots.
- ``random``: the same script with ``RandomSampler(seed)``.
- ``onegin-schedules``, ``onegin-early-stopping``, ``onegin-schedules-early-stopping``:
  ``onegin`` with the learning-rate schedules, early stopping or both searched too
  (``params`` narrowing ``lr_schedule`` to every schedule, ``early_stopping`` to both):
  whether they earn a place in the default space (docs/search.md).

The scripts build through the same builder, so they search what the default space
searches, schedules and early stopping included (Keras' callbacks for them passed to
``model.fit``, the kept epoch's validation accuracy as the objective).

Per run: best validation accuracy, the best model's test and holdout accuracy, time
to target (target = 99.5 % of the best validation accuracy any arm reached for that
dataset and budget), the share of trials within 10 points of chance (the majority-class
share of the validation labels), median and worst trial time, and wall time. Then
medians over seeds and the two verdicts: (1) Onegin's median time to target is at
most half the TPE script's and its median best is at least the script's; (2) at most
one Onegin trial in 12 ends within 10 points of chance.

    .venv/bin/python benchmarks/search.py [--datasets digits mnist sms_spam]
        [--budgets 12 30] [--seeds 3] [--arms ...] [--epochs 3]

Results: ``--out`` (``benchmarks/results/search.json``) and a table beside it (``.md``).

Every arm trains on the same split (``load_dataset(seed=seed)``: Onegin's trials all
use the job's seed for the split), so holdout accuracies are comparable.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from benchmarks.common import RESULTS, SHARED_DATA, environment

ARMS = ("onegin", "onegin-wide", "optuna-tpe", "random")
PRUNER_ARMS = ("onegin-no-pruner", "onegin-successive-halving", "onegin-hyperband")
SCHEDULE_ARMS = ("onegin-schedules", "onegin-early-stopping", "onegin-schedules-early-stopping")
SCHEDULES = {"lr_schedule": {"choices": ["constant", "cosine", "exponential", "step",
                                         "plateau"]}}
EARLY_STOPPING = {"early_stopping": {"choices": [False, True]}}
TARGET_FRACTION = 0.995
CHANCE_MARGIN = 0.10
MAX_NEAR_CHANCE_SHARE = 1 / 12
SPEEDUP = 0.5
ARM_FIELDS: dict[str, dict[str, Any]] = {
    "onegin": {},  # the new defaults: space "default", warm start and hopeless stop on
    "onegin-wide": {"space": "wide", "warm_start": False, "hopeless_stop": False},
    # the default pruner is median; these arms choose it (docs/search.md)
    "onegin-no-pruner": {"pruner": "none"},
    "onegin-successive-halving": {"pruner": "successive_halving"},
    "onegin-hyperband": {"pruner": "hyperband"},
    # the default space, searching the schedules, early stopping or both as well
    "onegin-schedules": {"params": SCHEDULES},
    "onegin-early-stopping": {"params": EARLY_STOPPING},
    "onegin-schedules-early-stopping": {"params": SCHEDULES | EARLY_STOPPING},
}


# ------------------------------------------------------------------- pure summary


@dataclass(frozen=True)
class TrialPoint:
    """One trial as the summary sees it; times in seconds from the run's start."""

    val_accuracy: float | None
    finished_s: float | None
    seconds: float | None
    completed: bool


@dataclass
class RunResult:
    arm: str
    dataset: str
    budget: int
    seed: int
    trials: list[TrialPoint]
    best_val: float | None
    test_accuracy: float | None
    holdout_accuracy: float | None
    chance: float
    wall_s: float
    space: str = ""
    notes: list[str] = field(default_factory=list)
    time_to_target_s: float | None = None


def chance_level(labels: Sequence[int]) -> float:
    """The majority-class share: what always guessing the commonest class scores."""
    counts: dict[int, int] = {}
    for label in labels:
        counts[int(label)] = counts.get(int(label), 0) + 1
    return max(counts.values()) / len(labels)


def best_val(trials: Iterable[TrialPoint]) -> float | None:
    values = [t.val_accuracy for t in trials if t.completed and t.val_accuracy is not None]
    return max(values) if values else None


def target(bests: Iterable[float | None], fraction: float = TARGET_FRACTION) -> float | None:
    """``fraction`` of the best validation accuracy any run reached; None when none did."""
    values = [b for b in bests if b is not None]
    return fraction * max(values) if values else None


def time_to_target(trials: Iterable[TrialPoint], goal: float | None) -> float | None:
    """When the first completed trial at or above ``goal`` ended; None if none did."""
    if goal is None:
        return None
    ends = [t.finished_s for t in trials if t.completed and t.finished_s is not None
            and t.val_accuracy is not None and t.val_accuracy >= goal]
    return min(ends) if ends else None


def near_chance(trials: Iterable[TrialPoint], chance: float,
                margin: float = CHANCE_MARGIN) -> tuple[int, int]:
    """(trials within ``margin`` of chance, trials with a validation accuracy), pruned too."""
    scored = [t.val_accuracy for t in trials if t.val_accuracy is not None]
    return sum(v <= chance + margin for v in scored), len(scored)


def median_or_none(values: Iterable[float | None]) -> float | None:
    """Median where None means "never" (+inf); None when the median itself is never."""
    finite = [math.inf if v is None else v for v in values]
    if not finite:
        return None
    middle = statistics.median(finite)
    return None if math.isinf(middle) else float(middle)


def trial_seconds(trials: Iterable[TrialPoint]) -> list[float]:
    return [t.seconds for t in trials if t.seconds is not None]


def summarize(runs: Sequence[RunResult]) -> dict[str, Any]:
    """Medians over seeds for one arm on one (dataset, budget)."""
    near = [near_chance(r.trials, r.chance) for r in runs]
    durations = [s for r in runs for s in trial_seconds(r.trials)]
    return {
        "runs": len(runs),
        "best_val": median_or_none(r.best_val for r in runs),
        "test_accuracy": median_or_none(r.test_accuracy for r in runs),
        "holdout_accuracy": median_or_none(r.holdout_accuracy for r in runs),
        "time_to_target_s": median_or_none(r.time_to_target_s for r in runs),
        "reached_target": sum(r.time_to_target_s is not None for r in runs),
        "near_chance": sum(n for n, _ in near),
        "scored_trials": sum(total for _, total in near),
        "trial_s_median": median_or_none(durations),
        "trial_s_worst": max(durations) if durations else None,
        "wall_s": median_or_none(r.wall_s for r in runs),
    }


def verdicts(by_arm: Mapping[str, Mapping[str, Any]]) -> dict[str, bool | None]:
    """The two targets for one (dataset, budget); None when an arm needed is missing."""
    ours, script = by_arm.get("onegin"), by_arm.get("optuna-tpe")
    faster: bool | None = None
    if ours is not None and script is not None:
        mine, theirs = ours["time_to_target_s"], script["time_to_target_s"]
        quick = mine is not None and (theirs is None or mine <= SPEEDUP * theirs)
        good = ours["best_val"] is not None and (
            script["best_val"] is None or ours["best_val"] >= script["best_val"])
        faster = quick and good
    few_hopeless: bool | None = None
    if ours is not None and ours["scored_trials"]:
        few_hopeless = ours["near_chance"] <= MAX_NEAR_CHANCE_SHARE * ours["scored_trials"]
    return {"faster_and_as_good_as_tpe": faster, "at_most_1_in_12_near_chance": few_hopeless}


def assign_targets(runs: Sequence[RunResult]) -> dict[tuple[str, int], float | None]:
    """Target per (dataset, budget) across arms and seeds; sets each run's time to it."""
    groups: dict[tuple[str, int], list[RunResult]] = {}
    for run in runs:
        groups.setdefault((run.dataset, run.budget), []).append(run)
    goals = {key: target(r.best_val for r in group) for key, group in groups.items()}
    for run in runs:
        run.time_to_target_s = time_to_target(run.trials, goals[run.dataset, run.budget])
    return goals


# ----------------------------------------------------------------------- the arms


@dataclass(frozen=True)
class Bench:
    epochs: int
    max_train_samples: int | None
    max_eval_samples: int | None
    data_dir: Path


def _data(dataset: str, bench: Bench, seed: int) -> Any:
    from gpu_worker.datasets import load_dataset

    return load_dataset(dataset, data_dir=bench.data_dir, seed=seed,
                        max_train_samples=bench.max_train_samples,
                        max_eval_samples=bench.max_eval_samples)


def _holdout(model: Any, data: Any) -> float | None:
    if not len(data.y_holdout):
        return None
    _, accuracy = model.evaluate(data.x_holdout, data.y_holdout, batch_size=256, verbose=0)
    return float(accuracy)


def default_space(dataset: str, bench: Bench) -> Any:
    """The default space sized exactly as an Onegin job on this dataset sizes it."""
    from onegin.datasets import facts_for, get_spec
    from onegin.search_space import space_for

    return space_for(get_spec(dataset).modality, name="default",
                     facts=facts_for(dataset, bench.max_train_samples))


def run_script(arm: str, dataset: str, budget: int, seed: int, bench: Bench) -> RunResult:
    """Plain Optuna in this process: suggest, build, ``model.fit``; the best model kept."""
    import optuna

    from gpu_worker.builder import build_model
    from gpu_worker.runtime import seed_everything
    from gpu_worker.schedules import TrainingLength, kept_epoch

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    data = _data(dataset, bench, seed)
    space = default_space(dataset, bench)
    sampler: optuna.samplers.BaseSampler = (
        optuna.samplers.TPESampler(seed=seed) if arm == "optuna-tpe"
        else optuna.samplers.RandomSampler(seed=seed))
    study = optuna.create_study(direction="maximize", sampler=sampler)
    points: list[TrialPoint] = []
    kept: dict[str, Any] = {}

    def objective(trial: optuna.Trial) -> float:
        began = time.perf_counter()
        params = space.suggest(trial)
        seed_everything(seed + trial.number)
        built = build_model(params, modality=data.modality, input_shape=data.input_shape,
                            num_classes=data.num_classes, vocab_size=data.vocab_size,
                            length=TrainingLength(bench.epochs, len(data.x_train)))
        model = built.model
        fit = model.fit(data.x_train, data.y_train, validation_data=(data.x_val, data.y_val),
                        epochs=bench.epochs, batch_size=int(params["batch_size"]),
                        callbacks=list(built.callbacks), shuffle=True, verbose=0)
        runs = len(fit.history["val_accuracy"])
        value = float(fit.history["val_accuracy"][kept_epoch(built.early_stopping, runs)])
        if value > kept.get("value", -1.0):
            kept.update(value=value, model=model)
        end = time.perf_counter()
        points.append(TrialPoint(value, end - start, end - began, True))
        return value

    start = time.perf_counter()
    study.optimize(objective, n_trials=budget, n_jobs=1, catch=(Exception,))
    wall = time.perf_counter() - start
    best = kept.get("model")
    test = None
    if best is not None:
        test = float(best.evaluate(data.x_test, data.y_test, batch_size=256, verbose=0)[1])
    failed = sum(t.state == optuna.trial.TrialState.FAIL for t in study.trials)
    notes = [f"{failed} trial(s) raised"] if failed else []
    return RunResult(arm, dataset, budget, seed, points, best_val(points), test,
                     _holdout(best, data) if best is not None else None,
                     chance_level(data.y_val), wall, "default", notes)


def onegin_config(arm: str, dataset: str, budget: int, seed: int, bench: Bench) -> Any:
    from onegin.job_config import OptimizationConfig

    return OptimizationConfig.from_dict({
        "dataset": dataset, "trials": budget, "concurrency": 2, "epochs": bench.epochs,
        "objective": "simple", "seed": seed, "max_train_samples": bench.max_train_samples,
        "max_eval_samples": bench.max_eval_samples, **ARM_FIELDS[arm]})


def _seconds(since: dt.datetime | None, until: dt.datetime | None) -> float | None:
    return (until - since).total_seconds() if since and until else None


def run_onegin(arm: str, dataset: str, budget: int, seed: int, bench: Bench) -> RunResult:
    """``onegin.optimize`` with a fresh home; times from the job's records."""
    import keras

    import onegin
    from onegin.records import RecordStore
    from onegin.settings import load_settings
    from onegin.statuses import JobStatus, TrialStatus

    config = onegin_config(arm, dataset, budget, seed, bench)
    home = Path(tempfile.mkdtemp(prefix=f"onegin-search-{arm}-"))
    settings = load_settings(env={}, overrides={
        "home": str(home), "offline": True, "data_dir": str(bench.data_dir)})
    start = time.perf_counter()
    result = onegin.optimize(config, settings=settings)
    wall = time.perf_counter() - start
    records = RecordStore(settings.database_url)
    job = records.get_job(result.job_id)
    trials, _ = records.list_trials(result.job_id, limit=100_000)
    points = [TrialPoint(t.val_accuracy, _seconds(job.started_at, t.finished_at),
                         _seconds(t.started_at, t.finished_at), t.status == TrialStatus.COMPLETED)
              for t in trials]
    notes = [] if result.status == JobStatus.COMPLETED else [f"job {result.status}: {result.error}"]
    best = next((t for t in trials if t.number == result.best_trial), None)
    test = holdout = best_value = None
    if best is not None:
        best_value, test = best.val_accuracy, (best.metrics or {}).get("test_accuracy")
        model_file = home / "artifacts" / result.best_prefix / "model.keras"
        data = _data(dataset, bench, seed)  # the job's split: every trial trained on it
        if model_file.is_file():
            holdout = _holdout(keras.models.load_model(model_file), data)
        else:
            notes.append(f"no best model at {model_file}")
    return RunResult(arm, dataset, budget, seed, points, best_value, test, holdout,
                     chance_level(_data(dataset, bench, seed).y_val), wall,
                     config.space_name, notes)


RUNNERS: dict[str, Callable[[str, str, int, int, Bench], RunResult]] = {
    "onegin": run_onegin, "onegin-wide": run_onegin,
    **dict.fromkeys(PRUNER_ARMS + SCHEDULE_ARMS, run_onegin),
    "optuna-tpe": run_script, "random": run_script,
}


# ------------------------------------------------------------------------- output


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "—"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def table(summary: Mapping[str, Any]) -> str:
    head = ("| dataset | budget | arm | best val | test | holdout | time to target s "
            "| near chance | trial s med / worst | wall s |")
    lines = [head, "|" + "---|" * head.count(" | ") + "---|"]
    for key, group in summary.items():
        dataset, budget = key.split("@")
        for arm, row in group["arms"].items():
            reached = f"{_fmt(row['time_to_target_s'], 1)} ({row['reached_target']}/{row['runs']})"
            lines.append(
                f"| {dataset} | {budget} | {arm} | {_fmt(row['best_val'])} "
                f"| {_fmt(row['test_accuracy'])} | {_fmt(row['holdout_accuracy'])} | {reached} "
                f"| {row['near_chance']}/{row['scored_trials']} "
                f"| {_fmt(row['trial_s_median'], 1)} / {_fmt(row['trial_s_worst'], 1)} "
                f"| {_fmt(row['wall_s'], 1)} |")
    out = ["\n".join(lines), ""]
    for key, group in summary.items():
        out.append(f"{key}: target {_fmt(group['target'])}; verdicts {group['verdicts']}")
    out.append("medians over seeds; holdout '—' = no holdout split or no best model; "
               "time to target '—' = not reached by the median seed")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["digits", "mnist", "sms_spam"])
    parser.add_argument("--budgets", nargs="+", type=int, default=[12, 30])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--arms", nargs="+", choices=ARMS + PRUNER_ARMS + SCHEDULE_ARMS,
                        default=list(ARMS),
                        help="the pruner arms compare pruners on Onegin's default search; "
                             "the schedule arms add schedules and early stopping to it")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--max-train-samples", type=int, default=None)
    parser.add_argument("--max-eval-samples", type=int, default=None)
    parser.add_argument("--data-dir", type=Path, default=SHARED_DATA)
    parser.add_argument("--out", type=Path, default=RESULTS / "search.json")
    args = parser.parse_args()
    bench = Bench(args.epochs, args.max_train_samples, args.max_eval_samples,
                  args.data_dir.resolve())

    from gpu_worker.runtime import configure_tensorflow

    # this process trains the script arms (a plain script uses every core) and evaluates
    # holdouts; TensorFlow takes its threads once, before its first use
    configure_tensorflow(os.cpu_count())
    runs: list[RunResult] = []
    summary: dict[str, Any] = {}
    for dataset in args.datasets:
        for budget in args.budgets:
            for seed in range(args.seeds):
                for arm in args.arms:  # arms interleaved per seed: machine drift hits all
                    print(f"{dataset} budget {budget} seed {seed}: {arm} ...", flush=True)
                    runs.append(RUNNERS[arm](arm, dataset, budget, seed, bench))
                    summary = write(args, runs)  # after every run: a cut-short one keeps it
    print("\n" + table(summary))
    print(f"\nwritten to {args.out}")


def write(args: argparse.Namespace, runs: Sequence[RunResult]) -> dict[str, Any]:
    """Summarize the runs so far and write them all to ``args.out``; the summary."""
    goals = assign_targets(runs)
    summary: dict[str, Any] = {}
    for (dataset, budget), goal in goals.items():
        arms = {arm: summarize([r for r in runs if (r.dataset, r.budget, r.arm)
                                == (dataset, budget, arm)])
                for arm in args.arms
                if any((r.dataset, r.budget, r.arm) == (dataset, budget, arm) for r in runs)}
        summary[f"{dataset}@{budget}"] = {"target": goal, "arms": arms,
                                          "verdicts": verdicts(arms)}
    payload = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "environment": environment() | {"cpu_count": os.cpu_count()},
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "definitions": {
            "target": f"{TARGET_FRACTION} x the best validation accuracy of any arm and seed",
            "near_chance": f"val_accuracy <= majority-class share + {CHANCE_MARGIN}",
            "verdict_1": f"median time to target of onegin <= {SPEEDUP} x optuna-tpe's "
                         "and median best of onegin >= optuna-tpe's",
            "verdict_2": "near-chance onegin trials <= 1/12 of its scored trials (seeds pooled)",
            "arm_fields": ARM_FIELDS,
            "splits": "every arm: load_dataset(seed=seed), Onegin's trials included",
        },
        "summary": summary,
        "runs": [asdict(r) for r in runs],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=2))
    args.out.with_suffix(".md").write_text(table(summary) + "\n")
    return summary


if __name__ == "__main__":
    main()
