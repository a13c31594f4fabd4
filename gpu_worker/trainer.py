"""Train one trial end to end and leave its artifacts in a directory.

The Celery task and the CLI both call `train_trial`; it loads the (cached)
dataset, builds the model, trains with progress/cancel/pruning callbacks,
measures health (and, when the job asks, the holdout report), renders plots and
saves `model.keras`, `history.json`, `metrics.json`, `architecture.json`,
`plots/*.png` and TensorBoard logs.

A hopeless trial (its loss blew up, or it is at chance after its first or last
epoch; see `onegin.hopeless`) and a trial the stop flag prunes end at once as
``pruned`` with a ``prune_reason`` and its evidence; only ``architecture.json``,
``history.json`` and ``metrics.json`` are kept for them. A trial that early stopping
ends (`gpu_worker.schedules`) is ``completed``, with its ``stopped_epoch`` and the
metrics of the best epoch, whose weights it keeps.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from onegin.artifacts import TENSORBOARD_FOLDER
from onegin.errors import TrialCancelled, TrialFailed
from onegin.hopeless import chance_level, diverged, prior_loss
from onegin.json_values import finite_or_none
from onegin.progress import Phase, Progress
from onegin.scoring import health_score, total_score
from onegin.trial_message import TrialResult, TrialSpec

if TYPE_CHECKING:
    from gpu_worker.datasets import PreparedData

PROGRESSION_SAMPLES = 128


@dataclass
class TrialHooks:
    """How the outside world watches and steers a trial (all optional).

    ``should_prune`` is asked after every batch (at epoch ends only when the spec's
    ``hopeless_stop`` is off) and returns a prune reason (`onegin.hopeless.PRUNE_REASONS`)
    or None; the worker maps its stop flag with `prune_reason_for_stop`.
    """

    on_progress: Callable[[Progress], None] | None = None
    is_cancelled: Callable[[], bool] | None = None
    should_prune: Callable[[], str | None] | None = None


class _Timer:
    """Collects seconds per phase and reports each phase as it starts.

    ``epoch`` is the last epoch trained, set once training ends: the phases after it
    report it, so a card reads "epoch 2 of 2" while evaluating, not "before epoch 1".
    """

    def __init__(self, report: Callable[[Progress], None], epochs: int) -> None:
        self.seconds: dict[str, float] = {}
        self.epoch = 0
        self._report = report
        self._epochs = epochs

    @contextmanager
    def phase(self, name: Phase) -> Iterator[None]:
        self._report(Progress(name, epoch=self.epoch, epochs=self._epochs))
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, allow_nan=False, default=float))


def _history(raw: dict[str, list[Any]]) -> dict[str, list[float]]:
    return {key: [float(v) for v in values] for key, values in raw.items()}


def _json_history(history: dict[str, list[float]]) -> dict[str, list[float | None]]:
    """The history as JSON can hold it: a diverged epoch's NaN becomes None."""
    return {key: [finite_or_none(v) for v in values] for key, values in history.items()}


def _last(history: dict[str, list[float]], key: str) -> float | None:
    values = history.get(key)
    return finite_or_none(values[-1]) if values else None


def _diverged(history: dict[str, list[float]], num_classes: int) -> int | None:
    """First epoch whose loss `diverged` (checked after fit when hopeless stops are off)."""
    for i, loss in enumerate(history.get("loss", []), start=1):
        if diverged(loss, num_classes):
            return i
    return None


