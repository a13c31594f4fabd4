"""Finding and reading the dataset files people already have, without any network.

Workers often run where downloads are blocked, so every dataset is first looked for
in the offline data directory and in Keras' own cache, in the layouts the files are
published in: IDX (MNIST), ``.npz`` Keras caches, CIFAR python batches, the GTSRB
archives, ``label<TAB>text`` files and class-subfolder image trees. Pickled files are
read with a restricted unpickler, so a tampered file cannot run code.
"""

from __future__ import annotations

import csv
import gzip
import io
import logging
import os
import pickle
import re
import struct
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from onegin.dataset_files import image_files, image_folder_classes
from onegin.errors import DatasetUnavailable

log = logging.getLogger(__name__)

# Folder name patterns searched under every root, in order ("." is the root itself).
SEARCH_PATTERNS: dict[str, tuple[str, ...]] = {
    "mnist": ("mnist", "mnist-*", "mnist_*", "."),
    "fashion_mnist": ("fashion_mnist", "fashion_mnist_*", "fashion-mnist*", "."),
    "cifar10": ("cifar10", "cifar-10-*", "."),
    "cifar100": ("cifar100", "cifar-100-*", "."),
    "imdb": ("imdb", "."),
    "reuters": ("reuters", "."),
    "gtsrb": ("gtsrb", "GTSRB", "gtsrb-*", "gtsrb_*", "GTSRB-*", "GTSRB_*"),
    "sms_spam": ("sms-spam", "sms_spam", "."),
}

NPZ_NAMES: dict[str, tuple[str, ...]] = {
    "mnist": ("mnist.npz",),
    "fashion_mnist": ("fashion_mnist.npz", "fashion-mnist.npz"),
    "imdb": ("imdb.npz",),
    "reuters": ("reuters.npz",),
}

SMS_FILE_NAMES = ("SMSSpamCollection", "SMSSpamCollection.txt", "SMSSpamCollection.tsv")

# ---------------------------------------------------------------------------- where


def keras_cache_dir() -> Path:
    """Keras' download cache (``$KERAS_HOME/datasets`` or ``~/.keras/datasets``)."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home).resolve() / "datasets"


def resolve_data_dir(data_dir: str | os.PathLike[str] | None) -> Path | None:
    """The offline data directory: the argument, else ``$ONEGIN_DATA_DIR``; absolute."""
    chosen = data_dir if data_dir is not None else os.environ.get("ONEGIN_DATA_DIR") or None
    if chosen is None or str(chosen) == "":
        return None
    return Path(chosen).expanduser().resolve()


def search_roots(data_dir: Path | None, keras_dir: Path | None = None) -> list[Path]:
    """Roots searched in order: the offline data directory, then Keras' cache."""
    roots = [data_dir] if data_dir is not None else []
    cache = keras_dir if keras_dir is not None else keras_cache_dir()
    if cache not in roots:
        roots.append(cache)
    return roots


def candidate_dirs(name: str, roots: Sequence[Path]) -> Iterator[Path]:
    """Existing folders that may hold ``name``, in search order, each once."""
    seen: set[Path] = set()
    for root in roots:
        if not root.is_dir():
            continue
        for pattern in SEARCH_PATTERNS[name]:
            if pattern == ".":
                matches = [root]
            elif any(ch in pattern for ch in "*?["):
                matches = sorted(p for p in root.glob(pattern) if p.is_dir())
            else:
                matches = [root / pattern] if (root / pattern).is_dir() else []
            for path in matches:
                key = path.resolve()
                if key not in seen:
                    seen.add(key)
                    yield path


def describe_places(name: str, roots: Sequence[Path]) -> list[str]:
    """Human-readable list of the places searched for ``name`` (for error messages)."""
    places = []
    for root in roots:
        for pattern in SEARCH_PATTERNS[name]:
            places.append(str(root) if pattern == "." else f"{root}/{pattern}")
    return places


# ---------------------------------------------------------------------- safe unpickle

_ALLOWED_GLOBALS = frozenset({
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
})


