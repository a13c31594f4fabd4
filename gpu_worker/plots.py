"""Diagnostic PNGs for one trial, shown by the dashboard beside its health metrics.

Everything goes through ``matplotlib.figure.Figure`` with an Agg canvas and
per-call styling, never ``pyplot`` or ``rcParams``: workers render from threads
and must not share global figure state. Each plot function takes exactly what
it needs, so the engine benchmark can time them one by one.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless workers: never pick an interactive backend

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import Normalize, PowerNorm
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from gpu_worker.gradient_limits import GRADIENT_CEILING, GRADIENT_FLOOR

PLOT_NAMES: tuple[str, ...] = (
    "history",
    "confusion_matrix",
    "gradient_flow",
    "weights",
    "activation_maps",
    "activation_progression",
)

DPI = 100
TITLE_SIZE = 11
LABEL_SIZE = 9
TICK_SIZE = 8
SMALL_SIZE = 7
TRAIN_COLOR = "#1f77b4"
VALIDATION_COLOR = "#ff7f0e"
VANISHING_COLOR = "#9ecae1"
EXPLODING_COLOR = "#fcae91"
HEALTHY_COLOR = "#2ca02c"
PROBLEM_COLOR = "#d62728"
WEIGHT_COLORS = {
    "kernel": "#1f77b4",
    "recurrent_kernel": "#9467bd",
    "bias": "#2ca02c",
    "embeddings": "#8c564b",
}
SEQUENTIAL_CMAP = "Blues"
ACTIVATION_CMAP = "viridis"
DIVERGING_CMAP = "RdBu_r"

MAX_CELL_LABEL_CLASSES = 20  # above this the confusion matrix drops per-cell counts
MAX_TICK_LABELS = 50  # above this only every k-th class is labelled
CONFUSION_GAMMA = 0.5  # square-root colour scale: a 3% confusion must still be visible
MAX_FEATURE_MAP_LAYERS = 3
MAX_CHANNELS = 16
CHANNEL_COLUMNS = 8
MAX_HEATMAP_LAYERS = 6
MAX_HEATMAP_UNITS = 256
MAX_WEIGHT_ROWS = 12
MAX_HISTOGRAM_VALUES = 200_000  # subsample huge tensors (embeddings): the shape is what matters
HISTOGRAM_BINS = 40
WEIGHT_LAYER_TYPES = ("Dense", "Conv1D", "Conv2D", "LSTM", "GRU", "SimpleRNN", "Bidirectional",
                      "Embedding")
WEIGHT_KINDS = ("kernel", "recurrent_kernel", "bias")  # embeddings go in the kernel column

# Statistic keys of ActivationProgressRecorder.progression, repeated (a test keeps
# them equal) so this module needs only matplotlib and NumPy, not TensorFlow.
ACTIVE_SHARE = "active_share"
MEAN_ABS_ACTIVATION = "mean_abs_activation"
STATISTIC_LABELS = {  # statistic: (panel title, y-axis label)
    ACTIVE_SHARE: ("Active units", "share of units (conv: channels)"),
    MEAN_ABS_ACTIVATION: ("Mean |activation|", "mean |activation|"),
}
LINE_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")

PlotFunction = Callable[["PlotInputs", Path], None]


@dataclass(frozen=True)
class PlotInputs:
    """Everything the six plots need, gathered once after training."""

    model: Any  # compiled, trained keras.Model
    history: Mapping[str, Sequence[float]]  # keras History.history
    y_true: np.ndarray  # validation labels
    y_pred: np.ndarray  # predicted labels (or probabilities: argmax is taken)
    class_names: Sequence[str]
    gradient_norms: Mapping[str, float]  # per-layer gradient RMS, input→output
    sample: np.ndarray  # one input sample with its batch axis, shape (1, ...)
    # {layer: {statistic: [per epoch]}} from ActivationProgressRecorder.progression;
    # a flat {layer: [per epoch]} (one unnamed statistic) is accepted too.
    progression: Mapping[str, Mapping[str, Sequence[float]] | Sequence[float]]


# --------------------------------------------------------------------------- helpers


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), dpi=DPI, facecolor="white", layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _style(ax: Axes, *, grid: bool = True) -> None:
    ax.tick_params(labelsize=TICK_SIZE)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if grid:
        ax.grid(True, color="#e0e0e0", linewidth=0.6)
        ax.set_axisbelow(True)


def _save(fig: Figure, path: Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, format="png", facecolor="white")


def _message(ax: Axes, text: str) -> None:
    """An empty panel that says why it is empty: a blank image reads as a bug."""
    ax.set_axis_off()
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=LABEL_SIZE, color="#555555",
            wrap=True, transform=ax.transAxes)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _finite(values: Sequence[float]) -> np.ndarray:
    return np.asarray([float(v) if v is not None else math.nan for v in values], dtype=float)


# --------------------------------------------------------------------------- history


def plot_history(history: Mapping[str, Sequence[float]], path: Path) -> None:
    """Loss and accuracy per epoch, train vs validation: over/underfitting at a glance."""
    fig = _figure(9.0, 3.6)
    axes = fig.subplots(1, 2)
    panels = (("loss", "Loss", "loss"), ("accuracy", "Accuracy", "accuracy"))
    for ax, (key, title, ylabel) in zip(axes, panels, strict=True):
        series = [(key, "train", TRAIN_COLOR), (f"val_{key}", "validation", VALIDATION_COLOR)]
        drawn = False
        for metric, label, color in series:
            values = _finite(history.get(metric, ()))
            if values.size == 0:
                continue
            epochs = np.arange(1, values.size + 1)
            marker = "o" if values.size <= 40 else None
            ax.plot(epochs, values, color=color, marker=marker, markersize=4, linewidth=1.6,
                    label=label)
            drawn = True
        if not drawn:
            _message(ax, f"no {key} recorded")
            continue
        best = _finite(history.get(f"val_{key}", ()))
        if best.size and np.isfinite(best).any():
            i = int(np.nanargmin(best) if key == "loss" else np.nanargmax(best))
            ax.scatter([i + 1], [best[i]], s=60, facecolors="none", edgecolors=PROBLEM_COLOR,
                       linewidths=1.4, zorder=5, label=f"best val ({best[i]:.3g})")
        if key == "accuracy":
            ax.set_ylim(max(0.0, ax.get_ylim()[0]), min(1.02, max(ax.get_ylim()[1], 0.05)))
        ax.set_title(title, fontsize=TITLE_SIZE)
        ax.set_xlabel("epoch", fontsize=LABEL_SIZE)
        ax.set_ylabel(ylabel, fontsize=LABEL_SIZE)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(fontsize=SMALL_SIZE, frameon=False)
        _style(ax)
    fig.suptitle("Training history", fontsize=TITLE_SIZE + 1)
    _save(fig, path)


# --------------------------------------------------------------------------- confusion matrix


def _labels(values: np.ndarray) -> np.ndarray:
    a = np.asarray(values)
    if a.ndim > 1 and a.shape[-1] > 1:
        a = a.argmax(axis=-1)
    return a.reshape(-1).astype(np.int64)


def plot_confusion_matrix(
    y_true: np.ndarray, y_pred: np.ndarray, class_names: Sequence[str], path: Path
) -> None:
    """Counts per (true, predicted) pair, coloured by share of the true class.

    Row-normalised colour keeps rare classes visible next to frequent ones;
    the numbers stay raw counts so nothing is hidden.
    """
    true, pred = _labels(y_true), _labels(y_pred)
    if true.shape != pred.shape:
        raise ValueError(f"y_true has {true.size} labels but y_pred has {pred.size}")
    n = max(len(class_names), int(true.max(initial=-1)) + 1, int(pred.max(initial=-1)) + 1, 1)
    names = [str(c) for c in class_names] + [str(i) for i in range(len(class_names), n)]
    counts = np.bincount(true * n + pred, minlength=n * n).reshape(n, n)
    row_totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, row_totals, out=np.zeros(counts.shape, dtype=float),
                       where=row_totals > 0)

    side = float(np.clip(3.0 + 0.5 * n, 5.0, 10.0))
    fig = _figure(side + 1.4, side)
    ax = fig.subplots()
    norm = PowerNorm(CONFUSION_GAMMA, vmin=0.0, vmax=1.0)
    image = ax.imshow(shares, cmap=SEQUENTIAL_CMAP, norm=norm, interpolation="nearest",
                      aspect="equal")
    colorbar = fig.colorbar(image, ax=ax, shrink=0.8)
    colorbar.set_ticks([0.0, 0.05, 0.25, 0.5, 1.0])
    colorbar.set_label("share of the true class (√ scale)", fontsize=LABEL_SIZE)
    colorbar.ax.tick_params(labelsize=TICK_SIZE)

    if n <= MAX_CELL_LABEL_CLASSES:
        size = SMALL_SIZE + 1 if n <= 10 else SMALL_SIZE - 1
        for i in range(n):
            for j in range(n):
                if counts[i, j] == 0 and i != j:
                    continue
                color = "white" if norm(shares[i, j]) > 0.6 else "#222222"
                ax.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize=size,
                        color=color)

    step = max(1, math.ceil(n / MAX_TICK_LABELS))
    ticks = np.arange(0, n, step)
    if n <= MAX_CELL_LABEL_CLASSES:
        tick_labels = [_shorten(names[i], 18) for i in ticks]
        tick_size = TICK_SIZE
    else:  # abbreviated names collide ("Speed limit (…"): lead with the class index
        tick_labels = [names[i] if names[i] == str(i) else f"{i} {_shorten(names[i], 14)}"
                       for i in ticks]
        tick_size = 6
    rotate = n > 10 or n * max(len(t) for t in tick_labels) > 60
    ax.set_xticks(ticks, tick_labels, fontsize=tick_size, rotation=45 if rotate else 0,
                  ha="right" if rotate else "center", rotation_mode="anchor")
    ax.set_yticks(ticks, tick_labels, fontsize=tick_size)
    ax.set_xlabel("predicted class", fontsize=LABEL_SIZE)
    ax.set_ylabel("true class", fontsize=LABEL_SIZE)
    accuracy = float(np.trace(counts) / counts.sum()) if counts.sum() else 0.0
    ax.set_title(f"Confusion matrix (validation: {counts.sum()} samples, "
                 f"accuracy {accuracy:.1%})", fontsize=TITLE_SIZE)
    ax.tick_params(length=2)
    _save(fig, path)


# --------------------------------------------------------------------------- gradient flow


def plot_gradient_flow(gradient_norms: Mapping[str, float], path: Path) -> None:
    """Gradient RMS per layer on a log axis, with vanishing/exploding zones shaded."""
    names = list(gradient_norms)
    fig = _figure(max(6.0, min(12.0, 2.5 + 0.7 * len(names))), 4.2)
    ax = fig.subplots()
    if not names:
        _message(ax, "no gradient measurements for this model")
        _save(fig, path)
        return

    raw = np.asarray([float(gradient_norms[n]) for n in names], dtype=float)
    positive = raw[np.isfinite(raw) & (raw > 0)]
    low = min(GRADIENT_FLOOR / 10, positive.min() / 3 if positive.size else 1.0)
    high = max(GRADIENT_CEILING * 10, positive.max() * 3 if positive.size else 1.0)
    shown = np.where(np.isfinite(raw) & (raw > 0), raw, np.nan)
    shown = np.where(raw <= 0, low, shown)  # zero gradient: pin to the bottom edge
    shown = np.where(~np.isfinite(raw), high / 2, shown)  # nan/inf: pin near the top edge

    ax.set_yscale("log")
    ax.set_ylim(low, high)
    ax.axhspan(low, GRADIENT_FLOOR, color=VANISHING_COLOR, alpha=0.45, linewidth=0,
               label=f"vanishing (< {GRADIENT_FLOOR:.0e})")
    ax.axhspan(GRADIENT_CEILING, high, color=EXPLODING_COLOR, alpha=0.45, linewidth=0,
               label=f"exploding (> {GRADIENT_CEILING:.0e})")
    x = np.arange(len(names))
    ax.plot(x, shown, color=TRAIN_COLOR, linewidth=1.4, zorder=3)
    healthy = (raw >= GRADIENT_FLOOR) & (raw <= GRADIENT_CEILING)
    colors = [HEALTHY_COLOR if ok else PROBLEM_COLOR for ok in healthy]
    ax.scatter(x, shown, c=colors, s=40, zorder=4, edgecolors="white", linewidths=0.6)
    for xi, value, y in zip(x, raw, shown, strict=True):
        text = "0" if value == 0 else (str(value) if not np.isfinite(value) else f"{value:.1e}")
        below = not np.isfinite(value) or value > GRADIENT_CEILING
        ax.annotate(text, (xi, y), textcoords="offset points", xytext=(0, -12 if below else 7),
                    ha="center", fontsize=SMALL_SIZE, color="#333333")
    rotate = len(names) > 5 or max(len(n) for n in names) > 10
    ax.set_xticks(x, names, fontsize=TICK_SIZE, rotation=35 if rotate else 0,
                  ha="right" if rotate else "center", rotation_mode="anchor")
    ax.set_xlim(-0.5, len(names) - 0.5)
    ax.set_xlabel("layer (input → output)", fontsize=LABEL_SIZE)
    ax.set_ylabel("gradient RMS (log)", fontsize=LABEL_SIZE)
    ax.set_title("Gradient flow", fontsize=TITLE_SIZE)
    fig.legend(loc="outside lower center", ncols=2, fontsize=SMALL_SIZE + 1, frameon=False)
    _style(ax)
    _save(fig, path)


# --------------------------------------------------------------------------- weights


def _weight_kind(weight: Any) -> str:
    name = str(getattr(weight, "name", "")).rsplit("/", 1)[-1]
    return name.split(":")[0]


def _layer_weights(model: Any) -> list[tuple[str, str, dict[str, np.ndarray]]]:
    """``(layer, class, {kind: values})``; bidirectional directions share a panel."""
    rows: list[tuple[str, str, dict[str, np.ndarray]]] = []
    for layer in model.layers:
        kind_name = layer.__class__.__name__
        if kind_name not in WEIGHT_LAYER_TYPES:
            continue
        grouped: dict[str, list[np.ndarray]] = {}
        for weight in layer.weights:
            kind = _weight_kind(weight)
            if kind == "embeddings" or kind in WEIGHT_KINDS:
                grouped.setdefault(kind, []).append(np.asarray(weight.numpy()).reshape(-1))
        if grouped:
            rows.append((layer.name, kind_name,
                         {k: np.concatenate(v) for k, v in grouped.items()}))
    return rows


def plot_weights(model: Any, path: Path) -> None:
    """Histograms of kernel/recurrent/bias values per layer: spot dead or blown-up layers."""
    rows = _layer_weights(model)[:MAX_WEIGHT_ROWS]
    layer_names = {layer.name for layer in model.layers}
    recurrent = any("recurrent_kernel" in kinds for _, _, kinds in rows)
    columns = ["kernel", "recurrent_kernel", "bias"] if recurrent else ["kernel", "bias"]
    fig = _figure(3.0 * len(columns) + 0.4, max(2.6, 1.75 * len(rows) + 0.6))
    if not rows:
        _message(fig.subplots(), "no layers with weights to show")
        _save(fig, path)
        return
    grid = fig.subplots(len(rows), len(columns), squeeze=False)
    rng = np.random.default_rng(0)
    for r, (layer_name, class_name, kinds) in enumerate(rows):
        for c, column in enumerate(columns):
            ax = grid[r, c]
            key = "embeddings" if column == "kernel" and "embeddings" in kinds else column
            values = kinds.get(key)
            if values is None:
                if key == "bias" and f"{layer_name}_bn" in layer_names:
                    _message(ax, f"{layer_name}: no bias\n(batch norm follows)")
                else:  # not applicable to this layer type: leave the cell empty
                    ax.set_axis_off()
                continue
            values = values[np.isfinite(values)]
            count = values.size
            if count > MAX_HISTOGRAM_VALUES:
                values = rng.choice(values, MAX_HISTOGRAM_VALUES, replace=False)
            color = WEIGHT_COLORS.get(key, TRAIN_COLOR)
            if not count:
                _message(ax, f"{layer_name}: no finite {key} values")
                continue
            ax.hist(values, bins=HISTOGRAM_BINS, color=color, alpha=0.85)
            both = " (fwd+bwd)" if class_name == "Bidirectional" else ""
            ax.set_title(f"{layer_name} · {key.replace('_', ' ')}{both}\n"
                         f"μ={values.mean():.2g}  σ={values.std():.2g}  n={count:,}",
                         fontsize=SMALL_SIZE + 0.5, loc="left", linespacing=1.3)
            ax.xaxis.set_major_locator(MaxNLocator(4))
            ax.yaxis.set_major_locator(MaxNLocator(3, integer=True))
            ax.tick_params(labelsize=SMALL_SIZE)
            if c == 0:
                ax.set_ylabel(f"{class_name}\ncount", fontsize=SMALL_SIZE)
            _style(ax)
            ax.tick_params(labelsize=SMALL_SIZE)
    for ax in grid[-1]:
        if ax.axison:
            ax.set_xlabel("weight value", fontsize=SMALL_SIZE)
    fig.suptitle("Weight distributions per layer", fontsize=TITLE_SIZE + 1)
    _save(fig, path)


# --------------------------------------------------------------------------- activation maps


def _with_batch_axis(model: Any, sample: np.ndarray) -> np.ndarray:
    x = np.asarray(sample)
    input_rank = len(model.inputs[0].shape)
    if x.ndim == input_rank - 1:
        x = x[None]
    return x[:1]


def _show_input(ax: Axes, image: np.ndarray) -> None:
    img = np.asarray(image, dtype=float)
    if img.ndim == 3 and img.shape[-1] == 3:
        span = img.max() - img.min()
        ax.imshow((img - img.min()) / span if span > 0 else np.zeros_like(img),
                  interpolation="nearest")
    else:
        ax.imshow(img[..., 0] if img.ndim == 3 else img, cmap="gray", interpolation="nearest")
    ax.set_title("input", fontsize=LABEL_SIZE)
    ax.set_xticks([])
    ax.set_yticks([])


def _feature_maps(fig: Figure, sample: np.ndarray, maps: list[tuple[str, np.ndarray]]) -> None:
    """Per conv layer a block of up to 16 channels; colour shared within a layer."""
    blocks = [(name, a[0], min(MAX_CHANNELS, a.shape[-1])) for name, a in maps]
    block_rows = [math.ceil(ch / CHANNEL_COLUMNS) for _, _, ch in blocks]
    grid = fig.add_gridspec(sum(block_rows), CHANNEL_COLUMNS + 1, wspace=0.08, hspace=0.25)
    input_rows = max(1, min(2, sum(block_rows)))
    _show_input(fig.add_subplot(grid[:input_rows, 0]), sample[0])
    row = 0
    for (name, a, channels), rows in zip(blocks, block_rows, strict=True):
        shown = a[..., :channels]
        lo, hi = float(np.min(shown)), float(np.max(shown))
        norm = Normalize(lo, hi if hi > lo else lo + 1.0)
        for ch in range(channels):
            r, c = divmod(ch, CHANNEL_COLUMNS)
            ax = fig.add_subplot(grid[row + r, c + 1])
            ax.imshow(shown[..., ch], cmap=ACTIVATION_CMAP, norm=norm, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"ch {ch}", fontsize=SMALL_SIZE - 1, pad=2)
            if c == 0 and r == 0:
                ax.set_ylabel(f"{name}\n{a.shape[0]}×{a.shape[1]}×{a.shape[-1]}",
                              fontsize=SMALL_SIZE, rotation=0, ha="right", va="center",
                              labelpad=6)
        row += rows
    fig.suptitle("Feature maps of one validation sample (colour scale shared per layer)",
                 fontsize=TITLE_SIZE)


def _activation_heatmaps(fig: Figure, acts: list[tuple[str, np.ndarray]]) -> None:
    """Dense/recurrent layers: one row per layer (vector) or time × units (sequence)."""
    heights = [3.0 if a.ndim == 3 else 1.0 for _, a in acts]
    axes = fig.subplots(len(acts), 1, squeeze=False, height_ratios=heights)[:, 0]
    for ax, (name, a) in zip(axes, acts, strict=True):
        values = a[0]
        if values.ndim == 1:
            values = values[None, :]
        elif values.ndim > 2:
            values = values.reshape(-1, values.shape[-1])
        total_units = values.shape[-1]
        values = values[:, :MAX_HEATMAP_UNITS].astype(float)
        bound = float(np.max(np.abs(values))) if values.size else 0.0
        bound = bound if bound > 0 else 1.0
        lo = float(np.min(values)) if values.size else 0.0
        if lo < 0:
            image = ax.imshow(values, cmap=DIVERGING_CMAP, vmin=-bound, vmax=bound,
                              aspect="auto", interpolation="nearest")
        else:
            image = ax.imshow(values, cmap=ACTIVATION_CMAP, vmin=0.0, vmax=bound,
                              aspect="auto", interpolation="nearest")
        cb = fig.colorbar(image, ax=ax, pad=0.01, fraction=0.04)
        cb.ax.tick_params(labelsize=SMALL_SIZE)
        suffix = f" (first {MAX_HEATMAP_UNITS} of {total_units})" if total_units > values.shape[1] \
            else ""
        ax.set_title(f"{name}{suffix}", fontsize=LABEL_SIZE, loc="left")
        ax.set_xlabel("unit", fontsize=SMALL_SIZE)
        ax.tick_params(labelsize=SMALL_SIZE)
        if values.shape[0] > 1:
            ax.set_ylabel("time step", fontsize=SMALL_SIZE)
            ax.yaxis.set_major_locator(MaxNLocator(5, integer=True))
        else:
            ax.set_yticks([])
    fig.suptitle("Hidden activations for one validation sample", fontsize=TITLE_SIZE)


def plot_activation_maps(model: Any, sample: np.ndarray, path: Path) -> None:
    """What the network sees in one sample: conv feature maps, else activation heatmaps."""
    from gpu_worker.health.probes import layer_activations

    x = _with_batch_axis(model, sample)
    acts = [(name, np.asarray(a)) for name, a in layer_activations(model, x).items()]
    maps = [(n, a) for n, a in acts if a.ndim == 4 and a.shape[-1] > 0][:MAX_FEATURE_MAP_LAYERS]
    if maps and x.ndim == 4:
        rows = sum(math.ceil(min(MAX_CHANNELS, a.shape[-1]) / CHANNEL_COLUMNS) for _, a in maps)
        fig = _figure(11.0, 0.9 + 1.25 * max(rows, 2))
        _feature_maps(fig, x, maps)
        _save(fig, path)
        return
    vectors = [(n, a) for n, a in acts if a.ndim in (2, 3) and a.size > 0][:MAX_HEATMAP_LAYERS]
    height = 0.9 + sum(2.4 if a.ndim == 3 else 1.1 for _, a in vectors)
    fig = _figure(9.0, max(2.5, height))
    if not vectors:
        _message(fig.subplots(), "no hidden activation layers to show")
    else:
        _activation_heatmaps(fig, vectors)
    _save(fig, path)


# --------------------------------------------------------------------------- progression


def _normalise_progression(
    progression: Mapping[str, Mapping[str, Sequence[float]] | Sequence[float]],
) -> dict[str, dict[str, np.ndarray]]:
    """``{statistic: {layer: values}}``; a flat per-layer series becomes one statistic."""
    by_stat: dict[str, dict[str, np.ndarray]] = {}
    for layer, stats in progression.items():
        items = stats.items() if isinstance(stats, Mapping) else [("value", stats)]
        for stat, values in items:
            by_stat.setdefault(stat, {})[layer] = _finite(values)
    ordered = [s for s in STATISTIC_LABELS if s in by_stat] + \
        [s for s in by_stat if s not in STATISTIC_LABELS]
    return {s: by_stat[s] for s in ordered}


def plot_activation_progression(
    progression: Mapping[str, Mapping[str, Sequence[float]] | Sequence[float]], path: Path
) -> None:
    """Per layer, each activation statistic per epoch: when did a layer die or saturate?"""
    by_stat = _normalise_progression(progression)
    panels = max(1, len(by_stat))
    fig = _figure(4.6 * panels + 1.6, 3.8)
    axes = fig.subplots(1, panels, squeeze=False)[0]
    if not by_stat:
        _message(axes[0], "no activation progression recorded")
        _save(fig, path)
        return
    layers = list(dict.fromkeys(layer for series in by_stat.values() for layer in series))
    palette = [matplotlib.colormaps["tab10"](i % 10) for i in range(len(layers))]
    colors = dict(zip(layers, palette, strict=True))
    # Layers often coincide (e.g. all 100% active): earlier layers are drawn wider, with
    # bigger markers, underneath, so every line stays visible.
    widths = {layer: 1.2 + 2.0 * (len(layers) - i) / len(layers) for i, layer in enumerate(layers)}
    for ax, (stat, series) in zip(axes, by_stat.items(), strict=True):
        for i, layer in enumerate(layers):
            if layer not in series:
                continue
            values = series[layer]
            epochs = np.arange(1, values.size + 1)
            ax.plot(epochs, values, color=colors[layer], linewidth=widths[layer],
                    marker=LINE_MARKERS[i % len(LINE_MARKERS)] if values.size <= 40 else None,
                    markersize=2.5 + 1.6 * widths[layer], label=layer, zorder=2 + i)
        title, ylabel = STATISTIC_LABELS.get(stat, (stat.replace("_", " "), stat))
        ax.set_title(title, fontsize=TITLE_SIZE)
        ax.set_xlabel("epoch", fontsize=LABEL_SIZE)
        ax.set_ylabel(ylabel, fontsize=LABEL_SIZE)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if stat == ACTIVE_SHARE:
            ax.set_ylim(-0.03, 1.05)
        else:
            finite = np.concatenate([v[np.isfinite(v) & (v > 0)] for v in series.values()])
            if finite.size and finite.max() / finite.min() > 100:
                ax.set_yscale("log")
        _style(ax)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right center", fontsize=SMALL_SIZE + 1,
               frameon=False, title="layer", title_fontsize=SMALL_SIZE + 1)
    fig.suptitle("Activation progression over training (fixed probe batch)",
                 fontsize=TITLE_SIZE + 1)
    _save(fig, path)


# --------------------------------------------------------------------------- entry point

_PLOTTERS: dict[str, PlotFunction] = {
    "history": lambda i, p: plot_history(i.history, p),
    "confusion_matrix": lambda i, p: plot_confusion_matrix(i.y_true, i.y_pred, i.class_names, p),
    "gradient_flow": lambda i, p: plot_gradient_flow(i.gradient_norms, p),
    "weights": lambda i, p: plot_weights(i.model, p),
    "activation_maps": lambda i, p: plot_activation_maps(i.model, i.sample, p),
    "activation_progression": lambda i, p: plot_activation_progression(i.progression, p),
}


def render_plots(
    inputs: PlotInputs, out_dir: Path, names: Sequence[str] = PLOT_NAMES
) -> dict[str, float]:
    """Write ``out_dir/<name>.png`` per name; return seconds spent per plot.

    Names are checked before anything renders, so a typo fails fast instead of
    after the slow plots. A plot that raises propagates: the caller decides
    whether a trial survives a missing plot.
    """
    if isinstance(names, str):
        names = (names,)
    unknown = [n for n in names if n not in _PLOTTERS]
    if unknown:
        raise ValueError(
            f"unknown plot name(s) {', '.join(map(repr, unknown))}; known: {', '.join(PLOT_NAMES)}"
        )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    for name in dict.fromkeys(names):
        start = time.perf_counter()
        _PLOTTERS[name](inputs, out / f"{name}.png")
        timings[name] = time.perf_counter() - start
    return timings
