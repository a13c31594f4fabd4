"""What a custom dataset's files hold, read without TensorFlow: a ``label<TAB>text``
file's texts and labels, an image folder's classes.

The registry (`onegin.datasets`) counts a custom source's classes from these when a
job is checked, and the GPU worker reads the same files to train; both use these
readers so a file means the same thing on either side.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from onegin.errors import ConfigError, DatasetUnavailable

IMAGE_EXTENSIONS = frozenset(
    {".png", ".jpg", ".jpeg", ".ppm", ".pgm", ".bmp", ".gif", ".tif", ".tiff", ".webp"}
)

_HEADER_LABELS = frozenset({"label", "labels", "class", "category", "target", "v1", "y"})
_HEADER_TEXTS = frozenset({"text", "sms", "message", "sentence", "review", "document", "v2"})


def _sort_key(label: str) -> tuple[int, int | str]:
    """Sort integer-looking labels numerically ("2" before "10"), the rest by text."""
    try:
        return (0, int(label))
    except ValueError:
        return (1, label)


def looks_like_header(label: str, text: str) -> bool:
    """Whether a first line names its columns (``Label<TAB>SMS``) instead of holding data."""
    return label.strip().lower() in _HEADER_LABELS or text.strip().lower() in _HEADER_TEXTS


def read_labelled_text(path: str | Path) -> tuple[list[str], np.ndarray, tuple[str, ...]]:
    """Read a ``label<TAB>text`` file; return texts, int64 labels and sorted class names.

    A first line that looks like a column header (``Label\\tSMS``) is skipped, blank
    lines are ignored, and a line without a tab is an error naming its line number.
    """
    path = Path(path)
    try:
        content = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise DatasetUnavailable(f"Cannot read text file {path}: {exc.strerror or exc}.") from exc
    texts: list[str] = []
    raw_labels: list[str] = []
    first = True
    for lineno, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        label, sep, text = line.partition("\t")
        label = label.strip()
        if not sep or not label:
            raise ConfigError(
                "dataset", f"{path}:{lineno}: expected 'label<TAB>text', got {line[:60]!r}"
            )
        if first:
            first = False
            if looks_like_header(label, text):
                continue
        raw_labels.append(label)
        texts.append(text.strip())
    class_names = tuple(sorted(set(raw_labels), key=_sort_key))
    if len(class_names) < 2:
        raise ConfigError(
            "dataset", f"{path} needs at least 2 distinct labels, found {list(class_names)}"
        )
    index = {name: i for i, name in enumerate(class_names)}
    labels = np.fromiter((index[lab] for lab in raw_labels), dtype=np.int64, count=len(raw_labels))
    return texts, labels, class_names


def image_files(folder: Path) -> list[Path]:
    """The image files anywhere under ``folder``, sorted (the order labels follow)."""
    return sorted(
        p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file()
    )


def image_folder_classes(root: Path) -> tuple[str, ...]:
    """Class names of an ``images:`` folder: sorted subfolders that contain images."""
    classes = tuple(
        sorted(p.name for p in root.iterdir() if p.is_dir() and any(_iter_images(p)))
    )
    if len(classes) < 2:
        raise ConfigError(
            "dataset",
            f"{root} needs at least 2 class subfolders with images, found {list(classes)}",
        )
    return classes


def _iter_images(folder: Path) -> Iterator[Path]:
    return (p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS)