class _RestrictedUnpickler(pickle.Unpickler):
    """Unpickles plain containers and numpy arrays, nothing that can execute code."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a dataset file")


def safe_unpickle(data: bytes | io.BufferedIOBase, *, encoding: str = "ASCII") -> Any:
    stream = io.BytesIO(data) if isinstance(data, bytes) else data
    return _RestrictedUnpickler(stream, encoding=encoding).load()


def load_npz(path: Path) -> dict[str, np.ndarray]:
    """Read every array of an ``.npz``; object arrays (ragged sequences) via safe unpickle."""
    arrays: dict[str, np.ndarray] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                if not member.endswith(".npy"):
                    continue
                buffer = io.BytesIO(archive.read(member))
                try:
                    arrays[member[:-4]] = np.lib.format.read_array(buffer, allow_pickle=False)
                except ValueError:
                    buffer.seek(0)
                    version = np.lib.format.read_magic(buffer)
                    if version[0] == 1:
                        np.lib.format.read_array_header_1_0(buffer)
                    else:
                        np.lib.format.read_array_header_2_0(buffer)
                    arrays[member[:-4]] = np.asarray(safe_unpickle(buffer))
    except (OSError, zipfile.BadZipFile, pickle.UnpicklingError, ValueError, EOFError) as exc:
        raise DatasetUnavailable(f"Cannot read {path}: {exc}.") from exc
    return arrays


def find_npz(name: str, roots: Sequence[Path]) -> Path | None:
    for folder in candidate_dirs(name, roots):
        for fname in NPZ_NAMES[name]:
            if (folder / fname).is_file():
                return folder / fname
    return None


# --------------------------------------------------------------------------- IDX

_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_IDX_NAME = re.compile(r"^(train|t10k)-(images|labels)[.-]idx([13])-ubyte(\.gz)?$", re.IGNORECASE)


def read_idx(path: str | Path) -> np.ndarray:
    """Parse an IDX file (optionally gzipped): 2 zero bytes, type code, ndim, big-endian dims."""
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise DatasetUnavailable(f"{path} is a damaged gzip file: {exc}.") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        magic = raw[:4].hex() or "empty"
        raise DatasetUnavailable(
            f"{path} is not an IDX file: magic number 0x{magic} (expected 0x0000TTNN with "
            f"type TT in 08/09/0b/0c/0d/0e and NN dimensions)."
        )
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DatasetUnavailable(f"{path} is truncated inside its IDX header.")
    dims = struct.unpack(f">{ndim}I", raw[4:header])
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        raise DatasetUnavailable(
            f"{path} holds {len(raw) - header} data bytes, but its IDX header {dims} "
            f"promises {expected}."
        )
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims)
    return data.astype(dtype.newbyteorder("="))


def read_idx_folder(folder: Path) -> tuple[np.ndarray, np.ndarray] | None:
    """Read every complete (images, labels) IDX pair in ``folder``: train first, then t10k."""
    found: dict[tuple[str, str], Path] = {}
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        match = _IDX_NAME.match(path.name)
        if match and path.is_file():
            found.setdefault((match.group(1).lower(), match.group(2).lower()), path)
    xs, ys = [], []
    for part in ("train", "t10k"):
        if (part, "images") not in found or (part, "labels") not in found:
            continue
        images = read_idx(found[part, "images"])
        labels = read_idx(found[part, "labels"])
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise DatasetUnavailable(
                f"{found[part, 'images']} ({images.shape}) and {found[part, 'labels']} "
                f"({labels.shape}) do not form an image/label pair."
            )
        xs.append(images)
        ys.append(labels)
    if not xs:
        return None
    return np.concatenate(xs), np.concatenate(ys).astype(np.int64)


def find_mnist_like(name: str, roots: Sequence[Path]) -> tuple[np.ndarray, np.ndarray, str] | None:
    """MNIST / Fashion-MNIST as uint8 (N, 28, 28) + labels, from an .npz or IDX files."""
    for folder in candidate_dirs(name, roots):
        for fname in NPZ_NAMES[name]:
            if (folder / fname).is_file():
                arrays = load_npz(folder / fname)
                parts = [k for k in ("train", "test") if f"x_{k}" in arrays and f"y_{k}" in arrays]
                if not parts:
                    raise DatasetUnavailable(
                        f"{folder / fname} lacks the arrays x_train/y_train/x_test/y_test."
                    )
                x = np.concatenate([arrays[f"x_{k}"] for k in parts])
                y = np.concatenate([arrays[f"y_{k}"] for k in parts]).astype(np.int64)
                return x, y, str(folder / fname)
        # IDX files in the root itself would be ambiguous between MNIST and Fashion-MNIST.
        if folder in roots:
            continue
        pair = read_idx_folder(folder)
        if pair is not None:
            return pair[0], pair[1], str(folder)
    return None


# ------------------------------------------------------------------------- CIFAR


def _unpickle_file(path: Path) -> dict[bytes, Any]:
    try:
        with path.open("rb") as fh:
            result = safe_unpickle(fh.read(), encoding="bytes")
    except (OSError, pickle.UnpicklingError, EOFError, ValueError) as exc:
        raise DatasetUnavailable(f"Cannot read CIFAR batch {path}: {exc}.") from exc
    if not isinstance(result, dict):
        raise DatasetUnavailable(f"{path} is not a CIFAR python batch (no dictionary inside).")
    return result


def _cifar_batch(path: Path, label_key: bytes) -> tuple[np.ndarray, np.ndarray]:
    batch = _unpickle_file(path)
    if b"data" not in batch or label_key not in batch:
        raise DatasetUnavailable(f"{path} lacks the keys b'data' and {label_key!r}.")
    data = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
    labels = np.asarray(batch[label_key], dtype=np.int64)
    if len(labels) != len(data):
        raise DatasetUnavailable(f"{path}: {len(data)} images but {len(labels)} labels.")
    return data.transpose(0, 2, 3, 1), labels


def find_cifar(
    name: str, roots: Sequence[Path]
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...] | None, str] | None:
    """CIFAR-10/100 python batches as uint8 NHWC + labels (+ label names from the meta file)."""
    if name == "cifar10":
        inner, files, meta, label_key, names_key = (
            "cifar-10-batches-py",
            [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"],
            "batches.meta",
            b"labels",
            b"label_names",
        )
    else:
        inner, files, meta, label_key, names_key = (
            "cifar-100-python", ["train", "test"], "meta", b"fine_labels", b"fine_label_names",
        )
    for folder in candidate_dirs(name, roots):
        for batch_dir in (folder / inner, folder):
            present = [batch_dir / f for f in files if (batch_dir / f).is_file()]
            # "train"/"test" alone are too generic a name for CIFAR-100 without its meta file.
            if not present or (name == "cifar100" and not (batch_dir / meta).is_file()):
                continue
            parts = [_cifar_batch(p, label_key) for p in present]
            x = np.concatenate([p[0] for p in parts])
            y = np.concatenate([p[1] for p in parts])
            names = None
            if (batch_dir / meta).is_file():
                raw_names = _unpickle_file(batch_dir / meta).get(names_key)
                if raw_names:
                    names = tuple(
                        n.decode() if isinstance(n, bytes) else str(n) for n in raw_names
                    )
            return x, y, names, str(batch_dir)
    return None


# ------------------------------------------------------------------------ images


def load_image(path: Path, size: int, box: tuple[int, int, int, int] | None = None) -> np.ndarray:
    """One image as uint8 (size, size, 3): RGB, optionally cropped to ``box``, resized."""
    from PIL import Image

    try:
        with Image.open(path) as img:
            rgb = img.convert("RGB")
    except OSError as exc:
        raise DatasetUnavailable(f"Cannot read image {path}: {exc}.") from exc
    if box is not None:
        x1, y1, x2, y2 = box
        if 0 <= x1 < x2 <= rgb.width and 0 <= y1 < y2 <= rgb.height:
            rgb = rgb.crop(box)
    rgb = rgb.resize((size, size), Image.Resampling.BILINEAR)
    return np.asarray(rgb, dtype=np.uint8)


def read_image_folder(root: Path, size: int) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Class-subfolder images as uint8 (N, size, size, 3), labels in sorted-folder order."""
    classes = image_folder_classes(root)
    xs: list[np.ndarray] = []
    ys: list[int] = []
    for label, cls in enumerate(classes):
        for path in image_files(root / cls):
            xs.append(load_image(path, size))
            ys.append(label)
    return np.stack(xs), np.asarray(ys, dtype=np.int64), classes


