"""Text sources: ``label<TAB>text`` files (read by `onegin.dataset_files`) and token-id
sequences, turned into int32 ids.

Raw text is vectorized with Keras ``TextVectorization`` adapted on the training split
only, so no word seen only in validation/test/holdout leaks into the vocabulary.
Pre-tokenized corpora (IMDB, Reuters) follow the Keras loader conventions so models
and word indexes built for ``keras.datasets`` keep working.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

PAD_ID = 0
START_CHAR = 1
OOV_CHAR = 2
INDEX_FROM = 3
VECTORIZER_OOV = 1  # TextVectorization's "[UNK]"


@dataclass(frozen=True)
class TokenIds:
    """What the ids of a vectorized text mean: `PAD_ID` pads, ``oov`` is a word outside
    the vocabulary, and ids from ``first_word`` up are the vocabulary's words (ids
    between pad and ``first_word`` other than ``oov`` are markers, such as START_CHAR)."""

    oov: int
    first_word: int


KERAS_IDS = TokenIds(oov=OOV_CHAR, first_word=INDEX_FROM)  # keras.datasets sequences
VECTORIZER_IDS = TokenIds(oov=VECTORIZER_OOV, first_word=VECTORIZER_OOV + 1)  # raw text


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
