"""The report's content as plain blocks (headings, paragraphs, tables, plots).

Built once from an `Analysis`; the HTML template and the PDF writer both only lay these blocks
out, so the two documents cannot say different things. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from orchestrator.comparison.learner import PERCENT
from orchestrator.comparison.metrics import COLUMN_LABELS, COLUMNS
from orchestrator.comparison.results import (
    ALPHA,
    MIN_SEEDS_FOR_VERDICT,
    Analysis,
    Correlation,
    Difference,
)


@dataclass(frozen=True)
class Paragraph:
    kind: ClassVar[str] = "paragraph"
    text: str


@dataclass(frozen=True)
class Subheading:
    kind: ClassVar[str] = "subheading"
    text: str


@dataclass(frozen=True)
class Bullets:
    kind: ClassVar[str] = "bullets"
    items: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    kind: ClassVar[str] = "table"
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    marked: tuple[bool, ...]  # rows to highlight: established differences


@dataclass(frozen=True)
class Plot:
    kind: ClassVar[str] = "plot"
    file: str  # beside the report
    caption: str


Block = Paragraph | Subheading | Bullets | Table | Plot


@dataclass(frozen=True)
class Section:
    title: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Document:
    title: str
    sections: tuple[Section, ...]


METHOD = (
    "Each arm ran one search per seed with the same budget; both arms of one seed share the "
    "data split, so the differences are paired by seed. A seed's best model is the trial its "
    "search chose; every number here comes from the holdout split, which no search saw.",
    f"Intervals: a percentile bootstrap of the mean difference over seeds (scipy.stats."
    f"bootstrap, 9,999 resamples, fixed seed), {PERCENT}. A bootstrap over a few seeds cannot "
    f"reach past their range, so a difference is called established only when the interval "
    f"excludes 0 and the exact paired sign-flip permutation test gives p < {ALPHA:.2f}; that "
    f"needs at least {MIN_SEEDS_FOR_VERDICT} seeds. One seed gives no interval.",
    "Correlations: Kendall's τ-b (scipy.stats.kendalltau) over every completed trial of both "
    "arms with health and holdout scores; the generalization gap is validation accuracy minus "
    "holdout accuracy. τ is undefined where a column is constant. Of many correlations, about "
    "one in twenty reaches p < 0.05 by chance alone.",
    "Which component carried a difference: of the components whose τ with the matching column "
    "points the way the difference went (p < 0.05), the one with the largest weight × |τ|; "
    "size and latency are carried by parameter_efficiency, which scores size by definition.",
)


def _number(value: float | None, decimals: int, sign: bool = False) -> str:
    if value is None:
        return "—"
    return f"{value:{'+' if sign else ''},.{decimals}f}"


def _difference_row(metric: dict[str, Any], d: Difference) -> tuple[str, ...]:
    k = metric["decimals"]
    interval = ("—" if d.low is None or d.high is None
                else f"{_number(d.low, k, True)} to {_number(d.high, k, True)}")
    better = "lower" if metric["lower_is_better"] else "higher"
    return (f"{metric['label']} ({better} is better)", _number(d.accuracy_mean, k),
            _number(d.health_mean, k), _number(d.mean, k, True), interval,
            "—" if d.p_value is None else f"{d.p_value:.2g}", str(d.n),
            "established" if d.established else "not established")


def _per_seed_table(analysis: Analysis) -> Table:
    models = [(arm, b) for arm, best in analysis.best.items() for b in best]
    header = ("metric", *(f"{arm} · seed {b.seed} · trial {'—' if b.trial is None else b.trial}"
                          for arm, b in models))
    rows = tuple((m["label"], *(_number((b.values or {}).get(m["key"]), m["decimals"])
                                for _, b in models)) for m in analysis.metrics)
    return Table(header, rows, (False,) * len(rows))


def _tau(c: Correlation) -> str:
    if c.tau is None:
        return f"undefined: {c.undefined}"
    return f"τ {c.tau:+.2f} (p {c.p_value:.2g}, n {c.n})"


def _correlation_table(analysis: Analysis) -> Table:
    cells = {(c.component, c.column): c for c in analysis.correlations}
    components = list(dict.fromkeys(c.component for c in analysis.correlations))
    rows = tuple((r, *(_tau(cells[r, col]) for col in COLUMNS)) for r in components)
    marked = tuple(any(cells[r, col].significant for col in COLUMNS) for r in components)
    return Table(("health score", *(COLUMN_LABELS[c] for c in COLUMNS)), rows, marked)


def _verdicts(analysis: Analysis) -> tuple[Block, ...]:
    if analysis.verdicts:
        return (Bullets(tuple(analysis.verdicts)),)
    fewest = min((d.n for d in analysis.differences if d.n), default=0)
    why = (f" With {fewest} paired seeds none can be: see “How the numbers were made”."
           if 0 < fewest < MIN_SEEDS_FOR_VERDICT else "")
    return (Paragraph("No difference between the arms' best models is established at "
                      f"{PERCENT}.{why}"),)


def _retrain_table(analysis: Analysis) -> Table:
    rows = tuple((f"{arm} arm",
                  "—" if r is None else ", ".join(f"{a:.3f}" for a in r.accuracies),
                  "—" if r is None or r.spread is None else f"{r.spread:.3f}")
                 for arm, r in analysis.retrain.items())
    return Table(("arm", "holdout accuracy per retrain seed", "spread (max − min)"), rows,
                 (False,) * len(rows))


def _learner(analysis: Analysis) -> tuple[Block, ...]:
    blocks: list[Block] = [Paragraph(
        "Accuracy on the validation split is what the accuracy-only search maximises; the "
        "health-aware search also rewards models that train in a healthy way. Below, each "
        "holdout measure is explained, with what this comparison found and, where a difference "
        "is established, the health component that carried it.")]
    explained: set[str] = set()  # the corruptions share one explanation: give it once
    for note in analysis.learner:
        blocks.append(Subheading(note.label))
        if note.meaning not in explained:
            blocks.append(Paragraph(note.meaning))
            explained.add(note.meaning)
        blocks.append(Paragraph(note.finding))
        if note.reason:
            blocks.append(Paragraph(f"Carried by {note.carried_by}: {note.reason}"
                                    if note.carried_by else note.reason))
    return tuple(blocks)


def build_document(analysis: Analysis, plots: dict[str, str]) -> Document:
    """The report's blocks; ``plots`` maps a plot's role to its file name beside the report."""
    metrics = {m["key"]: m for m in analysis.metrics}
    summary_table = Table(
        ("metric", "accuracy arm (mean)", "health arm (mean)", "health − accuracy",
         f"{PERCENT} CI", "p (paired)", "seeds", "verdict"),
        tuple(_difference_row(metrics[d.metric], d) for d in analysis.differences),
        tuple(d.established for d in analysis.differences))
    seeds = ", ".join(map(str, analysis.seeds))
    setup = Paragraph(
        f"Dataset {analysis.dataset} ({analysis.modality}); {analysis.trials_per_arm} trials per "
        f"arm and seed, {analysis.epochs} epochs each; seeds {seeds}. Accuracy arm: "
        f"{analysis.formulas['accuracy']}. Health arm: {analysis.formulas['health']}.")
    return Document(
        title=f"Health-aware against accuracy-only search on {analysis.dataset}",
        sections=(
            Section("Setup", (setup, Paragraph(f"Comparison {analysis.id}."))),
            Section("Verdicts", _verdicts(analysis)),
            Section("Best models on the holdout", (
                summary_table,
                Plot(plots["differences"], "Health − accuracy for each metric, per seed, with "
                                           "the mean and its bootstrap interval."),
                Subheading("Each seed's best model"), _per_seed_table(analysis))),
            Section("Retrain stability", (
                Paragraph("Each arm's best configuration, trained again with new seeds and "
                          "scored on the holdout."), _retrain_table(analysis))),
            Section("Health against holdout outcomes", (
                _correlation_table(analysis), Bullets(tuple(analysis.correlation_findings)),
                Plot(plots["correlations"], "Kendall τ of each health score with each "
                                            "holdout outcome."),
                Plot(plots["health_vs_gap"], "Each trial's health against its generalization "
                                             "gap."))),
            Section("How the numbers were made", tuple(Paragraph(p) for p in METHOD)),
            Section("What this means, for a learner", _learner(analysis)),
        ))
