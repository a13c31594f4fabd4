"""Dataset loading on real files: shared MNIST/SMS data and small generated fixtures.

No training and no network: every test runs with ONEGIN_OFFLINE=1 and an empty
Keras cache, so what is found comes from the files each test puts in place.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import pickle
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest
from PIL import Image

from gpu_worker.datasets import (
    DATASETS,
    SEQUENCE_LENGTHS,
    VOCAB_CAP,
    PreparedData,
    clear_cache,
    get_spec,
    load_dataset,
)
from gpu_worker.datasets.offline import read_idx
from gpu_worker.datasets.splits import split_indices
from gpu_worker.datasets.text import KERAS_IDS, VECTORIZER_IDS, TokenIds
from onegin.errors import ConfigError, DatasetUnavailable

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
MNIST_T10K = SHARED_DATA / "mnist-t10k"
SMS_FILE = SHARED_DATA / "sms-spam" / "SMSSpamCollection"
# Class counts of the real MNIST test set (t10k), a fingerprint of the right file.
T10K_CLASS_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.fixture(autouse=True)
def _hermetic(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No downloads, no stray data dir, an empty Keras cache."""
    monkeypatch.setenv("ONEGIN_OFFLINE", "1")
    monkeypatch.delenv("ONEGIN_DATA_DIR", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path_factory.mktemp("keras-home")))


def _splits(data: PreparedData) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    return {
        "train": (data.x_train, data.y_train),
        "val": (data.x_val, data.y_val),
        "test": (data.x_test, data.y_test),
        "holdout": (data.x_holdout, data.y_holdout),
    }


def _assert_trailing_padding(x: np.ndarray) -> None:
    """Every row is ids followed only by zeros ('post' padding)."""
    nonzero = x != 0
    # Once a row hits 0 it must stay 0: no nonzero id after the first zero.
    first_zero = np.where((~nonzero).any(axis=1), (~nonzero).argmax(axis=1), x.shape[1])
    cols = np.arange(x.shape[1])[None, :]
    assert not (nonzero & (cols >= first_zero[:, None])).any()


# ------------------------------------------------------------------------- digits


def test_digits_shapes_dtypes_and_ranges() -> None:
    data = load_dataset("digits")
    assert data.spec is DATASETS["digits"]
    assert data.modality == "image" and data.num_classes == 10 and data.vocab_size is None
    assert data.input_shape == (8, 8, 1)
    assert data.class_names == tuple(str(i) for i in range(10))
    total = 0
    for name, (x, y) in _splits(data).items():
        assert x.dtype == np.float32 and x.shape[1:] == (8, 8, 1), name
        assert y.dtype == np.int64 and y.shape == (len(x),), name
        assert x.min() >= 0.0 and x.max() <= 1.0, name
        assert set(np.unique(y)) == set(range(10)), name
        assert not x.flags.writeable, "cached arrays must be read-only"
        total += len(y)
    assert total == 1797
    assert data.x_train.max() == 1.0  # 16/16: scaled from 0..16, not 0..255
    summary = json.loads(json.dumps(data.summary()))
    assert summary["splits"] == {"train": 1077, "val": 270, "test": 270, "holdout": 180}
    assert summary["input_shape"] == [8, 8, 1] and summary["num_classes"] == 10


def test_digits_splits_partition_the_pool_and_are_stratified() -> None:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    pool_x = bunch.images.astype(np.float32)[..., None] / np.float32(16)
    pool = Counter((row.tobytes(), int(lab)) for row, lab in zip(pool_x, bunch.target, strict=True))
    data = load_dataset("digits", seed=3)
    seen: Counter[tuple[bytes, int]] = Counter()
    for x, y in _splits(data).values():
        seen.update((row.tobytes(), int(lab)) for row, lab in zip(x, y, strict=True))
    assert seen == pool  # every sample lands in exactly one split, nothing invented or lost

    overall = np.bincount(bunch.target, minlength=10) / len(bunch.target)
    for name, (_, y) in _splits(data).items():
        share = np.bincount(y, minlength=10) / len(y)
        assert np.abs(share - overall).max() < 0.02, name