# ------------------------------------------------------------------------- GTSRB

_GTSRB_TRAIN_DIRS = (("Final_Training", "Images"), ("Training",), ("Train",), ("train",))
_GTSRB_TEST_CSVS = (
    ("GT-final_test.csv",),
    ("Final_Test", "GT-final_test.csv"),
    ("Final_Test", "Images", "GT-final_test.csv"),
    ("Test.csv",),
    ("test.csv",),
)


def _read_csv(path: Path) -> list[dict[str, str]]:
    """Rows of a GTSRB annotation CSV, sniffing ';' (official) or ',' (Kaggle)."""
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    header = text.splitlines()[0] if text else ""
    try:
        dialect: Any = csv.Sniffer().sniff(header, delimiters=";,")
    except csv.Error:
        dialect = "excel"
    return [
        {k.strip(): (v or "").strip() for k, v in row.items() if k}
        for row in csv.DictReader(io.StringIO(text), dialect=dialect)
    ]


def _roi(row: dict[str, str]) -> tuple[int, int, int, int] | None:
    try:
        x1, y1 = int(row["Roi.X1"]), int(row["Roi.Y1"])
        x2, y2 = int(row["Roi.X2"]), int(row["Roi.Y2"])
    except (KeyError, ValueError):
        return None
    return x1, y1, x2 + 1, y2 + 1


