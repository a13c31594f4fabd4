"""Score a trained model on the holdout split: the report `onegin.holdout` names.

The thin part that runs the model (predictions and timing); the arithmetic is in
`metrics`, the corrupted inputs in `corruptions`.
"""

from __future__ import annotations

import statistics
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from gpu_worker.holdout import metrics
from gpu_worker.holdout.corruptions import corruptions_for
from onegin.holdout import LATENCY_BATCH, SEVERITIES

if TYPE_CHECKING:
    from gpu_worker.datasets import PreparedData

WARM_UP_RUNS = 2  # the first calls trace the graph and allocate: not inference speed
TIMED_RUNS = 5


def evaluate_holdout(model: Any, data: PreparedData, *, seed: int) -> dict[str, Any] | None:
    """The holdout report of ``model``, or None when the holdout split is empty.

    ``seed`` draws the corruptions: the job's split seed, so that every trial of a job
    is scored on the same corrupted inputs.
    """
    x, y = data.x_holdout, data.y_holdout
    if not len(y):
        return None

    robustness = {
        c.name: [metrics.accuracy(y, _probabilities(model, c.at(x, severity, seed)))
                 for severity in range(1, SEVERITIES + 1)]
        for c in corruptions_for(data.modality, data.token_ids)
    }
    return {
        **metrics.summarize(y, _probabilities(model, x)),
        "robustness": robustness,
        "robustness_mean": float(np.mean(list(robustness.values()))),
        "param_count": int(model.count_params()),
        "latency_ms_per_256": latency_ms(model, x),
    }


def _probabilities(model: Any, x: np.ndarray) -> np.ndarray:
    """Class probabilities, `LATENCY_BATCH` samples at a time with ``predict_on_batch``:
    one traced function serves the whole report, where each ``predict`` call pays
    its own set-up (ten calls a report)."""
    return np.concatenate([np.asarray(model.predict_on_batch(x[i:i + LATENCY_BATCH]))
                           for i in range(0, len(x), LATENCY_BATCH)])


def latency_ms(model: Any, x: np.ndarray) -> float:
    """Median milliseconds of one forward pass over `LATENCY_BATCH` samples (``x``
    repeated to fill the batch), after warm-up passes."""
    batch = np.resize(x, (LATENCY_BATCH, *x.shape[1:]))
    for _ in range(WARM_UP_RUNS):
        model.predict_on_batch(batch)
    seconds = []
    for _ in range(TIMED_RUNS):
        start = time.perf_counter()
        model.predict_on_batch(batch)  # returns NumPy: the device has finished
        seconds.append(time.perf_counter() - start)
    return 1000.0 * statistics.median(seconds)