def test_split_indices_are_disjoint_and_cover_everything() -> None:
    labels = np.repeat(np.arange(5), [40, 30, 20, 7, 3])
    parts = split_indices(labels, seed=11)
    joined = np.concatenate([parts.train, parts.val, parts.test, parts.holdout])
    assert sorted(joined.tolist()) == list(range(len(labels)))
    assert parts.sizes() == {"train": 60, "val": 15, "test": 15, "holdout": 10}
    # A class with a single member cannot be stratified: falls back, still partitions.
    tiny = split_indices(np.array([0] * 19 + [1]), seed=0)
    assert sum(tiny.sizes().values()) == 20


def test_same_seed_identical_different_seed_different() -> None:
    first = load_dataset("digits", seed=7)
    clear_cache()
    again = load_dataset("digits", seed=7)
    assert again is not first  # recomputed, not served from the cache
    for (xa, ya), (xb, yb) in zip(_splits(first).values(), _splits(again).values(), strict=True):
        assert np.array_equal(xa, xb) and np.array_equal(ya, yb)
    other = load_dataset("digits", seed=8)
    assert not np.array_equal(first.x_val, other.x_val)
    assert not np.array_equal(first.y_train, other.y_train)
    assert load_dataset("digits", seed=7) is again  # per-process cache


def test_caps_are_applied_stratified_and_seeded() -> None:
    data = load_dataset("digits", seed=1, max_train_samples=100, max_eval_samples=40)
    assert data.summary()["splits"] == {"train": 100, "val": 40, "test": 40, "holdout": 40}
    counts = np.bincount(data.y_train, minlength=10)
    assert counts.min() >= 9 and counts.max() <= 11  # stratified, not the first 100 seen
    same = load_dataset("digits", seed=1, max_train_samples=100, max_eval_samples=40)
    assert np.array_equal(same.x_train, data.x_train)
    # A cap above the split size changes nothing.
    roomy = load_dataset("digits", seed=1, max_train_samples=10_000)
    assert len(roomy.y_train) == 1077 and len(roomy.y_val) == 270


@pytest.mark.parametrize("field", ["max_train_samples", "max_eval_samples"])
@pytest.mark.parametrize("bad", [0, -5, 2.5, True, "100"])
def test_caps_are_validated(field: str, bad: object) -> None:
    with pytest.raises(ConfigError) as info:
        load_dataset("digits", **{field: bad})  # type: ignore[arg-type]
    assert info.value.field == field


# -------------------------------------------------------------------------- MNIST


@pytest.mark.skipif(not MNIST_T10K.is_dir(), reason=f"shared MNIST test set absent: {MNIST_T10K}")
def test_mnist_from_shared_idx_files() -> None:
    data = load_dataset("mnist", data_dir=SHARED_DATA)
    sizes = data.summary()["splits"]
    assert sum(sizes.values()) == 10_000  # only t10k is present: it is the whole pool
    assert sizes == {"train": 6000, "val": 1500, "test": 1500, "holdout": 1000}
    assert data.input_shape == (28, 28, 1) and data.class_names == tuple("0123456789")
    labels = np.concatenate([y for _, y in _splits(data).values()])
    assert np.bincount(labels, minlength=10).tolist() == T10K_CLASS_COUNTS
    for x, _ in _splits(data).values():
        assert x.dtype == np.float32 and x.shape[1:] == (28, 28, 1)
        assert x.min() == 0.0 and x.max() == 1.0
    assert 0.1 < float(data.x_train.mean()) < 0.15  # MNIST's mean ink, ~0.13
    assert "mnist-t10k" in data.summary()["source"]