def _gtsrb_train(root: Path, size: int) -> tuple[list[np.ndarray], list[int]]:
    """Training images from class folders, cropped to the ROI their annotation CSV gives.

    ROIs come from the per-class ``GT-00000.csv`` (official) or ``Train.csv`` (Kaggle).
    """
    for parts in _GTSRB_TRAIN_DIRS:
        train_dir = root.joinpath(*parts)
        class_dirs = [p for p in train_dir.iterdir() if p.is_dir() and p.name.isdigit()] if (
            train_dir.is_dir()
        ) else []
        if not class_dirs:
            continue
        rois: dict[Path, tuple[int, int, int, int] | None] = {}
        for listing in (root / "Train.csv", root / "train.csv"):
            if listing.is_file():
                rois.update({root / r["Path"]: _roi(r) for r in _read_csv(listing) if "Path" in r})
        xs: list[np.ndarray] = []
        ys: list[int] = []
        for class_dir in sorted(class_dirs, key=lambda p: int(p.name)):
            for gt in class_dir.glob("GT-*.csv"):
                rois.update({class_dir / r.get("Filename", ""): _roi(r) for r in _read_csv(gt)})
            for path in image_files(class_dir):
                xs.append(load_image(path, size, rois.get(path)))
                ys.append(int(class_dir.name))
        return xs, ys
    return [], []


def _gtsrb_test(root: Path, size: int) -> tuple[list[np.ndarray], list[int]]:
    for parts in _GTSRB_TEST_CSVS:
        csv_path = root.joinpath(*parts)
        if not csv_path.is_file():
            continue
        rows = _read_csv(csv_path)
        if not rows or "ClassId" not in rows[0]:
            continue
        xs: list[np.ndarray] = []
        ys: list[int] = []
        missing = 0
        for row in rows:
            rel = row.get("Path") or row.get("Filename") or ""
            options = (csv_path.parent / rel, root / rel, root / "Final_Test" / "Images" / rel)
            path = next((p for p in options if rel and p.is_file()), None)
            if path is None:
                missing += 1
                continue
            xs.append(load_image(path, size, _roi(row)))
            ys.append(int(row["ClassId"]))
        if missing:
            log.warning("GTSRB: %d images listed in %s were not found", missing, csv_path)
        return xs, ys
    return [], []


def _gtsrb_roots(folder: Path) -> Iterable[Path]:
    yield folder
    yield from sorted(p for p in folder.iterdir() if p.is_dir())


def find_gtsrb(roots: Sequence[Path], size: int) -> tuple[np.ndarray, np.ndarray, str] | None:
    """GTSRB training class folders plus the labelled test CSV, as uint8 (N, size, size, 3)."""
    for folder in candidate_dirs("gtsrb", roots):
        for root in _gtsrb_roots(folder):
            train_x, train_y = _gtsrb_train(root, size)
            test_x, test_y = _gtsrb_test(root, size)
            if train_x or test_x:
                x = np.stack(train_x + test_x)
                y = np.asarray(train_y + test_y, dtype=np.int64)
                return x, y, str(root)
    return None


# ---------------------------------------------------------------------- SMS spam


def find_sms_spam(roots: Sequence[Path]) -> Path | None:
    for folder in candidate_dirs("sms_spam", roots):
        for fname in SMS_FILE_NAMES:
            if (folder / fname).is_file():
                return folder / fname
    return None
