"""Datasets for the GPU worker: registry, offline files, splits and model-ready arrays.

Importing this package is cheap (no TensorFlow); TensorFlow/Keras load only when raw
text must be vectorized or a download is attempted. See docs/datasets.md.
"""

from __future__ import annotations

from gpu_worker.datasets.loaders import PreparedData, clear_cache, load_dataset
from onegin.datasets import (
    DATASETS,
    DEFAULT_DATASET,
    SEQUENCE_LENGTHS,
    VOCAB_CAP,
    DatasetSpec,
    get_spec,
)

__all__ = [
    "DATASETS",
    "DEFAULT_DATASET",
    "SEQUENCE_LENGTHS",
    "VOCAB_CAP",
    "DatasetSpec",
    "PreparedData",
    "clear_cache",
    "get_spec",
    "load_dataset",
]
