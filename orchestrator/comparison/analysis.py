"""The statistics of one comparison: accuracy-only search against health-aware search.

Pure: a checked `Summary` in, frozen results out, no I/O.

Differences (health − accuracy) are paired by seed: both arms of one seed share the data
split, so the seed's own luck cancels out. Each gets a percentile bootstrap interval over
seeds (``scipy.stats.bootstrap``, seeded so a report is reproducible). Percentile, not BCa:
BCa's acceleration is a jackknife over 3 to 10 seeds, unstable there and undefined when every
seed gives the same difference; the percentile interval is simply the middle 95 % of resampled
mean differences, which a reader can picture.

A bootstrap over n seeds cannot reach far past the data: with 3 seeds its 95 % interval is
about the range of the three differences, and it excludes 0 whenever they share a sign, which
happens one time in four by chance. So a difference is *established* only when the interval
excludes 0 AND the exact paired sign-flip permutation test of the mean difference
(``scipy.stats.permutation_test``) gives p < 0.05. The smallest p that n seeds can give is
2/2ⁿ, so fewer than 6 seeds never yield a verdict, and the report says so; 1 seed gives
no interval at all.

Kendall's τ (``scipy.stats.kendalltau``, τ-b) relates each health component, and total health,
to the generalization gap, holdout robustness and holdout ECE over every completed trial of
both arms that has health and holdout scores, as Jiang et al. (2020) rank generalization
measures.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
from scipy import stats

from onegin.scoring import HEALTH_COMPONENTS, describe_formula
from onegin.statuses import TrialStatus
from orchestrator.comparison.learner import correlation_findings, learner_notes, verdict
from orchestrator.comparison.metrics import COLUMNS, ECE, GAP, ROBUSTNESS, Metric, metrics_for
from orchestrator.comparison.results import (
    ALPHA,
    CONFIDENCE,
    MIN_SEEDS_FOR_VERDICT,
    TOTAL_HEALTH,
    Analysis,
    BestModel,
    Correlation,
    Difference,
    RetrainSpread,
    TrialPoint,
)
from orchestrator.comparison.summary import ARMS, Holdout, Summary, Trial

RESAMPLES = 9999
BOOTSTRAP_SEED = 13  # the same summary always gives the same intervals


def paired_difference(metric: str, seeds: Sequence[int], accuracy: Sequence[float],
                      health: Sequence[float]) -> Difference:
    """Health − accuracy over paired seeds, with its interval, test and verdict (see module)."""
    d = np.asarray(health, float) - np.asarray(accuracy, float)
    n = len(d)
    paired = metric, n, list(seeds), [float(x) for x in d]
    if n == 0:
        return Difference(*paired, None, None, None, None, None, None, False,
                          "no seed has a scored best model in both arms")
    means = float(np.mean(accuracy)), float(np.mean(health)), float(np.mean(d))
    if n == 1:
        return Difference(*paired, *means, None, None, None, False,
                          "one seed: no interval can be computed, so no verdict")
    with warnings.catch_warnings():  # identical differences: a zero-width interval is right
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        interval = stats.bootstrap((d,), np.mean, confidence_level=CONFIDENCE,
                                   n_resamples=RESAMPLES, method="percentile",
                                   rng=np.random.default_rng(BOOTSTRAP_SEED)
                                   ).confidence_interval
    p = float(stats.permutation_test((d,), np.mean, permutation_type="samples",
                                     n_resamples=RESAMPLES,
                                     rng=np.random.default_rng(BOOTSTRAP_SEED)).pvalue)
    low, high = float(interval.low), float(interval.high)
    excludes_zero = low > 0 or high < 0
    established = excludes_zero and p < ALPHA
    note = ""
    if not established and n < MIN_SEEDS_FOR_VERDICT:
        note = (f"with {n} seeds the paired test cannot give p below {2 / 2**n:.2g}: "
                f"at least {MIN_SEEDS_FOR_VERDICT} seeds are needed for a verdict")
    elif not established:
        note = "the interval includes 0" if not excludes_zero else f"paired test p = {p:.2g}"
    return Difference(*paired, *means, low, high, p, established, note)


def kendall(component: str, column: str, x: Sequence[float], y: Sequence[float]) -> Correlation:
    """Kendall's τ-b with its p-value; undefined (with the reason) for a constant column."""
    n = len(x)
    if n < 2:
        return Correlation(component, column, n, None, None, "fewer than 2 trials")
    for name, values in ((component, x), (column, y)):
        if np.ptp(np.asarray(values, float)) == 0:
            return Correlation(component, column, n, None, None, f"{name} is constant")
    result = stats.kendalltau(x, y)
    tau, p = float(result.statistic), float(result.pvalue)
    if math.isnan(tau):
        return Correlation(component, column, n, None, None, "τ is not defined for these data")
    return Correlation(component, column, n, tau, p, None)


