"""Plots and the activation-progression recorder on real (tiny) trained models.

Two models cover both plot paths: a CNN on 8×8 digits (feature maps) and an LSTM
on random tokens (activation heatmaps). Each is trained once per module.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from gpu_worker.runtime import configure_tensorflow

configure_tensorflow(threads=1)

from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from gpu_worker.activation_progress import (  # noqa: E402
    ACTIVE_SHARE,
    MEAN_ABS_ACTIVATION,
    STATISTICS,
    ActivationProgressRecorder,
    active_share,
)
from gpu_worker.builder import build_model  # noqa: E402
from gpu_worker.health.probes import gradient_norms, measured_layers  # noqa: E402
from gpu_worker.plots import (  # noqa: E402
    PLOT_NAMES,
    STATISTIC_LABELS,
    PlotInputs,
    plot_activation_maps,
    plot_activation_progression,
    plot_confusion_matrix,
    plot_gradient_flow,
    plot_history,
    plot_weights,
    render_plots,
)
from gpu_worker.runtime import seed_everything  # noqa: E402

EPOCHS = 2
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_PNG_BYTES = 300_000


@dataclass
class Run:
    inputs: PlotInputs
    recorder: ActivationProgressRecorder
    timings: dict[str, float]
    out_dir: Path


def _train(model: Any, x: np.ndarray, y: np.ndarray, class_names: list[str], out_dir: Path) -> Run:
    split = int(len(x) * 0.75)
    x_train, y_train, x_val, y_val = x[:split], y[:split], x[split:], y[split:]
    recorder = ActivationProgressRecorder(x_val, max_samples=64)
    fit = model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=EPOCHS,
                    batch_size=32, verbose=0, callbacks=[recorder])
    y_pred = model.predict(x_val, verbose=0).argmax(axis=-1)
    inputs = PlotInputs(
        model=model,
        history=fit.history,
        y_true=y_val,
        y_pred=y_pred,
        class_names=class_names,
        gradient_norms=gradient_norms(model, x_val[:32], y_val[:32]),
        sample=x_val[:1],
        progression=recorder.progression,
    )
    timings = render_plots(inputs, out_dir)
    return Run(inputs, recorder, timings, out_dir)


@pytest.fixture(scope="module")
def cnn_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    from sklearn.datasets import load_digits

    seed_everything(0)
    digits = load_digits()
    x = (digits.images[:240] / 16.0).astype("float32")[..., None]
    y = digits.target[:240].astype("int64")
    built = build_model(
        {"conv_layers": 2, "filters": 16, "dense_layers": 1, "dense_units": 64, "batch_size": 32},
        modality="image", input_shape=(8, 8, 1), num_classes=10,
    )
    return _train(built.model, x, y, [str(d) for d in range(10)],
                  tmp_path_factory.mktemp("cnn_plots"))


@pytest.fixture(scope="module")
def lstm_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    seed_everything(0)
    rng = np.random.default_rng(0)
    x = rng.integers(1, 50, size=(160, 12)).astype("int32")
    y = (x[:, 0] > 25).astype("int64")
    built = build_model(
        {"embedding_dim": 16, "lstm_units": 16, "dense_units": 32, "batch_size": 32},
        modality="text", input_shape=(12,), num_classes=2, vocab_size=50,
    )
    return _train(built.model, x, y, ["negative", "positive"], tmp_path_factory.mktemp("lstm"))


def _assert_png(path: Path) -> None:
    assert path.is_file(), f"{path.name} was not written"
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC, f"{path.name} is not a PNG"
    assert len(data) < MAX_PNG_BYTES, f"{path.name} is {len(data)} bytes"
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        width, height = image.size
        pixels = np.asarray(image.convert("L"), dtype=float)
    assert 200 <= width <= 2000 and 150 <= height <= 2500, (path.name, width, height)
    assert pixels.var() > 0, f"{path.name} is blank"


@pytest.mark.slow
@pytest.mark.parametrize("run_name", ["cnn_run", "lstm_run"])
def test_render_plots_writes_every_plot(run_name: str, request: pytest.FixtureRequest) -> None:
    run: Run = request.getfixturevalue(run_name)
    assert set(run.timings) == set(PLOT_NAMES)
    assert all(t >= 0 for t in run.timings.values())
    for name in PLOT_NAMES:
        _assert_png(run.out_dir / f"{name}.png")


@pytest.mark.slow
@pytest.mark.parametrize("run_name", ["cnn_run", "lstm_run"])
def test_progression_has_one_value_per_epoch_per_layer(
    run_name: str, request: pytest.FixtureRequest
) -> None:
    run: Run = request.getfixturevalue(run_name)
    progression = run.recorder.progression
    assert set(progression) == {layer.name for layer in measured_layers(run.inputs.model)}
    for stats in progression.values():
        assert set(stats) == set(STATISTICS)
        for values in stats.values():
            assert len(values) == EPOCHS
            assert all(np.isfinite(values))
        assert all(0.0 <= v <= 1.0 for v in stats[ACTIVE_SHARE])
        assert all(v >= 0.0 for v in stats[MEAN_ABS_ACTIVATION])


@pytest.mark.slow
def test_last_active_share_agrees_with_neuron_utilization(cnn_run: Run) -> None:
    """The plot's last point and health's neuron_utilization must tell the same story."""
    from gpu_worker.health.formulas import unit_activity
    from gpu_worker.health.probes import layer_activations

    acts = layer_activations(cnn_run.inputs.model, cnn_run.recorder.probe_x)
    for layer, (active, units) in unit_activity(acts).items():
        last = cnn_run.recorder.progression[layer][ACTIVE_SHARE][-1]
        assert last == pytest.approx(active / units, abs=1.5 / units), layer


@pytest.mark.slow
def test_unknown_plot_name_raises_naming_it(cnn_run: Run, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no_such_plot"):
        render_plots(cnn_run.inputs, tmp_path, names=("history", "no_such_plot"))
    assert not (tmp_path / "history.png").exists()  # checked before rendering anything


@pytest.mark.slow
def test_render_plots_subset(cnn_run: Run, tmp_path: Path) -> None:
    timings = render_plots(cnn_run.inputs, tmp_path, names=("gradient_flow",))
    assert list(timings) == ["gradient_flow"]
    assert [p.name for p in tmp_path.iterdir()] == ["gradient_flow.png"]


@pytest.mark.parametrize("classes", [43, 100])
def test_confusion_matrix_with_many_classes(classes: int, tmp_path: Path) -> None:
    rng = np.random.default_rng(classes)
    y_true = rng.integers(0, classes, size=2000)
    y_pred = np.where(rng.random(2000) < 0.7, y_true, rng.integers(0, classes, size=2000))
    names = [f"Speed limit ({i * 10}km/h) sign" for i in range(classes)]
    path = tmp_path / "cm.png"
    plot_confusion_matrix(y_true, y_pred, names, path)
    _assert_png(path)


def test_plots_render_concurrently_from_threads(tmp_path: Path) -> None:
    """Workers render from threads: no pyplot state may leak between figures."""
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(3)

    def render(i: int) -> Path:
        y = rng.integers(0, 5, size=200)
        plot_confusion_matrix(y, np.roll(y, i), list("abcde"), tmp_path / f"cm{i}.png")
        plot_history({"loss": [1.0, 0.5 + i / 10], "val_loss": [1.2, 0.9]}, tmp_path / f"h{i}.png")
        return tmp_path / f"cm{i}.png"

    with ThreadPoolExecutor(max_workers=2) as pool:
        paths = list(pool.map(render, range(4)))
    for path in paths:
        _assert_png(path)
        _assert_png(path.with_name(path.name.replace("cm", "h")))


def test_edge_inputs_still_render(tmp_path: Path) -> None:
    """One epoch, zero/NaN gradients, empty progression: a picture, never a crash."""
    plot_history({"loss": [0.9], "val_loss": [1.1], "accuracy": [0.4], "val_accuracy": [0.35]},
                 tmp_path / "h.png")
    plot_gradient_flow({"conv_1": 0.0, "dense_1": 1e-11, "lstm_1": float("nan"), "output": 5e3},
                       tmp_path / "g.png")
    plot_activation_progression({}, tmp_path / "p.png")
    plot_activation_progression({"dense_1_act": [0.5, 0.6]}, tmp_path / "flat.png")
    for name in ("h", "g", "p", "flat"):
        _assert_png(tmp_path / f"{name}.png")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("modality", "params", "shape", "vocab"),
    [
        ("image", {"conv_layers": 4, "filters": 16, "batch_norm": False, "pooling": "flatten",
                   "dense_layers": 0, "activation": "tanh"}, (32, 32, 3), None),
        ("text", {"embedding_dim": 16, "lstm_units": 16, "lstm_layers": 2,
                  "bidirectional": True, "dense_layers": 0}, (12,), 50),
    ],
    ids=["deep-rgb-cnn", "bidirectional-lstm"],
)
def test_maps_and_weights_for_other_builder_shapes(
    modality: str, params: dict[str, Any], shape: tuple[int, ...], vocab: int | None,
    tmp_path: Path,
) -> None:
    model = build_model(params, modality=modality, input_shape=shape, num_classes=3,
                        vocab_size=vocab).model
    rng = np.random.default_rng(1)
    sample = (rng.random((1, *shape)).astype("float32") if modality == "image"
              else rng.integers(0, vocab or 2, size=(1, *shape)).astype("int32"))
    plot_activation_maps(model, sample, tmp_path / "maps.png")
    plot_weights(model, tmp_path / "weights.png")
    _assert_png(tmp_path / "maps.png")
    _assert_png(tmp_path / "weights.png")


def test_plots_know_every_recorded_statistic() -> None:
    assert set(STATISTIC_LABELS) == set(STATISTICS)


def test_active_share_counts_constant_units_as_inactive() -> None:
    rng = np.random.default_rng(0)
    maps = rng.random((8, 4, 4, 3))
    maps[..., 1] = 0.0  # dead channel
    maps[..., 2] = 0.7  # constant channel: no information either
    assert active_share(maps) == pytest.approx(1 / 3)
    assert active_share(np.ones((1, 5))) == 0.0  # one sample cannot show variation
