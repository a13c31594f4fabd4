"""Engine overhead: plain ``model.fit`` vs `train_trial` on the same model and data.

Both sides build the same default CNN with the same seed, train on the shared
MNIST test set split 8,000 / 2,000, evaluate on the 2,000 and save the model.
The engine runs with progress, cancel and pruning callbacks on and health and
plots off; the target is a median time ratio of at most 1.05. Then it reports
the extra seconds of health metrics and of each plot, and the test accuracy.

    .venv/bin/python benchmarks/engine.py [--epochs 3] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from benchmarks.common import SHARED_DATA, environment, interleave, median, timed, write

TARGET_RATIO = 1.05


def mnist_8k_2k(data_dir: Path) -> Any:
    """The shared 10,000 MNIST digits as 8,000 train / 2,000 validation-and-test."""
    from gpu_worker.datasets import PreparedData, load_dataset

    pool = load_dataset("mnist", data_dir=data_dir, seed=0)
    x = np.concatenate([pool.x_train, pool.x_val, pool.x_test, pool.x_holdout])
    y = np.concatenate([pool.y_train, pool.y_val, pool.y_test, pool.y_holdout])
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], y[order]
    train, test = slice(0, 8000), slice(8000, 10000)
    return PreparedData(
        spec=pool.spec, class_names=pool.class_names, vocab_size=None,
        x_train=x[train], y_train=y[train], x_val=x[test], y_val=y[test],
        x_test=x[test], y_test=y[test], x_holdout=x[:0], y_holdout=y[:0],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data-dir", type=Path, default=SHARED_DATA)
    args = parser.parse_args()

    from gpu_worker.builder import build_model
    from gpu_worker.runtime import configure_tensorflow, seed_everything
    from gpu_worker.trainer import TrialHooks, train_trial
    from onegin.search_space import space_for
    from onegin.trial_message import TrialSpec

    configure_tensorflow()
    data = mnist_8k_2k(args.data_dir)
    params = space_for("image").defaults()
    scratch = Path(tempfile.mkdtemp(prefix="onegin-bench-"))
    events = [0]
    stop = threading.Event()

    def count(_progress: object) -> None:
        events[0] += 1

    hooks = TrialHooks(on_progress=count, is_cancelled=stop.is_set,
                       should_prune=lambda: None)

    def plain() -> float:
        seed_everything(0)
        model = build_model(params, modality="image", input_shape=data.input_shape,
                            num_classes=data.num_classes).model
        model.fit(data.x_train, data.y_train, validation_data=(data.x_val, data.y_val),
                  epochs=args.epochs, batch_size=params["batch_size"], shuffle=True, verbose=0)
        _, accuracy = model.evaluate(data.x_test, data.y_test, batch_size=256, verbose=0)
        model.save(scratch / "plain.keras")
        return float(accuracy)

    def engine(**options: Any) -> Any:
        quiet: dict[str, Any] = {"objective": "simple", "health": False, "plot_mode": "none",
                                 "tensorboard": False}
        spec = TrialSpec(dataset="mnist", params=params, epochs=args.epochs, seed=0,
                         **(quiet | options))
        return train_trial(spec, scratch / "engine", hooks, data=data)

    plain()  # warm-up: first traces and kernel caches
    engine()
    seconds = interleave({"plain_fit": plain, "engine": engine}, args.repeats)
    ratio = median(seconds["engine"]) / median(seconds["plain_fit"])

    health_wall, with_health = timed(lambda: engine(objective="health", health=True))
    plots_wall, with_plots = timed(lambda: engine(plot_mode="all"))
    base = median(seconds["engine"])
    plot_seconds = {k.removeprefix("plot_"): v for k, v in with_plots.timings.items()
                    if k.startswith("plot_")}
    payload = {
        "environment": environment(),
        "epochs": args.epochs, "repeats": args.repeats,
        "train_samples": len(data.x_train), "test_samples": len(data.x_test),
        "seconds": seconds, "median_seconds": {k: median(v) for k, v in seconds.items()},
        "ratio_engine_over_plain": ratio, "target_ratio": TARGET_RATIO,
        "meets_target": ratio <= TARGET_RATIO,
        "progress_events_total": events[0],
        "health_extra_seconds": health_wall - base,
        "health_phase_seconds": with_health.timings["computing_health"],
        "plots_extra_seconds": plots_wall - base,
        "plot_seconds": plot_seconds,
        "test_accuracy_default_cnn": with_health.test_accuracy,
        "health_components_default_cnn": with_health.health,
    }
    rows = [
        ("plain model.fit, median s", f"{median(seconds['plain_fit']):.2f}"),
        ("engine, median s", f"{base:.2f}"),
        ("ratio engine / plain", f"{ratio:.3f} (target <= {TARGET_RATIO})"),
        ("health: extra s (phase s)", f"{health_wall - base:.2f} "
                                      f"({with_health.timings['computing_health']:.2f})"),
        *((f"plot {name}, s", f"{value:.2f}") for name, value in sorted(plot_seconds.items())),
        ("test accuracy, default CNN", f"{with_health.test_accuracy:.4f}"),
    ]
    write("engine", payload, rows)


if __name__ == "__main__":
    main()