def _write_idx(path: Path, array: np.ndarray, code: int, *, gz: bool) -> None:
    header = bytes([0, 0, code, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape
    )
    payload = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    path.write_bytes(gzip.compress(payload) if gz else payload)


def test_idx_parser_reads_big_endian_and_rejects_bad_magic(tmp_path: Path) -> None:
    values = np.array([[1, -2, 300], [70000, 5, -6]], dtype=np.int32)
    _write_idx(tmp_path / "ints.idx", values, 0x0C, gz=True)
    parsed = read_idx(tmp_path / "ints.idx")
    assert parsed.shape == (2, 3) and parsed.tolist() == values.tolist()

    bad = tmp_path / "train-images-idx3-ubyte"
    bad.write_bytes(b"\x08\x03\x00\x00" + bytes(16))
    with pytest.raises(DatasetUnavailable, match="magic number 0x08030000"):
        read_idx(bad)
    short = tmp_path / "short"
    _write_idx(short, np.zeros((3, 2, 2), np.uint8), 0x08, gz=False)
    short.write_bytes(short.read_bytes()[:-1])
    with pytest.raises(DatasetUnavailable, match="promises"):
        read_idx(short)


def test_mnist_from_idx_subset_in_named_folder(tmp_path: Path) -> None:
    folder = tmp_path / "mnist_original"
    folder.mkdir()
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(40, 28, 28), dtype=np.uint8)
    labels = np.arange(40, dtype=np.uint8) % 10
    _write_idx(folder / "train-images-idx3-ubyte", images, 0x08, gz=False)
    _write_idx(folder / "train-labels-idx1-ubyte.gz", labels, 0x08, gz=True)
    data = load_dataset("mnist", data_dir=tmp_path)
    assert sum(data.summary()["splits"].values()) == 40
    pooled = {row.tobytes() for x, _ in _splits(data).values() for row in x}
    assert pooled == {(img.astype(np.float32)[..., None] / 255).tobytes() for img in images}