def _best_models(summary: Summary, arm: str, metrics: Sequence[Metric]) -> list[BestModel]:
    best = []
    for run in summary.arms[arm].runs:
        trial = run.best()
        holdout = trial.holdout if trial else None
        values = None if holdout is None else {
            m.key: v for m in metrics if (v := m.value(holdout)) is not None}
        best.append(BestModel(run.seed, run.job_id, run.best_trial, values))
    return best


def _differences(best: Mapping[str, list[BestModel]], metrics: Sequence[Metric]
                 ) -> list[Difference]:
    by_seed = {arm: {b.seed: b.values for b in models if b.values} for arm, models in best.items()}
    result = []
    for m in metrics:
        seeds = sorted(s for s, values in by_seed["accuracy"].items()
                       if m.key in values and m.key in by_seed["health"].get(s, {}))
        result.append(paired_difference(
            m.key, seeds, [by_seed["accuracy"][s][m.key] for s in seeds],
            [by_seed["health"][s][m.key] for s in seeds]))
    return result


def _retrain(summary: Summary, arm: str) -> RetrainSpread | None:
    retrain = summary.arms[arm].retrain
    if retrain is None:
        return None
    accuracies = tuple(h.accuracy for h in retrain.holdout)
    spread = max(accuracies) - min(accuracies) if len(accuracies) >= 2 else None
    return RetrainSpread(accuracies, spread)


def _columns(trial: Trial, holdout: Holdout) -> dict[str, float]:
    assert trial.val_accuracy is not None
    return {GAP: trial.val_accuracy - holdout.accuracy, ROBUSTNESS: holdout.robustness_mean,
            ECE: holdout.ece}


def trial_points(summary: Summary) -> list[TrialPoint]:
    """Every completed trial of both arms that has health, validation and holdout scores."""
    points = []
    for arm in ARMS:
        for run in summary.arms[arm].runs:
            for t in run.trials:
                if (t.status != TrialStatus.COMPLETED or t.health is None or t.holdout is None
                        or t.val_accuracy is None):
                    continue
                health = dict(t.health)
                if t.health_score is not None:
                    health[TOTAL_HEALTH] = t.health_score
                points.append(TrialPoint(arm, run.seed, t.number, t.number == run.best_trial,
                                         health, _columns(t, t.holdout)))
    return points


def health_rows(points: Sequence[TrialPoint]) -> list[str]:
    """The components in scoring's order (then any others), and total health last."""
    seen = {name for p in points for name in p.health} - {TOTAL_HEALTH}
    extra = sorted(seen - set(HEALTH_COMPONENTS))
    return [c for c in HEALTH_COMPONENTS if c in seen] + extra + [TOTAL_HEALTH]


def correlations(points: Sequence[TrialPoint]) -> list[Correlation]:
    result = []
    for row in health_rows(points):
        having = [p for p in points if row in p.health]
        for column in COLUMNS:
            result.append(kendall(row, column, [p.health[row] for p in having],
                                  [p.columns[column] for p in having]))
    return result


def analyse(summary: Summary) -> Analysis:
    """Everything the report shows, computed once (the report only renders it)."""
    corruptions = {c for arm in summary.arms.values() for run in arm.runs for t in run.trials
                   if t.holdout for c in t.holdout.robustness}
    metrics = metrics_for(corruptions)
    best = {arm: _best_models(summary, arm, metrics) for arm in ARMS}
    differences = _differences(best, metrics)
    points = trial_points(summary)
    correlation = correlations(points)
    by_key = {m.key: m for m in metrics}
    retrain = {arm: _retrain(summary, arm) for arm in ARMS}
    return Analysis(
        id=summary.id, dataset=summary.dataset, modality=summary.modality,
        seeds=list(summary.seeds), trials_per_arm=summary.trials_per_arm, epochs=summary.epochs,
        formulas={"accuracy": "validation accuracy",
                  "health": describe_formula(summary.arms["health"].weights)},
        metrics=[{"key": m.key, "label": m.label, "lower_is_better": m.lower_is_better,
                  "decimals": m.decimals} for m in metrics],
        best=best, differences=differences,
        retrain=retrain,
        correlations=correlation, points=points,
        verdicts=[verdict(by_key[d.metric], d) for d in differences if d.established],
        learner=learner_notes(metrics, differences, correlation,
                              summary.arms["health"].weights.health, retrain),
        correlation_findings=correlation_findings(correlation),
    )
