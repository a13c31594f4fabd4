"""When a trial is hopeless: its loss blew up, it is no better than chance, or it is far
slower than its peers.

Pure (numpy only), so the GPU worker (divergence, chance) and the orchestrator (too
slow, from progress events) judge by the same rules. A hopeless trial is stopped
and recorded as pruned with a reason from `PRUNE_REASONS` and the evidence; it never
trains out its budget and never becomes a job's best.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

DIVERGENCE_FACTOR = 100.0  # a loss 100x a uniform guess's (ln K) has blown up, not just stalled
CHANCE_MARGIN = 0.01  # accuracy at most one point above the majority share has learned no rule
PRIOR_LOSS_RATIO = 0.97  # a loss 3% under the class-prior guess's has learned something already
MIN_CHANCE_STEPS = 10  # under 10 optimizer steps a sound model may not have moved off chance yet
TOO_SLOW_FACTOR = 3.0  # 3x the median finished trial: the time of three trials for one
# before a quarter of training, the first batches (graph tracing: seconds for an LSTM) skew
# the pace; on SMS spam a 0.05 floor stopped four trials that would have run 20-40 s
MIN_SLOW_FRACTION = 0.25
MIN_SLOW_SECONDS = 5.0  # nor in the first seconds, when one slow batch is most of the time

PruneReason = Literal["pruner", "diverged", "chance", "too_slow"]
PRUNE_REASONS: tuple[PruneReason, ...] = ("pruner", "diverged", "chance", "too_slow")
# the control store's stop reasons that prune a trial; "cancel" cancels it instead
_PRUNE_FOR_STOP: dict[str, PruneReason] = {"prune": "pruner", "too_slow": "too_slow"}


def _counts(labels: Sequence[int] | np.ndarray) -> np.ndarray:
    values = np.asarray(labels).ravel()
    if values.size == 0:
        raise ValueError("no labels: chance level and prior loss need at least one")
    _, counts = np.unique(values, return_counts=True)
    return counts


def chance_level(labels: Sequence[int] | np.ndarray) -> float:
    """Accuracy of always predicting the majority class (not 1/K: 0.866 on SMS spam)."""
    counts = _counts(labels)
    return float(counts.max() / counts.sum())


def prior_loss(labels: Sequence[int] | np.ndarray) -> float:
    """Cross-entropy (nats) of always predicting the class frequencies: the label entropy."""
    counts = _counts(labels)
    shares = counts / counts.sum()
    return float(-(shares * np.log(shares)).sum())


def diverged(loss: float, num_classes: int) -> bool:
    """The loss is not finite or far above a uniform guess's (ln K): training blew up."""
    return not math.isfinite(loss) or loss > divergence_limit(num_classes)


def divergence_limit(num_classes: int) -> float:
    """The highest loss that has not diverged: `DIVERGENCE_FACTOR` x ln K."""
    return DIVERGENCE_FACTOR * uniform_loss(num_classes)


def divergence_evidence(loss: float, num_classes: int) -> dict[str, Any]:
    """JSON-ready facts behind a `diverged` verdict: the loss and the limit it passed."""
    return {"loss": loss_evidence(loss), "limit": round(divergence_limit(num_classes), 6)}


def uniform_loss(num_classes: int) -> float:
    """Cross-entropy (nats) of a uniform guess, ln K: roughly where a fresh model starts."""
    return math.log(max(num_classes, 2))


def at_chance(val_accuracy: float | None, val_loss: float | None, chance: float,
              prior: float, start: float | None = None,
              train_loss: float | None = None) -> bool:
    """No better than the majority class, and the loss no better than the class prior.

    The loss test spares a model that learns slowly (an LSTM on imbalanced text): its
    argmax may still be the majority class while its loss is already under the
    prior's. Early in training pass ``start`` (`uniform_loss`): on imbalanced data a
    learning model first descends from ln K towards the prior, so early only a loss
    no better than both shows that nothing is being learned. Early, pass the epoch's
    ``train_loss`` too: batch normalization's moving statistics lag the weights for
    the first hundreds of steps, so a model that is learning can still score at chance
    on validation (a warm-start CNN on 400 digits: chance after epoch 1, 0.90 after
    epoch 3); a training loss under the reference shows it learns. Non-finite metrics
    say nothing here (`diverged` judges those).
    """
    if val_accuracy is None or val_loss is None:
        return False
    if not (math.isfinite(val_accuracy) and math.isfinite(val_loss)):
        return False
    limit = chance_loss_limit(prior, start)
    if train_loss is not None and math.isfinite(train_loss) and train_loss < limit:
        return False
    return val_accuracy <= chance_accuracy_limit(chance) and val_loss >= limit


