"""Seeded, stratified train / val / test / holdout splits over a pooled dataset (pure).

Everything a source provides is pooled first, so the four splits are cut by one rule
for every dataset: val is the search objective, test is reported, and holdout is
never seen during the search. Splits work on indices so the arrays are copied once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from onegin.errors import ConfigError

VAL_FRACTION = 0.15
TEST_FRACTION = 0.15
HOLDOUT_FRACTION = 0.10
SPLIT_NAMES = ("train", "val", "test", "holdout")


@dataclass(frozen=True)
class SplitIndices:
    """Positions into the pooled arrays, one disjoint int64 array per split."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    holdout: np.ndarray

    def sizes(self) -> dict[str, int]:
        return {name: len(getattr(self, name)) for name in SPLIT_NAMES}


def validate_cap(value: Any, field: str) -> int | None:
    """Return a sample cap as an int (None = no cap); reject anything but a positive int."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value <= 0:
        raise ConfigError(field, f"must be a positive integer or None, got {value!r}")
    return int(value)


def validate_seed(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise ConfigError("seed", f"must be a non-negative integer, got {value!r}")
    return int(value)


def _take(
    indices: np.ndarray, labels: np.ndarray, size: int, random_state: int
) -> tuple[np.ndarray, np.ndarray]:
    """Split ``indices`` into (rest, taken) with ``size`` taken, stratified when possible.

    Stratification needs every class to have 2+ members and the taken part to hold at
    least one of each class; when that fails (tiny classes) we fall back to a plain
    seeded shuffle rather than refusing the dataset.
    """
    from sklearn.model_selection import train_test_split

    if size <= 0:
        return indices, indices[:0]
    if size >= len(indices):
        return indices[:0], indices
    try:
        rest, taken = train_test_split(
            indices, test_size=size, random_state=random_state, stratify=labels[indices]
        )
    except ValueError:
        rest, taken = train_test_split(indices, test_size=size, random_state=random_state)
    return np.asarray(rest, dtype=np.int64), np.asarray(taken, dtype=np.int64)


def split_indices(
    labels: np.ndarray,
    *,
    seed: int = 0,
    val: float = VAL_FRACTION,
    test: float = TEST_FRACTION,
    holdout: float = HOLDOUT_FRACTION,
) -> SplitIndices:
    """Cut ``len(labels)`` samples into train/val/test/holdout, deterministic in ``seed``."""
    seed = validate_seed(seed)
    fractions = {"val": val, "test": test, "holdout": holdout}
    for key, frac in fractions.items():
        if not 0.0 <= frac < 1.0:
            raise ConfigError(f"splits.{key}", f"must be in [0, 1), got {frac!r}")
    if sum(fractions.values()) >= 1.0:
        raise ConfigError("splits", f"val + test + holdout must be below 1, got {fractions}")
    labels = np.asarray(labels)
    n = len(labels)
    sizes = {key: round(frac * n) for key, frac in fractions.items()}
    if n - sum(sizes.values()) < 1 or n < 4:
        raise ConfigError("dataset", f"only {n} samples: too few to split into four parts")
    rng = np.random.default_rng(seed)
    states = [int(s) for s in rng.integers(0, 2**31 - 1, size=3)]
    pool = np.arange(n, dtype=np.int64)
    pool, holdout_idx = _take(pool, labels, sizes["holdout"], states[0])
    pool, test_idx = _take(pool, labels, sizes["test"], states[1])
    train_idx, val_idx = _take(pool, labels, sizes["val"], states[2])
    return SplitIndices(train=train_idx, val=val_idx, test=test_idx, holdout=holdout_idx)


def cap_indices(indices: np.ndarray, labels: np.ndarray, cap: int | None, seed: int) -> np.ndarray:
    """Keep at most ``cap`` of ``indices``: a seeded, stratified subsample."""
    if cap is None or cap >= len(indices):
        return indices
    _, kept = _take(indices, labels, cap, seed)
    return kept


def apply_caps(
    splits: SplitIndices,
    labels: np.ndarray,
    *,
    seed: int = 0,
    max_train_samples: int | None = None,
    max_eval_samples: int | None = None,
) -> SplitIndices:
    """Cap the training split and each evaluation split (val, test, holdout) separately."""
    train_cap = validate_cap(max_train_samples, "max_train_samples")
    eval_cap = validate_cap(max_eval_samples, "max_eval_samples")
    # A different stream from split_indices, so capping never mirrors the split draw.
    rng = np.random.default_rng([validate_seed(seed), 1])
    states = [int(s) for s in rng.integers(0, 2**31 - 1, size=4)]
    return SplitIndices(
        train=cap_indices(splits.train, labels, train_cap, states[0]),
        val=cap_indices(splits.val, labels, eval_cap, states[1]),
        test=cap_indices(splits.test, labels, eval_cap, states[2]),
        holdout=cap_indices(splits.holdout, labels, eval_cap, states[3]),
    )