def test_mnist_from_generated_npz(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    x_train = rng.integers(0, 256, size=(30, 28, 28), dtype=np.uint8)
    x_test = rng.integers(0, 256, size=(20, 28, 28), dtype=np.uint8)
    x_train[0] = 51  # a sample whose scaled value is known: 51/255 = 0.2
    y_train, y_test = np.arange(30) % 10, np.arange(20) % 10
    np.savez(tmp_path / "mnist.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    data = load_dataset("mnist", data_dir=tmp_path)
    assert sum(data.summary()["splits"].values()) == 50
    flat = np.concatenate([x.reshape(len(x), -1) for x, _ in _splits(data).values()])
    assert np.isclose(flat, np.float32(0.2)).all(axis=1).sum() == 1
    assert data.summary()["source"] == str(tmp_path / "mnist.npz")


# -------------------------------------------------------------------------- CIFAR


def test_cifar10_from_generated_python_batches(tmp_path: Path) -> None:
    batch_dir = tmp_path / "cifar-10-batches-py"
    batch_dir.mkdir()
    names = [f"class{i}" for i in range(10)]

    def write_batch(fname: str, labels: list[int]) -> None:
        data = np.zeros((len(labels), 3072), dtype=np.uint8)
        for row, label in zip(data, labels, strict=True):
            row[:1024], row[1024:2048], row[2048:] = 20 * label, 100, 200  # R, G, B planes
        with (batch_dir / fname).open("wb") as fh:
            pickle.dump({b"data": data, b"labels": labels, b"batch_label": b"x"}, fh)

    write_batch("data_batch_1", list(range(10)) * 2)
    write_batch("data_batch_2", list(range(10)))
    write_batch("test_batch", list(range(10)))
    with (batch_dir / "batches.meta").open("wb") as fh:
        pickle.dump({b"label_names": [n.encode() for n in names]}, fh)

    data = load_dataset("cifar10", data_dir=tmp_path)
    assert data.class_names == tuple(names) and data.input_shape == (32, 32, 3)
    assert sum(data.summary()["splits"].values()) == 40
    for x, y in _splits(data).values():
        assert x.shape[1:] == (32, 32, 3) and x.dtype == np.float32
        # Channel planes land on the last axis: R carries the label, G and B are constant.
        assert np.allclose(x[..., 0], (20 * y / 255)[:, None, None])
        assert np.allclose(x[..., 1], 100 / 255) and np.allclose(x[..., 2], 200 / 255)


def test_cifar_batches_cannot_run_code(tmp_path: Path) -> None:
    batch_dir = tmp_path / "cifar-10-batches-py"
    batch_dir.mkdir()
    evil = b"cos\nsystem\n(S'touch " + str(tmp_path / "pwned").encode() + b"'\ntR."
    (batch_dir / "test_batch").write_bytes(evil)
    with pytest.raises(DatasetUnavailable, match="refusing"):
        load_dataset("cifar10", data_dir=tmp_path)
    assert not (tmp_path / "pwned").exists()


# -------------------------------------------------------------------------- GTSRB

COLOURS = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]


def _sign(path: Path, class_id: int) -> tuple[int, int, int, int]:
    """A 40x36 image: the class colour inside its ROI, grey outside; returns the ROI."""
    img = Image.new("RGB", (40, 36), (128, 128, 128))
    roi = (5, 4, 34, 31)
    img.paste(COLOURS[class_id], (roi[0], roi[1], roi[2] + 1, roi[3] + 1))
    img.save(path)
    return roi


def _make_gtsrb_official(root: Path) -> None:
    for class_id in range(3):
        folder = root / "Final_Training" / "Images" / f"{class_id:05d}"
        folder.mkdir(parents=True)
        rows = []
        for i in range(4):
            name = f"00000_{i:05d}.ppm"
            rows.append([name, 40, 36, *_sign(folder / name, class_id), class_id])
        with (folder / f"GT-{class_id:05d}.csv").open("w", newline="") as fh:
            writer = csv.writer(fh, delimiter=";")
            writer.writerow(["Filename", "Width", "Height", "Roi.X1", "Roi.Y1", "Roi.X2",
                             "Roi.Y2", "ClassId"])
            writer.writerows(rows)
    test_dir = root / "Final_Test" / "Images"
    test_dir.mkdir(parents=True)
    rows = [[f"{i:05d}.ppm", 40, 36, *_sign(test_dir / f"{i:05d}.ppm", i), i] for i in range(3)]
    with (root / "GT-final_test.csv").open("w", newline="") as fh:
        writer = csv.writer(fh, delimiter=";")
        writer.writerow(["Filename", "Width", "Height", "Roi.X1", "Roi.Y1", "Roi.X2", "Roi.Y2",
                         "ClassId"])
        writer.writerows(rows)


def _make_gtsrb_kaggle(root: Path) -> None:
    for class_id in range(3):
        folder = root / "Train" / str(class_id)
        folder.mkdir(parents=True)
        for i in range(4):
            _sign(folder / f"{class_id:05d}_{i:05d}.png", class_id)
    with (root / "Train.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["Width", "Height", "Roi.X1", "Roi.Y1", "Roi.X2", "Roi.Y2", "ClassId",
                         "Path"])
        for path in sorted((root / "Train").rglob("*.png")):
            writer.writerow([40, 36, 5, 4, 34, 31, path.parent.name,
                             path.relative_to(root).as_posix()])
    (root / "Test").mkdir()
    with (root / "Test.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["Width", "Height", "Roi.X1", "Roi.Y1", "Roi.X2", "Roi.Y2", "ClassId",
                         "Path"])
        for i in range(3):
            roi = _sign(root / "Test" / f"{i:05d}.png", i)
            writer.writerow([40, 36, *roi, i, f"Test/{i:05d}.png"])


@pytest.mark.parametrize(
    ("folder", "make"), [("GTSRB", _make_gtsrb_official), ("gtsrb", _make_gtsrb_kaggle)]
)
def test_gtsrb_published_layouts(
    tmp_path: Path, folder: str, make: Callable[[Path], None]
) -> None:
    make(tmp_path / folder)
    data = load_dataset("gtsrb", data_dir=tmp_path)
    assert data.num_classes == 43 and len(data.class_names) == 43
    assert data.class_names[14] == "Stop"
    labels = np.concatenate([y for _, y in _splits(data).values()])
    assert np.bincount(labels).tolist() == [5, 5, 5]  # 4 training + 1 test image per class
    for x, y in _splits(data).values():
        assert x.shape[1:] == (32, 32, 3) and x.dtype == np.float32
        for img, label in zip(x, y, strict=True):
            # Cropped to the ROI: the whole 32x32 image is the class colour, no grey border.
            assert np.allclose(img, np.array(COLOURS[label]) / 255, atol=1e-6)


