"""The words of a trial's holdout report, defined once for the worker, records and API.

A job with ``holdout: true`` has each completed trial scored on the holdout split,
which the search never sees (`gpu_worker.holdout` measures it). The report is
evidence only: no score, pruner or best-trial choice reads it. Pure: no TensorFlow.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from onegin.search_space import Modality

HOLDOUT_KEYS: tuple[str, ...] = (
    "samples", "accuracy", "worst_class_accuracy", "per_class_accuracy", "ece", "brier",
    "robustness", "robustness_mean", "param_count", "latency_ms_per_256",
)
"""Every key of a holdout report, in the order the API documents them."""

CORRUPTIONS: Mapping[Modality, tuple[str, ...]] = MappingProxyType({
    "image": ("gaussian_noise", "blur", "occlusion"),
    "text": ("token_dropout", "char_typos"),
})
"""The corruptions a modality's robustness is measured under (keys of ``robustness``)."""

SEVERITIES = 3
"""Severities per corruption: ``robustness[name]`` lists one accuracy per severity."""

ECE_BINS = 15  # equal-width confidence bins, as Guo et al. (2017)
LATENCY_BATCH = 256  # samples per timed inference batch
