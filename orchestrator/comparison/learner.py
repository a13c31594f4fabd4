"""The words of a comparison report: verdicts, and the plain-language section for a learner.

Which health component "carried" an established difference is decided by one rule, so the
report never picks a story after the fact:

- a metric with a correlation column (accuracy and worst class: the generalization gap, which
  falls as holdout accuracy rises; ECE and Brier: holdout ECE; robustness: holdout
  robustness) is carried by the component that (1) moves that column in the direction the
  difference went (the sign of its Kendall τ over all trials, at p < 0.05) and (2) has the
  largest weight × |τ| among those: the weight says how hard the health-aware search pushed
  on the component, τ how closely the outcome follows it. Total health is not a component
  and carries nothing. No component qualifying is said plainly;
- size and latency are carried by parameter_efficiency, the component that scores model size
  by its definition, but only when the health-aware models were smaller or faster.

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from orchestrator.comparison.metrics import COLUMN_LABELS, RETRAIN_MEANING, Metric
from orchestrator.comparison.results import (
    ALPHA,
    CONFIDENCE,
    TOTAL_HEALTH,
    Correlation,
    Difference,
    LearnerNote,
    RetrainSpread,
)

HEALTH_ARM = "The health-aware search's best models"
PERCENT = f"{CONFIDENCE:.0%}".replace("%", " %")


def _health_better(metric: Metric, d: Difference) -> bool:
    return d.mean is not None and (d.mean < 0) == metric.lower_is_better


def verdict(metric: Metric, d: Difference) -> str:
    """The sentence for an established difference, e.g. "… were better calibrated: ECE 0.040
    lower (95 % CI 0.010–0.070)."""
    assert d.established and d.mean is not None and d.low is not None and d.high is not None
    words = metric.better if _health_better(metric, d) else metric.worse
    up = d.mean > 0
    low, high = (d.low, d.high) if up else (-d.high, -d.low)
    return (f"{HEALTH_ARM} {words}: {metric.label} {metric.shown(abs(d.mean))} "
            f"{'higher' if up else 'lower'} ({PERCENT} CI {metric.shown(low)}–"
            f"{metric.shown(high)}).")


def finding(metric: Metric, d: Difference) -> str:
    """What the data say about one metric, established or not."""
    if d.established:
        return verdict(metric, d)
    if d.mean is None:
        return f"Not measured: {d.note}."
    k = metric.decimals
    shift = f"health − accuracy = {d.mean:+,.{k}f} in {metric.label}"
    if d.low is None or d.high is None:
        return f"Not established: {shift} ({d.note})."
    return (f"Not established: {shift}, the mean over {d.n} seeds ({PERCENT} CI "
            f"{d.low:+,.{k}f} to {d.high:+,.{k}f}; {d.note}).")


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


def carrier(metric: Metric, d: Difference, correlations: Sequence[Correlation],
            weights: Mapping[str, float]) -> tuple[str | None, str]:
    """The component that carried an established difference, and why (module docstring)."""
    assert d.mean is not None
    if metric.column is not None:
        moved = _sign(d.mean) * metric.column_sign  # the direction the column went
        label = COLUMN_LABELS[metric.column]
        eligible = [c for c in correlations
                    if c.column == metric.column and c.component != TOTAL_HEALTH
                    and c.tau is not None and c.significant and _sign(c.tau) == moved]
        if not eligible:
            return None, (f"No health component tracks {label} in that direction (Kendall τ "
                          f"at p < {ALPHA:.2f}), so the data cannot say which one carried it.")
        best = max(eligible, key=lambda c: weights.get(c.component, 0.0) * abs(c.tau or 0.0))
        assert best.tau is not None and best.p_value is not None
        return best.component, (
            f"Of the components whose rank correlation with {label} points that way, "
            f"{best.component} has the largest weight × |τ| "
            f"({weights.get(best.component, 0.0):.2f} × {abs(best.tau):.2f}; τ = "
            f"{best.tau:+.2f}, p = {best.p_value:.2g}, n = {best.n}): the search pushed on "
            f"it, and {label} follows it.")
    if metric.defined_by is not None and _health_better(metric, d):
        return metric.defined_by, (
            f"{metric.defined_by} scores model size by its definition (skill times a reward "
            f"for few parameters) and has weight {weights.get(metric.defined_by, 0.0):.2f} in "
            f"the health score.")
    return None, ("No health component rewards this direction, so the accuracy share of the "
                  "score or chance must have carried it.")


def learner_notes(metrics: Sequence[Metric], differences: Sequence[Difference],
                  correlations: Sequence[Correlation], weights: Mapping[str, float],
                  retrain: Mapping[str, RetrainSpread | None]) -> list[LearnerNote]:
    """One note per metric, and one for retrain stability."""
    notes = []
    for metric, d in zip(metrics, differences, strict=True):
        component, reason = (carrier(metric, d, correlations, weights) if d.established
                             else (None, ""))
        notes.append(LearnerNote(metric.key, metric.label, metric.meaning, finding(metric, d),
                                 component, reason))
    spreads = {arm: r.spread for arm, r in retrain.items() if r is not None}
    if len(spreads) == 2 and None not in spreads.values():
        shown = ", ".join(f"{arm} arm {s:.3f}" for arm, s in spreads.items())
        retrain_finding = (f"Spread of holdout accuracy over the retrain seeds: {shown}. One "
                           "retrain per arm gives no interval, so no verdict.")
    else:
        retrain_finding = "Not measured: an arm has no retrain with at least 2 seeds."
    notes.append(LearnerNote("retrain_spread", "retrain spread", RETRAIN_MEANING,
                             retrain_finding, None, ""))
    return notes


def correlation_findings(correlations: Sequence[Correlation]) -> list[str]:
    """Per health score: the columns it tracks at p < α, or that it predicted none of them."""
    lines = []
    for component in dict.fromkeys(c.component for c in correlations):
        rows = [c for c in correlations if c.component == component]
        found = [c for c in rows if c.significant]
        if found:
            lines.append(f"{component}: " + "; ".join(
                f"{'rises' if (c.tau or 0) > 0 else 'falls'} with {COLUMN_LABELS[c.column]} "
                f"(τ = {c.tau:+.2f}, p = {c.p_value:.2g}, n = {c.n})" for c in found) + ".")
        elif all(c.undefined for c in rows):
            lines.append(f"{component}: undefined ({rows[0].undefined}).")
        else:
            lines.append(f"{component}: no predictive value here — no rank correlation with "
                         f"any of the three at p < {ALPHA:.2f}.")
    return lines