def test_image_folder_source(tmp_path: Path) -> None:
    for cls, colour in (("cats", (200, 10, 10)), ("dogs", (10, 10, 200))):
        (tmp_path / cls).mkdir()
        for i in range(5):
            Image.new("RGB", (20 + i, 50), colour).save(tmp_path / cls / f"{i}.jpg", quality=100)
    (tmp_path / "empty").mkdir()  # no images: not a class
    spec = get_spec(f"images:{tmp_path}")
    assert (spec.modality, spec.num_classes, spec.input_shape) == ("image", 2, (32, 32, 3))
    data = load_dataset(f"images:{tmp_path}")
    assert data.class_names == ("cats", "dogs")
    x = np.concatenate([x for x, _ in _splits(data).values()])
    y = np.concatenate([y for _, y in _splits(data).values()])
    assert x.shape == (10, 32, 32, 3)
    assert (x[y == 0][..., 0] > 0.7).all() and (x[y == 1][..., 2] > 0.7).all()


# --------------------------------------------------------------------------- text


@pytest.mark.skipif(not SMS_FILE.is_file(), reason=f"shared SMS Spam file absent: {SMS_FILE}")
def test_sms_spam_from_shared_file() -> None:
    data = load_dataset("sms_spam", data_dir=SHARED_DATA)
    assert data.modality == "text" and data.class_names == ("ham", "spam")  # header skipped
    labels = np.concatenate([y for _, y in _splits(data).values()])
    assert np.bincount(labels).tolist() == [4827, 747]
    assert data.vocab_size is not None and 1000 < data.vocab_size <= VOCAB_CAP
    for x, _ in _splits(data).values():
        assert x.dtype == np.int32 and x.shape[1:] == (SEQUENCE_LENGTHS["sms_spam"],)
        assert x.min() >= 0 and x.max() < data.vocab_size
        _assert_trailing_padding(x)
    assert (data.x_train[:, -1] == 0).mean() > 0.9  # most SMS are shorter than 64 tokens
    # The vocabulary (far under the cap) was learned on train only: train has no OOV id,
    # while words seen only in val/test/holdout map to OOV (1).
    assert not (data.x_train == 1).any()
    assert (data.x_test == 1).any() and (data.x_val == 1).any() and (data.x_holdout == 1).any()


def test_tsv_custom_file(tmp_path: Path) -> None:
    path = tmp_path / "reviews.tsv"
    lines = ["label\ttext"]
    words = {"1": "bad awful", "2": "fine okay", "10": "great superb"}
    for i in range(60):
        label = ["1", "2", "10"][i % 3]
        lines.append(f"{label}\t{words[label]} common filler number{i % 7}")
    rare = ["zebra", "okapi", "tapir", "quokka", "axolotl", "narwhal", "gecko", "lemur"]
    lines += [f"2\t{word} {word} {word}" for word in rare]  # each word in one message only
    lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")

    spec = get_spec(f"tsv:{path}")
    assert (spec.modality, spec.num_classes, spec.input_shape) == ("text", 3, (64,))
    data = load_dataset(f"tsv:{path}", seed=2)
    assert data.class_names == ("1", "2", "10")  # numeric labels sort numerically
    assert sum(data.summary()["splits"].values()) == 68
    rare_rows = [
        (name, row) for name, (x, _) in _splits(data).items() for row in x
        if row[0] == row[1] == row[2] != 0 and row[3] == 0
    ]
    assert len(rare_rows) == len(rare)
    # A rare word is in the vocabulary only if its message was in the training split.
    for split_name, row in rare_rows:
        assert (row[0] == 1) == (split_name != "train"), split_name
    assert data.token_ids == VECTORIZER_IDS and VECTORIZER_IDS.oov == 1  # as seen just above
    assert {name for name, _ in rare_rows} - {"train"}, "no rare word left train: weak test"
    for x, _ in _splits(data).values():
        _assert_trailing_padding(x)


