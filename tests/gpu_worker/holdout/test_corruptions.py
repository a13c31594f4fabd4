"""Corruptions are named as the report says, deterministic in their seed, nested and
monotone in severity, leave their input alone, and never touch padding or markers."""

from __future__ import annotations

import numpy as np
import pytest

from gpu_worker.datasets.text import KERAS_IDS, PAD_ID, START_CHAR, VECTORIZER_IDS, TokenIds
from gpu_worker.holdout.corruptions import Corruption, corruptions_for
from onegin.holdout import CORRUPTIONS, SEVERITIES


def _readonly(x: np.ndarray) -> np.ndarray:
    x.flags.writeable = False  # as PreparedData's cached arrays are
    return x


def _images(side: int = 16) -> np.ndarray:
    rng = np.random.default_rng(1)
    return _readonly(rng.random((20, side, side, 3), dtype=np.float32))


def _sequences(ids: TokenIds, start: bool) -> np.ndarray:
    """Rows of words (some OOV), then padding; a start marker first where ``start``."""
    rng = np.random.default_rng(2)
    x = np.zeros((50, 40), dtype=np.int32)
    for row, length in enumerate(rng.integers(10, 36, len(x))):
        words = rng.integers(ids.first_word, 500, length)
        words[rng.random(length) < 0.1] = ids.oov
        x[row, : length + start] = [START_CHAR, *words] if start else words
    return _readonly(x)


def _by_name(modality: str, ids: TokenIds | None = None) -> dict[str, Corruption]:
    return {c.name: c for c in corruptions_for(modality, ids)}  # type: ignore[arg-type]


@pytest.mark.parametrize("modality", ["image", "text"])
def test_each_modality_has_the_reports_corruptions_at_three_severities(modality: str) -> None:
    found = corruptions_for(modality, KERAS_IDS)  # type: ignore[arg-type]
    assert tuple(c.name for c in found) == CORRUPTIONS[modality]
    assert all(len(c.levels) == SEVERITIES and list(c.levels) == sorted(set(c.levels))
               for c in found)


def test_text_corruptions_need_the_token_ids() -> None:
    with pytest.raises(ValueError, match="token ids"):
        corruptions_for("text")


def test_image_corruptions_are_deterministic_in_range_and_grow_with_severity() -> None:
    x = _images()
    for corruption in corruptions_for("image"):
        changes = []
        for severity in range(1, SEVERITIES + 1):
            out = corruption.at(x, severity, seed=7)
            assert out.shape == x.shape and out.dtype == x.dtype
            assert out.min() >= 0.0 and out.max() <= 1.0
            assert np.array_equal(out, corruption.at(x, severity, seed=7))
            changes.append(float(np.abs(out - x).mean()))
        assert 0 < changes[0] < changes[1] < changes[2], corruption.name
    assert np.array_equal(x, _images())  # the input is left alone


def test_noise_and_occlusion_draw_from_their_seed() -> None:
    x = _images()
    for name in ("gaussian_noise", "occlusion"):
        corruption = _by_name("image")[name]
        assert not np.array_equal(corruption.at(x, 1, seed=7), corruption.at(x, 1, seed=8))


def test_occlusion_is_nested_a_grey_square_per_image_scaled_to_the_side() -> None:
    occlusion = _by_name("image")["occlusion"]
    x = _images(side=20)
    masks = [(occlusion.at(x, s, seed=3) != x).any(axis=3) for s in (1, 2, 3)]
    assert (masks[0] <= masks[1]).all() and (masks[1] <= masks[2]).all()
    for mask, share in zip(masks, occlusion.levels, strict=True):
        side = round(share * 20)
        rows, cols = mask.any(axis=2), mask.any(axis=1)
        assert (rows.sum(1) <= side).all() and (cols.sum(1) <= side).all()
        assert (rows.sum(1) == side).any()  # squares away from the border keep their size
    assert np.allclose(occlusion.at(x, 3, seed=3)[masks[2]], 0.5)


def test_blur_scales_with_the_image_side() -> None:
    # one bright pixel: a 32-pixel image's blur spreads it as far, in shares of the side,
    # as an 8-pixel image's
    blur = _by_name("image")["blur"]
    spread = []
    for side in (8, 32):
        x = np.zeros((1, side, side, 1), dtype=np.float32)
        x[0, side // 2, side // 2] = 1.0
        row = blur.at(x, 3, seed=0)[0, side // 2, :, 0]
        spread.append(float(np.sqrt((row * (np.arange(side) - side // 2) ** 2).sum()
                                    / row.sum())) / side)
    assert spread[0] == pytest.approx(spread[1], rel=0.1)


@pytest.mark.parametrize(("ids", "start"), [(KERAS_IDS, True), (VECTORIZER_IDS, False)])
def test_typos_turn_a_growing_nested_share_of_words_into_oov(ids: TokenIds,
                                                             start: bool) -> None:
    x = _sequences(ids, start)
    typos = _by_name("text", ids)["char_typos"]
    words = x >= ids.first_word
    changed = []
    for severity in (1, 2, 3):
        out = typos.at(x, severity, seed=5)
        assert np.array_equal(out, typos.at(x, severity, seed=5))
        hit = out != x
        assert (out[hit] == ids.oov).all() and not (hit & ~words).any()  # words only
        changed.append(hit)
        share = hit.sum() / words.sum()
        assert share == pytest.approx(typos.levels[severity - 1], abs=0.03)
    assert (changed[0] <= changed[1]).all() and (changed[1] <= changed[2]).all()


@pytest.mark.parametrize(("ids", "start"), [(KERAS_IDS, True), (VECTORIZER_IDS, False)])
def test_dropout_deletes_a_growing_share_of_words_and_closes_up(ids: TokenIds,
                                                                start: bool) -> None:
    x = _sequences(ids, start)
    dropout = _by_name("text", ids)["token_dropout"]
    words = (x >= ids.first_word) | (x == ids.oov)
    kept_counts = []
    for severity in (1, 2, 3):
        out = dropout.at(x, severity, seed=5)
        assert np.array_equal(out, dropout.at(x, severity, seed=5))
        if start:
            assert (out[:, 0] == START_CHAR).all()
        for row_in, row_out in zip(x, out, strict=True):
            kept = row_out[row_out != PAD_ID]
            assert (row_out[len(kept):] == PAD_ID).all()  # padding only at the end
            assert _is_subsequence(kept, row_in[row_in != PAD_ID])
        kept_counts.append(int(((out >= ids.first_word) | (out == ids.oov)).sum()))
        dropped = 1 - kept_counts[-1] / words.sum()
        assert dropped == pytest.approx(dropout.levels[severity - 1], abs=0.03)
    assert kept_counts[0] > kept_counts[1] > kept_counts[2]


def _is_subsequence(part: np.ndarray, whole: np.ndarray) -> bool:
    it = iter(whole.tolist())
    return all(token in it for token in part.tolist())


def test_a_severity_outside_one_to_three_is_refused() -> None:
    with pytest.raises(ValueError, match="severity"):
        corruptions_for("image")[0].at(_images(), 4, seed=0)
