"""The report's PNGs: arm differences with intervals, the correlation heat map, and health
against the generalization gap per trial.

Like the worker's plots, everything goes through ``matplotlib.figure.Figure`` with an Agg
canvas, never ``pyplot``: the orchestrator renders from task threads and must not share global
figure state.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: never pick an interactive backend

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from orchestrator.comparison.analysis import health_rows
from orchestrator.comparison.learner import PERCENT
from orchestrator.comparison.metrics import COLUMN_LABELS, COLUMNS, GAP
from orchestrator.comparison.results import Analysis

DPI = 110
ARM_COLORS = {"accuracy": "#1f77b4", "health": "#2ca02c"}
BETTER, WORSE, UNSETTLED = "#2ca02c", "#d62728", "#555555"
UNDEFINED_COLOR = "#dddddd"
PLOT_FILES = ("differences.png", "correlations.png", "health_vs_gap.png")


def _save(fig: Figure, path: Path) -> Path:
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=DPI)
    return path


def differences_plot(analysis: Analysis, path: Path) -> Path:
    """One row per metric: each seed's health − accuracy, their mean and its interval."""
    rows = [d for d in analysis.differences if d.n]
    labels = {m["key"]: m for m in analysis.metrics}
    fig = Figure(figsize=(7.5, 0.75 * max(len(rows), 1) + 0.9), layout="constrained")
    axes = fig.subplots(max(len(rows), 1), 1, squeeze=False)[:, 0]
    fig.suptitle(f"Health − accuracy per metric: seeds (dots), mean (◆), {PERCENT} bootstrap "
                 "interval (bar)\ngreen/red: the health arm established better/worse",
                 fontsize=10)
    for ax, d in zip(axes, rows, strict=False):
        metric = labels[d.metric]
        health_better = d.mean is not None and (d.mean < 0) == metric["lower_is_better"]
        color = (BETTER if health_better else WORSE) if d.established else UNSETTLED
        ax.axvline(0, color="#999999", linewidth=0.8)
        ax.plot(d.per_seed, np.full(len(d.per_seed), 0.5), "o", color=color, alpha=0.5,
                markersize=5)
        if d.low is not None and d.high is not None:
            ax.hlines(0, d.low, d.high, color=color, linewidth=3)
        ax.plot([d.mean], [0], "D", color=color, markersize=7)
        ax.set_yticks([])
        ax.set_ylim(-0.5, 1.0)
        better = "lower" if metric["lower_is_better"] else "higher"
        ax.set_ylabel(f"{metric['label']}\n({better} is better)", rotation=0, ha="right",
                      va="center", fontsize=8)
        ax.tick_params(axis="x", labelsize=7)
        span = max([abs(v) for v in [*d.per_seed, d.low or 0, d.high or 0]] + [1e-9])
        ax.set_xlim(-1.15 * span, 1.15 * span)
    for ax in axes[len(rows):]:
        ax.set_axis_off()
        ax.text(0.5, 0.5, "no seed has a scored best model in both arms", ha="center")
    return _save(fig, path)


def correlations_plot(analysis: Analysis, path: Path) -> Path:
    """Kendall τ of each health score with each column; grey where τ is undefined."""
    rows = health_rows(analysis.points)
    cells = {(c.component, c.column): c for c in analysis.correlations}
    tau = np.array([[np.nan if cells[r, c].tau is None else cells[r, c].tau for c in COLUMNS]
                    for r in rows], dtype=float)
    fig = Figure(figsize=(7.5, 0.45 * len(rows) + 1.6), layout="constrained")
    ax = fig.subplots()
    ax.set_facecolor(UNDEFINED_COLOR)
    image = ax.imshow(np.ma.masked_invalid(tau), cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
    for i, r in enumerate(rows):
        for j, c in enumerate(COLUMNS):
            cell = cells[r, c]
            text = ("undefined" if cell.tau is None
                    else f"τ {cell.tau:+.2f}\np {cell.p_value:.2g}, n {cell.n}")
            ax.text(j, i, text, ha="center", va="center", fontsize=7)
    ax.set_xticks(range(len(COLUMNS)), [COLUMN_LABELS[c].replace(" (", "\n(") for c in COLUMNS],
                  fontsize=8)
    ax.set_yticks(range(len(rows)), rows, fontsize=8)
    ax.set_title("Kendall rank correlation over all completed trials of both arms", fontsize=10)
    fig.colorbar(image, ax=ax, label="Kendall τ")
    return _save(fig, path)


def health_vs_gap_plot(analysis: Analysis, path: Path) -> Path:
    """Each trial's health scores against its generalization gap, coloured by arm."""
    rows = health_rows(analysis.points)
    cells = {c.component: c for c in analysis.correlations if c.column == GAP}
    columns = 4
    fig = Figure(figsize=(10, 2.6 * -(-len(rows) // columns)), layout="constrained")
    axes = fig.subplots(-(-len(rows) // columns), columns, squeeze=False).ravel()
    for ax, row in zip(axes, rows, strict=False):
        for arm, color in ARM_COLORS.items():
            points = [p for p in analysis.points if p.arm == arm and row in p.health]
            best = [p.best for p in points]
            ax.scatter([p.health[row] for p in points], [p.columns[GAP] for p in points],
                       s=[40 if b else 14 for b in best], color=color, alpha=0.7,
                       edgecolors="black", linewidths=[1.2 if b else 0 for b in best],
                       label=f"{arm} arm")
        tau = cells[row].tau
        ax.set_title(f"{row}\nτ {'undefined' if tau is None else f'{tau:+.2f}'}", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.set_ylabel("val − holdout accuracy", fontsize=7)
    for ax in axes[len(rows):]:
        ax.set_axis_off()
    axes[0].legend(fontsize=7)
    fig.suptitle("Health against the generalization gap, one dot per trial "
                 "(outlined: a seed's best model)", fontsize=10)
    return _save(fig, path)


def render_plots(analysis: Analysis, out_dir: Path) -> tuple[Path, ...]:
    draw = (differences_plot, correlations_plot, health_vs_gap_plot)
    return tuple(f(analysis, out_dir / name) for f, name in zip(draw, PLOT_FILES, strict=True))
