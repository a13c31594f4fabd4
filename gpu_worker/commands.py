"""`onegin trial`: train one trial here and print its metrics, no queue or database.

Registered in the ``onegin.commands`` entry-point group (pyproject.toml), so the
core's command line finds it without importing the GPU worker; TensorFlow loads
only when the command runs.
"""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from onegin.cli import console
from onegin.scoring import HEALTH_COMPONENTS, OBJECTIVES


def register(sub: Any) -> None:
    p = sub.add_parser("trial", help="train one trial locally and print its metrics")
    p.add_argument("--dataset", default="digits", help="dataset name (default: digits)")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--out", required=True, type=Path, help="directory for the trial's artifacts")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="fix a hyperparameter (repeatable)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--objective", choices=OBJECTIVES, default="health")
    p.add_argument("--plots", choices=("all", "none"), default="all")
    p.add_argument("--max-train-samples", type=int)
    p.add_argument("--max-eval-samples", type=int)
    p.add_argument("--data-dir", help="offline data directory (default: $ONEGIN_DATA_DIR)")
    p.add_argument("--threads", type=int, help="TensorFlow threads (default: $ONEGIN_TF_THREADS)")
    p.add_argument("--no-tensorboard", action="store_true")
    p.add_argument("--holdout", action="store_true",
                   help="also score the model on the holdout split (docs/api.md)")
    p.set_defaults(run=_run_trial)


def _run_trial(args: argparse.Namespace) -> int:
    from gpu_worker.datasets import get_spec
    from gpu_worker.runtime import configure_tensorflow
    from gpu_worker.trainer import TrialHooks, train_trial
    from onegin.search_space import space_for
    from onegin.trial_message import TrialSpec

    space = space_for(get_spec(args.dataset).modality)
    params = space.parse_assignments(args.param)
    space.resolve(params)  # the user's input, checked here as a job's is at submission
    spec = TrialSpec.from_dict({  # checked as a message from the orchestrator would be
        "dataset": args.dataset, "epochs": args.epochs, "seed": args.seed,
        "objective": args.objective, "params": params,
        "plot_mode": args.plots, "max_train_samples": args.max_train_samples,
        "max_eval_samples": args.max_eval_samples, "data_dir": args.data_dir,
        "tensorboard": not args.no_tensorboard, "holdout": args.holdout,
    })
    configure_tensorflow(args.threads)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    columns = (TextColumn("{task.description:<18}"), BarColumn(),
               TextColumn("{task.fields[info]}"), TimeElapsedColumn())
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("starting", total=1.0, info="")

        def show(progress: Any) -> None:
            info = f"epoch {progress.epoch}/{progress.epochs}" if progress.epoch else ""
            if "loss" in progress.metrics:
                info += f"  loss {progress.metrics['loss']:.4f}"
            bar.update(task, completed=progress.fraction, description=progress.phase, info=info)

        result = train_trial(spec, args.out, TrialHooks(on_progress=show, is_cancelled=stop.is_set))
    print_result(result.to_dict(), args.out)
    return 0


def print_result(result: dict[str, Any], out: Path) -> None:
    """A table of the headline metrics and, when measured, the health components."""
    table = Table(title=f"Trial ({result['status']}) — {result['architecture_summary']}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key in ("val_accuracy", "val_loss", "test_accuracy", "test_loss", "health_score",
                "total_score"):
        if result.get(key) is not None:
            table.add_row(key, f"{result[key]:.4f}")
    table.add_row("parameters", f"{result['param_count']:,}")
    table.add_row("epochs", str(result["epochs_run"]))
    if result.get("stopped_epoch"):
        table.add_row("early stopping ended it in epoch", str(result["stopped_epoch"]))
    for name in HEALTH_COMPONENTS if result.get("health") else ():
        table.add_row(f"health · {name}", f"{result['health'][name]:.3f}")
    holdout = result.get("holdout")
    if holdout:
        for key in ("accuracy", "worst_class_accuracy", "ece", "brier", "robustness_mean"):
            table.add_row(f"holdout · {key}", f"{holdout[key]:.4f}")
        table.add_row("holdout · ms per 256", f"{holdout['latency_ms_per_256']:.2f}")
    table.add_row("training seconds", f"{result['timings'].get('training', 0):.1f}")
    Console().print(table)
    Console().print(f"artifacts in {out}")