def chance_accuracy_limit(chance: float) -> float:
    """The highest validation accuracy `at_chance` still counts as chance."""
    return chance + CHANCE_MARGIN


def chance_loss_limit(prior: float, start: float | None = None) -> float:
    """The lowest loss `at_chance` still counts as learning nothing: a little under the
    class prior's (early: under the larger of the prior's and the uniform guess's)."""
    return PRIOR_LOSS_RATIO * (prior if start is None else max(prior, start))


def chance_evidence(val_accuracy: float, val_loss: float, chance: float, prior: float,
                    start: float | None = None,
                    train_loss: float | None = None) -> dict[str, Any]:
    """JSON-ready facts behind an `at_chance` verdict: the metrics and the limits they
    did not pass (accuracy at most ``accuracy_limit``, losses at least ``loss_limit``)."""
    return {"val_accuracy": val_accuracy, "chance": chance,
            "accuracy_limit": round(chance_accuracy_limit(chance), 6),
            "val_loss": val_loss, "prior_loss": prior,
            "loss_limit": round(chance_loss_limit(prior, start), 6)} | (
        {} if train_loss is None else {"loss": train_loss})


def chance_check_due(epoch: int, epochs: int,
                     steps_per_epoch: int) -> Literal["early", "last"] | None:
    """Whether and how `at_chance` is judged after ``epoch`` (1-based) of ``epochs``.

    "last" after the last epoch; "early" once before it: after the first epoch that
    ends with at least `MIN_CHANCE_STEPS` optimizer steps done (epoch 1 unless
    epochs are tiny); else None.
    """
    if epoch == epochs:
        return "last"
    first = max(1, math.ceil(MIN_CHANCE_STEPS / max(1, steps_per_epoch)))
    return "early" if epoch == first else None


def predicted_seconds(elapsed: float, fraction_done: float, startup: float = 0.0) -> float | None:
    """The trial's whole time at its pace: ``startup`` (loading, building: done once) plus
    the training time so far scaled up to all of training."""
    if fraction_done <= 0:
        return None
    return startup + max(0.0, elapsed - startup) / fraction_done


def predicted_too_slow(elapsed: float, fraction_done: float, median_seconds: float | None,
                       k: float = TOO_SLOW_FACTOR, min_fraction: float = MIN_SLOW_FRACTION,
                       min_elapsed: float = MIN_SLOW_SECONDS, startup: float = 0.0) -> bool:
    """At its pace the trial will take more than ``k`` x the median finished trial.

    ``elapsed`` runs from the trial's start; ``startup`` of it came before training.
    Judged only after ``min_fraction`` of the training and ``min_elapsed`` seconds, so
    start-up noise does not fire it; with no median (nothing finished) never. Once
    ``elapsed`` alone exceeds ``k`` x the median there is nothing left to predict.
    """
    if median_seconds is None or not median_seconds > 0 or elapsed < min_elapsed:
        return False
    limit = k * median_seconds
    if elapsed > limit:
        return True
    if fraction_done < min_fraction:
        return False
    predicted = predicted_seconds(elapsed, fraction_done, startup)
    return predicted is not None and predicted > limit


def budget_seconds(seconds: float, epochs_run: int | None, epochs: int) -> float:
    """A completed trial's time scaled to the whole budget of ``epochs``: one that early
    stopping ended after ``epochs_run`` must not set a faster pace for its peers than
    training them out takes (its start-up is scaled too: a slightly slower pace)."""
    if not epochs_run or epochs_run >= epochs:
        return seconds
    return seconds * epochs / epochs_run


def slow_evidence(elapsed: float, fraction_done: float, median_seconds: float | None,
                  k: float = TOO_SLOW_FACTOR, startup: float = 0.0) -> dict[str, Any]:
    """JSON-ready facts behind a `predicted_too_slow` verdict, for the trial's record:
    ``limit_seconds`` (``factor`` x the median) is the time it was predicted to pass."""
    predicted = predicted_seconds(elapsed, fraction_done, startup)
    return {"elapsed_seconds": round(elapsed, 3), "startup_seconds": round(startup, 3),
            "fraction_done": round(fraction_done, 4),
            "predicted_seconds": None if predicted is None else round(predicted, 3),
            "median_seconds": median_seconds, "factor": k,
            "limit_seconds": None if median_seconds is None else round(k * median_seconds, 3)}


def prune_reason_for_stop(stop_reason: str | None) -> PruneReason | None:
    """The prune reason a control-store stop flag means; None for "cancel" or no flag."""
    return _PRUNE_FOR_STOP.get(stop_reason) if stop_reason else None


def loss_evidence(loss: float) -> float | str:
    """A loss as JSON can hold it: the number, or "nan" / "inf" / "-inf" as text."""
    return float(loss) if math.isfinite(loss) else str(float(loss))