def test_tsv_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tsv"
    bad.write_text("spam\thello\nno tab on this line\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.tsv:2") as info:
        get_spec(f"tsv:{bad}")
    assert info.value.field == "dataset"
    one = tmp_path / "one.tsv"
    one.write_text("a\tx\na\ty\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="at least 2 distinct labels"):
        load_dataset(f"tsv:{one}")
    with pytest.raises(DatasetUnavailable, match="no file"):
        load_dataset(f"tsv:{tmp_path / 'missing.tsv'}")
    with pytest.raises(ConfigError):
        get_spec("tsv:")


def test_imdb_from_generated_npz_follows_keras_semantics(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)

    def sequences(start: int, count: int) -> np.ndarray:
        out = np.empty(count, dtype=object)
        for i in range(count):
            length = 250 if i == 0 else int(rng.integers(5, 40))
            # First rank is a marker to find the row again; the rest includes ranks
            # on both sides of the num_words cap (19996 + 3 = 19999 kept, 19997 -> OOV).
            body = rng.choice([4, 10, 500, 19996, 19997, 25000], size=length - 1).tolist()
            out[i] = [100 + start + i, *body]
        return out

    x_train, x_test = sequences(0, 30), sequences(30, 20)
    y_train, y_test = np.arange(30) % 2, np.arange(20) % 2
    np.savez(tmp_path / "imdb.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    raw = {100 + i: seq for i, seq in enumerate([*x_train, *x_test])}

    data = load_dataset("imdb", data_dir=tmp_path)
    assert data.class_names == ("negative", "positive") and data.vocab_size == VOCAB_CAP
    assert data.token_ids == KERAS_IDS == TokenIds(oov=2, first_word=3)  # as expected below
    assert sum(data.summary()["splits"].values()) == 50
    for x, y in _splits(data).values():
        assert x.dtype == np.int32 and x.shape[1:] == (200,)
        for row, label in zip(x, y, strict=True):
            seq = raw[int(row[1]) - 3]
            expected = [1] + [w + 3 if w + 3 < VOCAB_CAP else 2 for w in seq]
            expected = (expected + [0] * 200)[:200]  # padded / truncated at the end
            assert row.tolist() == expected
            assert label == (int(row[1]) - 3 - 100) % 2


# ---------------------------------------------------------------------- failures


def test_missing_dataset_with_downloads_disabled_says_what_to_do(tmp_path: Path) -> None:
    empty = tmp_path / "data"
    empty.mkdir()
    with pytest.raises(DatasetUnavailable) as info:
        load_dataset("mnist", data_dir=empty)
    message = str(info.value)
    keras_cache = Path(os.environ["KERAS_HOME"]).resolve() / "datasets"
    assert "'mnist'" in message
    assert f"{empty}/mnist," in message and f"{empty}/mnist-*" in message
    assert str(keras_cache) in message
    assert "downloads are disabled (ONEGIN_OFFLINE=1)" in message
    assert "train-images-idx3-ubyte.gz" in message and f"in {empty}/mnist/" in message
    assert message.count(". ") == 0  # one sentence

    with pytest.raises(DatasetUnavailable, match=r"'gtsrb'.*no download.*gtsrb/"):
        load_dataset("gtsrb", data_dir=empty, allow_download=True)


def test_unknown_dataset_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as info:
        load_dataset("mnsit")
    assert info.value.field == "dataset"
    assert "unknown dataset 'mnsit'" in str(info.value) and "fashion_mnist" in str(info.value)


def test_registry_lists_every_dataset() -> None:
    assert set(DATASETS) == {"mnist", "fashion_mnist", "cifar10", "cifar100", "gtsrb",
                             "imdb", "reuters", "digits", "sms_spam"}
    assert get_spec("cifar100").num_classes == 100 and get_spec("reuters").num_classes == 46
    assert get_spec("imdb").input_shape == (200,) and get_spec("gtsrb").input_shape == (32, 32, 3)
    assert all(spec.url.startswith("https://") for spec in DATASETS.values())


def test_package_import_does_not_load_tensorflow() -> None:
    code = "import sys, gpu_worker.datasets; print('tensorflow' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
