"""The holdout metrics a comparison reports, with the words a report needs for each.

One catalogue so that the statistics, the verdict sentences, the learner's section, the
tables and the plots all name and read a metric the same way. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from orchestrator.comparison.summary import Holdout

# The columns each health component is rank-correlated with, over all trials.
GAP, ROBUSTNESS, ECE = "generalization_gap", "robustness_mean", "ece"
COLUMNS: tuple[str, ...] = (GAP, ROBUSTNESS, ECE)
COLUMN_LABELS = {GAP: "generalization gap (val − holdout accuracy)",
                 ROBUSTNESS: "holdout robustness (mean)", ECE: "holdout ECE"}

CORRUPTION_NAMES = {"gaussian_noise": "Gaussian noise", "blur": "blur", "occlusion": "occlusion",
                    "token_dropout": "token dropout", "char_typos": "character typos"}


@dataclass(frozen=True)
class Metric:
    """One holdout metric of a best model.

    ``better``/``worse`` finish the sentence "The health-aware search's best models …";
    ``column`` is the correlation column whose movement explains a change in this metric
    (its sign: +1 when the metric moves with the column, -1 against it); ``defined_by`` is a
    health component that scores this very quantity, for metrics no column covers.
    """

    key: str
    label: str
    lower_is_better: bool
    decimals: int
    better: str
    worse: str
    meaning: str
    column: str | None = None
    column_sign: int = 1
    defined_by: str | None = None

    def value(self, holdout: Holdout) -> float | None:
        """The metric of one model; None for a corruption that model was not scored on."""
        if self.key.startswith("robustness."):
            accuracies = holdout.robustness.get(self.key.removeprefix("robustness."))
            return sum(accuracies) / len(accuracies) if accuracies else None
        return float(getattr(holdout, self.key))

    def shown(self, value: float) -> str:
        return f"{value:,.{self.decimals}f}"


_ROBUSTNESS_MEANING = (
    "Accuracy when the holdout inputs are corrupted, averaged over three severities: how well "
    "the model holds up on messier data than it was trained on (Hendrycks & Dietterich 2019).")

BASE_METRICS: tuple[Metric, ...] = (
    Metric("accuracy", "accuracy", False, 3, "were more accurate on the holdout",
           "were less accurate on the holdout",
           "Accuracy on the holdout split, which no search ever saw: the honest estimate of how "
           "often the model is right on new data.", column=GAP, column_sign=-1),
    Metric("worst_class_accuracy", "worst-class accuracy", False, 3,
           "did better on their weakest class", "did worse on their weakest class",
           "Holdout accuracy on the class the model gets wrong most often: a model can look "
           "accurate overall while failing one class.", column=GAP, column_sign=-1),
    Metric("ece", "ECE", True, 3, "were better calibrated", "were worse calibrated",
           "Expected calibration error (15 bins; Guo et al. 2017): how far the model's "
           "confidence is from how often it is right. Lower means its probabilities can be "
           "trusted.", column=ECE),
    Metric("brier", "Brier score", True, 3, "gave better probability estimates",
           "gave worse probability estimates",
           "The mean squared error of the predicted class probabilities: it rewards being right "
           "and being as confident as the model deserves. Lower is better.", column=ECE),
    Metric("robustness_mean", "accuracy under corruption", False, 3,
           "were more robust to corrupted inputs", "were less robust to corrupted inputs",
           _ROBUSTNESS_MEANING, column=ROBUSTNESS),
    Metric("param_count", "parameter count", True, 0, "were smaller", "were larger",
           "How many weights the model has: a smaller model is cheaper to store and to run.",
           defined_by="parameter_efficiency"),
    Metric("latency_ms_per_256", "latency (ms per 256 inputs)", True, 1, "were faster",
           "were slower", "The time the model takes to classify a batch of 256 inputs.",
           defined_by="parameter_efficiency"),
)


def corruption_metric(name: str) -> Metric:
    shown = CORRUPTION_NAMES.get(name, name.replace("_", " "))
    return Metric(f"robustness.{name}", f"accuracy under {shown}", False, 3,
                  f"were more robust to {shown}", f"were less robust to {shown}",
                  _ROBUSTNESS_MEANING, column=ROBUSTNESS)


def metrics_for(corruptions: Iterable[str]) -> tuple[Metric, ...]:
    """The base metrics, then one per corruption, in the catalogue's order of corruptions."""
    known = list(CORRUPTION_NAMES)
    ordered = sorted(set(corruptions), key=lambda c: (c not in known, known.index(c)
                                                       if c in known else 0, c))
    return BASE_METRICS + tuple(corruption_metric(c) for c in ordered)


RETRAIN_MEANING = (
    "How far holdout accuracy moves when the best configuration is trained again with new "
    "seeds (largest minus smallest): a small spread means the result is reproducible, not a "
    "lucky draw.")
