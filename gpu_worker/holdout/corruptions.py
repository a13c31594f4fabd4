"""Corrupted copies of model inputs, to measure accuracy under shift (pure NumPy/SciPy).

Images are floats in [0, 1], NHWC, as the model sees them. In the spirit of
Hendrycks & Dietterich (2019, CIFAR-10-C):
- ``gaussian_noise``: sigma 0.08 / 0.18 / 0.38 (their severities 1, 3 and 5), clipped;
- ``blur``: a Gaussian blur of sigma 1 / 2 / 3 pixels on a 32-pixel side, scaled with
  the side, so an 8x8 digit loses as much detail as a 32x32 photo;
- ``occlusion``: a mid-grey square (Cutout, DeVries & Taylor 2017) of 25 / 40 / 55 % of
  the side, centred at a random point of each image (clipped at the border).

Token-id sequences (`TokenIds` says which ids are words):
- ``token_dropout``: 10 / 20 / 40 % of the words deleted; the rest close up and
  padding follows, as if the words had never been written;
- ``char_typos``: a character typo in 10 / 20 / 40 % of the words. The vocabulary is
  learnt from training words, so a misspelt word is out of vocabulary (but for the
  rare typo that spells another known word): the word becomes the OOV id, which is
  what the tokenizer makes of it. The raw text is not kept past vectorizing, and
  pre-tokenized corpora (IMDB, Reuters) have none.
Padding and markers (the start id) are never touched; an OOV word may be dropped.

Each corruption is deterministic in its seed and nested: one draw per element
serves every severity, so a stronger severity changes all a milder one does, and more.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from gpu_worker.datasets.text import PAD_ID, TokenIds
from onegin.search_space import Modality

Apply = Callable[[np.ndarray, float, np.random.Generator], np.ndarray]
GREY = 0.5
BLUR_REFERENCE_SIDE = 32  # CIFAR's side, which the blur sigmas are given for


def gaussian_noise(x: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    noise = rng.standard_normal(x.shape, dtype=np.float32)
    return np.clip(x + np.float32(sigma) * noise, 0.0, 1.0).astype(x.dtype)


def blur(x: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Blur each image's rows and columns (never across images or channels)."""
    del rng  # deterministic
    scale = x.shape[1] / BLUR_REFERENCE_SIDE, x.shape[2] / BLUR_REFERENCE_SIDE
    return ndimage.gaussian_filter(
        x, sigma=(0, sigma * scale[0], sigma * scale[1], 0), mode="nearest").astype(x.dtype)


def _spans(centres: np.ndarray, size: int, length: int) -> np.ndarray:
    """(n, length) mask: ``size`` positions around each centre, clipped to the side."""
    start = np.floor(centres - size / 2).astype(np.int64)
    positions = np.arange(length)
    return (positions >= start[:, None]) & (positions < start[:, None] + size)


def occlusion(x: np.ndarray, share: float, rng: np.random.Generator) -> np.ndarray:
    n, height, width = x.shape[:3]
    centres = rng.random((2, n)) * np.array([[height], [width]])
    rows = _spans(centres[0], max(1, round(share * height)), height)
    cols = _spans(centres[1], max(1, round(share * width)), width)
    out = x.copy()
    out[rows[:, :, None] & cols[:, None, :]] = GREY
    return out


def _words(x: np.ndarray, ids: TokenIds) -> np.ndarray:
    return (x >= ids.first_word) | (x == ids.oov)


def token_dropout(x: np.ndarray, rate: float, rng: np.random.Generator, *,
                  ids: TokenIds) -> np.ndarray:
    dropped = _words(x, ids) & (rng.random(x.shape) < rate)
    # a stable sort moves the dropped tokens to the end of their row, keeping the order
    # of the rest; then they become padding
    order = np.argsort(dropped, axis=1, kind="stable")
    out = np.take_along_axis(x, order, axis=1)
    kept = x.shape[1] - dropped.sum(1)
    out[np.arange(x.shape[1]) >= kept[:, None]] = PAD_ID
    return out


def char_typos(x: np.ndarray, rate: float, rng: np.random.Generator, *,
               ids: TokenIds) -> np.ndarray:
    misspelt = (x >= ids.first_word) & (rng.random(x.shape) < rate)
    return np.where(misspelt, ids.oov, x).astype(x.dtype)


@dataclass(frozen=True)
class Corruption:
    """One corruption and its level at each severity, mildest first."""

    name: str
    levels: tuple[float, ...]
    apply: Apply

    def at(self, x: np.ndarray, severity: int, seed: int) -> np.ndarray:
        """``x`` corrupted at ``severity`` (1 = mildest); a seed draws the same at every
        severity, and each corruption draws its own (the name is mixed in)."""
        if not 1 <= severity <= len(self.levels):
            raise ValueError(f"severity must be 1 to {len(self.levels)}, got {severity}")
        rng = np.random.default_rng([seed, zlib.crc32(self.name.encode())])
        return self.apply(np.asarray(x), self.levels[severity - 1], rng)


def corruptions_for(modality: Modality, token_ids: TokenIds | None = None
                    ) -> tuple[Corruption, ...]:
    """The corruptions of ``modality``, named and ordered as `onegin.holdout.CORRUPTIONS`
    (tests hold them to it); text needs its ``token_ids``."""
    if modality == "text":
        if token_ids is None:
            raise ValueError("text corruptions need the data's token ids (which id is OOV)")
        return (Corruption("token_dropout", (0.1, 0.2, 0.4),
                           functools.partial(token_dropout, ids=token_ids)),
                Corruption("char_typos", (0.1, 0.2, 0.4),
                           functools.partial(char_typos, ids=token_ids)))
    return (Corruption("gaussian_noise", (0.08, 0.18, 0.38), gaussian_noise),
            Corruption("blur", (1.0, 2.0, 3.0), blur),
            Corruption("occlusion", (0.25, 0.40, 0.55), occlusion))