def train_trial(
    spec: TrialSpec,
    out_dir: str | Path,
    hooks: TrialHooks | None = None,
    data: PreparedData | None = None,
) -> TrialResult:
    """Run one trial; raises `TrialFailed` (bad model) or `TrialCancelled`.

    A diverged trial is pruned at the batch its loss blew up; with the spec's
    ``hopeless_stop`` off it trains on and raises `TrialFailed` after fit, as before.
    ``data`` replaces loading ``spec.dataset`` (in-memory data from Python, benchmarks).
    """
    import keras

    from gpu_worker.activation_progress import ActivationProgressRecorder
    from gpu_worker.architecture import summarize
    from gpu_worker.builder import build_model
    from gpu_worker.callbacks import (
        CancelCallback,
        HopelessCallback,
        ProgressCallback,
        PruningCallback,
    )
    from gpu_worker.datasets import load_dataset
    from gpu_worker.health import PROBE_LIMIT, BatchLossRecorder, compute_health
    from gpu_worker.holdout import evaluate_holdout
    from gpu_worker.plots import PlotInputs, render_plots
    from gpu_worker.runtime import configure_tensorflow, seed_everything
    from gpu_worker.schedules import TrainingLength, kept_epoch

    hooks = hooks or TrialHooks()
    report = hooks.on_progress or (lambda _progress: None)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    timer = _Timer(report, spec.epochs)
    configure_tensorflow()

    with timer.phase("loading_data"):
        data = data or load_dataset(
            spec.dataset, data_dir=spec.data_dir,
            seed=spec.split_seed,
            max_train_samples=spec.max_train_samples, max_eval_samples=spec.max_eval_samples,
        )
    with timer.phase("building"):
        seed_everything(spec.seed)
        try:
            built = build_model(
                spec.params, modality=data.modality, input_shape=data.input_shape,
                num_classes=data.num_classes, vocab_size=data.vocab_size,
                length=TrainingLength(spec.epochs, len(data.x_train)),
            )
        except (ValueError, TypeError) as exc:  # ConfigError is a ValueError: invalid model
            raise TrialFailed(f"the model could not be built: {exc}") from exc
    model = built.model
    params = built.params
    batch_size = int(params["batch_size"])
    steps = math.ceil(len(data.x_train) / batch_size)
    x_probe, y_probe = data.x_val[:PROBE_LIMIT], data.y_val[:PROBE_LIMIT]

    cancel = CancelCallback(hooks.is_cancelled) if hooks.is_cancelled else None
    hopeless = (
        HopelessCallback(data.num_classes, chance_level(data.y_val), prior_loss(data.y_val),
                         spec.epochs, steps)
        if spec.hopeless_stop else None
    )
    pruning = (PruningCallback(hooks.should_prune, per_batch=spec.hopeless_stop)
               if hooks.should_prune else None)
    losses = BatchLossRecorder() if spec.health else None
    progression = (
        ActivationProgressRecorder(data.x_val[:PROGRESSION_SAMPLES])
        if spec.plot_mode != "none" else None
    )
    callbacks: list[Any] = [
        c for c in (ProgressCallback(report, spec.epochs, steps), cancel, hopeless, pruning,
                    losses, progression,
                    None if spec.hopeless_stop else keras.callbacks.TerminateOnNaN())
        if c is not None
    ] + list(built.callbacks)  # after the stops: early stopping sees theirs first
    if spec.tensorboard:
        callbacks.append(keras.callbacks.TensorBoard(
            log_dir=str(out / TENSORBOARD_FOLDER), write_graph=False, profile_batch=0,
        ))

    with timer.phase("training"):
        fit = model.fit(
            data.x_train, data.y_train, validation_data=(data.x_val, data.y_val),
            epochs=spec.epochs, batch_size=batch_size, callbacks=callbacks, verbose=0,
            shuffle=True,
        )
    history = _history(fit.history)
    if cancel is not None and cancel.cancelled:
        raise TrialCancelled("training stopped: the job was cancelled")
    stop = next((c.stopped for c in (hopeless, pruning) if c is not None and c.stopped), None)
    bad_epoch = None if spec.hopeless_stop else _diverged(history, data.num_classes)
    if bad_epoch is not None:
        raise TrialFailed(
            f"training diverged: the loss blew up to {history['loss'][bad_epoch - 1]:.3g} "
            f"in epoch {bad_epoch}"
        )
    epochs_run = len(history.get("loss", []))
    timer.epoch = epochs_run
    kept = kept_epoch(built.early_stopping, epochs_run)
    # nothing else ends a completed trial before its budget (a cancel has raised)
    stopped_epoch = epochs_run if stop is None and epochs_run < spec.epochs else None
    if stopped_epoch is not None and hopeless is not None:
        stop = hopeless.ended_early({k: history[k][kept] for k in ("val_accuracy", "val_loss")})
    base: dict[str, Any] = {
        "params": params, "dataset": data.summary(), "epochs_run": epochs_run,
        "objective": spec.objective, "param_count": int(model.count_params()),
        "architecture_summary": summarize(built.architecture),
        "history": _json_history(history),
    }
    _write_json(out / "architecture.json", built.architecture)
    _write_json(out / "history.json", base["history"])

    if stop is not None:
        pruned_acc = _last(history, "val_accuracy")
        result = TrialResult(
            status="pruned", **base, val_accuracy=pruned_acc,
            val_loss=_last(history, "val_loss"), test_accuracy=None, test_loss=None,
            health=None, health_score=None,
            total_score=pruned_acc if pruned_acc is not None else 0.0,
            timings=timer.seconds, plots=[],
            artifacts=["architecture.json", "history.json", "metrics.json"],
            pruned_at_epoch=stop.epoch, prune_reason=stop.reason, prune_evidence=stop.evidence,
        )
        _write_json(out / "metrics.json", _metrics(result))
        report(Progress("done", epochs_run, spec.epochs, 1.0))
        return result

    eval_batch = max(batch_size, 256)
    with timer.phase("evaluating"):
        # fit already scored the final weights on validation; predict only when
        # health or plots need the predictions themselves
        val_acc = history["val_accuracy"][kept]
        val_loss = finite_or_none(history["val_loss"][kept])
        # without health the objective is simple, so the score is val_acc already
        needs_predictions = spec.health or spec.renders_plots(val_acc)
        y_val_pred = (
            model.predict(data.x_val, batch_size=eval_batch, verbose=0).argmax(1)
            if needs_predictions else np.empty(0, dtype="int64")
        )
        test_loss, test_acc = (float(v) for v in model.evaluate(
            data.x_test, data.y_test, batch_size=eval_batch, verbose=0))

    components: dict[str, float] | None = None
    details: dict[str, Any] = {}
    if spec.health:
        with timer.phase("computing_health"):
            health = compute_health(
                model, x_probe=x_probe, y_probe=y_probe, y_val=data.y_val,
                y_val_pred=y_val_pred, val_losses=history["val_loss"],
                batch_losses=losses.losses if losses else [], val_accuracy=val_acc,
                num_classes=data.num_classes,
            )
        components, details = dict(health.components), dict(health.details)
    score = total_score(spec.objective, val_acc, components, spec.weights)

    holdout: dict[str, Any] | None = None
    if spec.holdout:
        with timer.phase("holdout"):
            holdout = evaluate_holdout(model, data, seed=spec.split_seed)

    plot_names: list[str] = []
    if spec.renders_plots(score):
        with timer.phase("plotting"):
            from gpu_worker.health.probes import gradient_norms

            norms = details.get("gradient_norms") or gradient_norms(model, x_probe, y_probe)
            plot_seconds = render_plots(
                PlotInputs(
                    model=model, history=history, y_true=data.y_val, y_pred=y_val_pred,
                    class_names=data.class_names, gradient_norms=norms,
                    sample=data.x_val[:1], progression=progression.progression
                    if progression else {},
                ),
                out / "plots",
            )
        plot_names = sorted(plot_seconds)
        timer.seconds.update({f"plot_{k}": v for k, v in plot_seconds.items()})

    with timer.phase("saving"):
        model.save(out / "model.keras")
        result = TrialResult(
            status="completed", **base, val_accuracy=val_acc, val_loss=val_loss,
            test_accuracy=test_acc, test_loss=test_loss, health=components,
            health_score=health_score(components, spec.weights) if components else None,
            total_score=score, timings=timer.seconds, plots=plot_names,
            artifacts=_artifact_list(out, plot_names, spec.tensorboard), holdout=holdout,
            stopped_epoch=stopped_epoch,
        )
        _write_json(out / "metrics.json", _metrics(result) | {"health_details": details})
    report(Progress("done", epochs_run, spec.epochs, 1.0, {"total_score": score}))
    return result


def _metrics(result: TrialResult) -> dict[str, Any]:
    """metrics.json: the result less its history (history.json) and message version."""
    return {k: v for k, v in result.to_dict().items() if k not in ("history", "version")}


def _artifact_list(out: Path, plots: list[str], tensorboard: bool) -> list[str]:
    names = ["model.keras", "history.json", "metrics.json", "architecture.json"]
    names += [f"plots/{name}.png" for name in plots]
    if tensorboard:
        names.append(f"{TENSORBOARD_FOLDER}/")
    return names
