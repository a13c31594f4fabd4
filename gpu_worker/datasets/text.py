"""Text sources: ``label<TAB>text`` files and token-id sequences, turned into int32 ids.

Raw text is vectorized with Keras ``TextVectorization`` adapted on the training split
only, so no word seen only in validation/test/holdout leaks into the vocabulary.
Pre-tokenized corpora (IMDB, Reuters) follow the Keras loader conventions so models
and word indexes built for ``keras.datasets`` keep working.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from onegin.errors import ConfigError, DatasetUnavailable

PAD_ID = 0
START_CHAR = 1
OOV_CHAR = 2
INDEX_FROM = 3

_HEADER_LABELS = frozenset({"label", "labels", "class", "category", "target", "v1", "y"})
_HEADER_TEXTS = frozenset({"text", "sms", "message", "sentence", "review", "document", "v2"})


def _sort_key(label: str) -> tuple[int, int | str]:
    """Sort integer-looking labels numerically ("2" before "10"), the rest by text."""
    try:
        return (0, int(label))
    except ValueError:
        return (1, label)


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
            if label.lower() in _HEADER_LABELS or text.strip().lower() in _HEADER_TEXTS:
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


def keras_sequences(
    sequences: Iterable[Sequence[int]],
    *,
    num_words: int,
    start_char: int = START_CHAR,
    oov_char: int = OOV_CHAR,
    index_from: int = INDEX_FROM,
) -> np.ndarray:
    """Apply ``keras.datasets.imdb.load_data`` semantics to raw word-rank sequences.

    Prepend ``start_char``, shift ranks by ``index_from`` and map every id at or
    above ``num_words`` to ``oov_char``. Returns an object array of int lists.
    """
    out = []
    for seq in sequences:
        ids = np.asarray(seq, dtype=np.int64) + index_from
        ids[ids >= num_words] = oov_char
        out.append([start_char, *ids.tolist()])
    result = np.empty(len(out), dtype=object)
    result[:] = out
    return result


def pad_sequences(sequences: Sequence[Sequence[int]], length: int) -> np.ndarray:
    """Pad with 0 / truncate at the end ('post') to an int32 matrix of ``length`` columns."""
    out = np.zeros((len(sequences), length), dtype=np.int32)
    for row, seq in enumerate(sequences):
        ids = np.asarray(seq, dtype=np.int32)[:length]
        out[row, : len(ids)] = ids
    return out


def sequence_vocab_size(sequences: Iterable[Sequence[int]], cap: int) -> int:
    """Embedding input size for id sequences: largest id + 1, at most ``cap``."""
    top = max((max(seq) for seq in sequences if len(seq)), default=OOV_CHAR)
    return int(min(cap, max(top, OOV_CHAR) + 1))


def vectorize_texts(
    train: Sequence[str],
    others: Sequence[Sequence[str]],
    *,
    sequence_length: int,
    max_tokens: int,
) -> tuple[np.ndarray, list[np.ndarray], int]:
    """Adapt a ``TextVectorization`` on ``train`` only and apply it to every split.

    Returns ``(x_train, [x_other, ...], vocab_size)``; ids are int32, 0 is padding,
    1 is out-of-vocabulary; sequences are padded/truncated at the end.
    """
    import keras  # lazy: TensorFlow costs seconds to import

    layer = keras.layers.TextVectorization(
        max_tokens=max_tokens,
        standardize="lower_and_strip_punctuation",
        split="whitespace",
        output_mode="int",
        output_sequence_length=sequence_length,
    )
    layer.adapt(np.asarray(list(train), dtype=object), batch_size=1024)

    def apply(texts: Sequence[str]) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros((0, sequence_length), dtype=np.int32)
        return np.asarray(layer(np.asarray(list(texts), dtype=object))).astype(np.int32)

    return apply(train), [apply(t) for t in others], int(layer.vocabulary_size())
