"""``load_dataset``: find a dataset (offline first, then Keras download), split, preprocess.

Each source returns a raw *pool* (everything it provides, compact dtypes); one path
then splits it, caps it and converts it, so every dataset gets the same split rule and
text vocabularies are learned from the training split alone. Results are cached per
process because a worker trains many trials on one dataset.
"""

from __future__ import annotations

import functools
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from gpu_worker.datasets import offline, splits, text
from onegin.dataset_files import read_labelled_text
from onegin.datasets import (
    IMAGE_SIZE,
    VOCAB_CAP,
    DatasetSpec,
    custom_path,
    get_spec,
)
from onegin.errors import DatasetUnavailable
from onegin.hopeless import chance_level
from onegin.search_space import Modality

DOWNLOAD_SOCKET_TIMEOUT_S = 60.0
"""A stalled download socket fails after this long instead of hanging the worker."""

_DOWNLOAD_LOCK = threading.Lock()

DIGIT_NAMES = tuple(str(i) for i in range(10))
FASHION_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
CIFAR10_NAMES = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)
CIFAR100_NAMES = (
    "apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle", "bicycle",
    "bottle", "bowl", "boy", "bridge", "bus", "butterfly", "camel", "can", "castle",
    "caterpillar", "cattle", "chair", "chimpanzee", "clock", "cloud", "cockroach", "couch",
    "crab", "crocodile", "cup", "dinosaur", "dolphin", "elephant", "flatfish", "forest",
    "fox", "girl", "hamster", "house", "kangaroo", "keyboard", "lamp", "lawn_mower",
    "leopard", "lion", "lizard", "lobster", "man", "maple_tree", "motorcycle", "mountain",
    "mouse", "mushroom", "oak_tree", "orange", "orchid", "otter", "palm_tree", "pear",
    "pickup_truck", "pine_tree", "plain", "plate", "poppy", "porcupine", "possum", "rabbit",
    "raccoon", "ray", "road", "rocket", "rose", "sea", "seal", "shark", "shrew", "skunk",
    "skyscraper", "snail", "snake", "spider", "squirrel", "streetcar", "sunflower",
    "sweet_pepper", "table", "tank", "telephone", "television", "tiger", "tractor", "train",
    "trout", "tulip", "turtle", "wardrobe", "whale", "willow_tree", "wolf", "woman", "worm",
)
GTSRB_NAMES = (
    "Speed limit (20km/h)", "Speed limit (30km/h)", "Speed limit (50km/h)",
    "Speed limit (60km/h)", "Speed limit (70km/h)", "Speed limit (80km/h)",
    "End of speed limit (80km/h)", "Speed limit (100km/h)", "Speed limit (120km/h)",
    "No passing", "No passing for vehicles over 3.5 metric tons",
    "Right-of-way at the next intersection", "Priority road", "Yield", "Stop",
    "No vehicles", "Vehicles over 3.5 metric tons prohibited", "No entry", "General caution",
    "Dangerous curve to the left", "Dangerous curve to the right", "Double curve",
    "Bumpy road", "Slippery road", "Road narrows on the right", "Road work",
    "Traffic signals", "Pedestrians", "Children crossing", "Bicycles crossing",
    "Beware of ice/snow", "Wild animals crossing", "End of all speed and passing limits",
    "Turn right ahead", "Turn left ahead", "Ahead only", "Go straight or right",
    "Go straight or left", "Keep right", "Keep left", "Roundabout mandatory",
    "End of no passing", "End of no passing by vehicles over 3.5 metric tons",
)
IMDB_NAMES = ("negative", "positive")
REUTERS_NAMES = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing", "money-supply",
    "coffee", "sugar", "trade", "reserves", "ship", "cotton", "carcass", "crude", "nat-gas",
    "cpi", "money-fx", "interest", "gnp", "meal-feed", "alum", "oilseed", "gold", "tin",
    "strategic-metal", "livestock", "retail", "ipi", "iron-steel", "rubber", "heat", "jobs",
    "lei", "bop", "zinc", "orange", "pet-chem", "dlr", "gas", "silver", "wpi", "hog", "lead",
)

# What to put where, per dataset, for the "not found" message ({dir} = the data dir).
PUT_HINTS: dict[str, str] = {
    "mnist": "put mnist.npz or the IDX files train-images-idx3-ubyte.gz, "
             "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and "
             "t10k-labels-idx1-ubyte.gz in {dir}/mnist/",
    "fashion_mnist": "put the Fashion-MNIST IDX files train-images-idx3-ubyte.gz, "
                     "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and "
                     "t10k-labels-idx1-ubyte.gz (or fashion_mnist.npz) in {dir}/fashion_mnist/",
    "cifar10": "extract cifar-10-python.tar.gz so that {dir}/cifar-10-batches-py/ holds "
               "data_batch_1..data_batch_5, test_batch and batches.meta",
    "cifar100": "extract cifar-100-python.tar.gz so that {dir}/cifar-100-python/ holds "
                "train, test and meta",
    "imdb": "put Keras' imdb.npz in {dir}/ or {dir}/imdb/",
    "reuters": "put Keras' reuters.npz in {dir}/ or {dir}/reuters/",
    "gtsrb": "extract the GTSRB archives into {dir}/gtsrb/ (Final_Training/Images/00000/... "
             "plus GT-final_test.csv and Final_Test/Images/, or Kaggle's Train/0/... plus "
             "Test.csv and Test/)",
    "sms_spam": "put the file SMSSpamCollection (label<TAB>text lines) in {dir}/sms-spam/",
}

PoolKind = Literal["images", "sequences", "texts"]


@dataclass
class RawPool:
    """Everything a source provides, before splitting: compact, not yet model-ready."""

    x: np.ndarray            # images: uint8/float NHWC; sequences/texts: object array
    y: np.ndarray            # int64 labels
    class_names: tuple[str, ...]
    kind: PoolKind
    source: str              # where it came from (path or "keras download")
    max_value: float = 255.0  # images: divide by this to reach [0, 1]


@dataclass(frozen=True)
class PreparedData:
    """Model-ready splits of one dataset; arrays are read-only because they are cached."""

    spec: DatasetSpec
    class_names: tuple[str, ...]
    vocab_size: int | None
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    x_holdout: np.ndarray
    y_holdout: np.ndarray
    source: str = field(default="", compare=False)
    token_ids: text.TokenIds | None = None  # text only: which ids are words, OOV, padding

    @property
    def num_classes(self) -> int:
        return self.spec.num_classes

    @property
    def input_shape(self) -> tuple[int, ...]:
        return self.spec.input_shape

    @property
    def modality(self) -> Modality:
        return self.spec.modality

    def summary(self) -> dict[str, Any]:
        """JSON-friendly description: split sizes, classes, shape, vocabulary, source."""
        return {
            "dataset": self.spec.name,
            "title": self.spec.title,
            "modality": self.modality,
            "num_classes": self.num_classes,
            "class_names": list(self.class_names),
            "input_shape": list(self.input_shape),
            "vocab_size": self.vocab_size,
            # what always answering the commonest class scores: a model at it learned nothing
            "chance": chance_level(self.y_val) if len(self.y_val) else None,
            "splits": {
                "train": len(self.y_train),
                "val": len(self.y_val),
                "test": len(self.y_test),
                "holdout": len(self.y_holdout),
            },
            "source": self.source,
        }


# ----------------------------------------------------------------------- sources


@dataclass(frozen=True)
class _Context:
    data_dir: Path | None
    keras_dir: Path
    allow_download: bool

    @property
    def roots(self) -> list[Path]:
        return offline.search_roots(self.data_dir, self.keras_dir)


def _downloads_allowed(allow_download: bool | None) -> bool:
    if allow_download is not None:
        return bool(allow_download)
    return os.environ.get("ONEGIN_OFFLINE", "").strip().lower() not in {"1", "true", "yes", "on"}


def _unavailable(name: str, ctx: _Context, reason: str) -> DatasetUnavailable:
    """One sentence: which dataset, where we looked, why no download, what to put where."""
    places = ", ".join(offline.describe_places(name, ctx.roots))
    target = str(ctx.data_dir) if ctx.data_dir is not None else "$ONEGIN_DATA_DIR"
    hint = PUT_HINTS[name].format(dir=target)
    return DatasetUnavailable(
        f"Dataset '{name}' is unavailable: it was not found offline (looked in {places}) "
        f"and {reason}; {hint}."
    )


def _download(name: str, ctx: _Context, fetch: Callable[[Any], Any]) -> Any:
    """Run a Keras loader (``fetch(keras.datasets)``); any failure becomes DatasetUnavailable.

    Keras' ``get_file`` opens sockets without a timeout, so a silently dropped
    connection would hang the worker; a default socket timeout bounds each stall.
    """
    if not ctx.allow_download:
        raise _unavailable(name, ctx, "downloads are disabled (ONEGIN_OFFLINE=1)")
    with _DOWNLOAD_LOCK:
        previous = socket.getdefaulttimeout()
        if previous is None:
            socket.setdefaulttimeout(DOWNLOAD_SOCKET_TIMEOUT_S)
        try:
            import keras

            return fetch(keras.datasets)
        except Exception as exc:  # any failure: network, hash, extraction, disk
            message = " ".join(str(exc).split()) or type(exc).__name__
            raise _unavailable(name, ctx, f"the Keras download failed ({message})") from exc
        finally:
            if previous is None:
                socket.setdefaulttimeout(None)


def _keras_load_data(name: str) -> Callable[[Any], Any]:
    return lambda datasets: getattr(datasets, name).load_data()


def _pool_from_keras_split(result: Any) -> tuple[np.ndarray, np.ndarray]:
    (x_train, y_train), (x_test, y_test) = result
    x = np.concatenate([np.asarray(x_train), np.asarray(x_test)])
    y = np.concatenate([np.asarray(y_train).reshape(-1), np.asarray(y_test).reshape(-1)])
    return x, y.astype(np.int64)


def _load_digits(ctx: _Context) -> RawPool:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = np.asarray(bunch.images, dtype=np.float32)[..., None]
    y = np.asarray(bunch.target, dtype=np.int64)
    return RawPool(x, y, DIGIT_NAMES, "images", "sklearn.datasets.load_digits", 16.0)


def _mnist_like(name: str, names: tuple[str, ...]) -> Callable[[_Context], RawPool]:
    def load(ctx: _Context) -> RawPool:
        found = offline.find_mnist_like(name, ctx.roots)
        if found is not None:
            x, y, source = found
        else:
            x, y = _pool_from_keras_split(_download(name, ctx, _keras_load_data(name)))
            source = "keras download"
        if x.shape[1:] != (28, 28):
            raise DatasetUnavailable(f"{source}: expected 28x28 images, got {x.shape[1:]}.")
        return RawPool(x[..., None], y, names, "images", source)

    return load


def _cifar(name: str, default_names: tuple[str, ...]) -> Callable[[_Context], RawPool]:
    def load(ctx: _Context) -> RawPool:
        found = offline.find_cifar(name, ctx.roots)
        if found is not None:
            x, y, names, source = found
        else:
            x, y = _pool_from_keras_split(_download(name, ctx, _keras_load_data(name)))
            names, source = None, "keras download"
        return RawPool(x, y, names or default_names, "images", source)

    return load


def _token_corpus(name: str, names: tuple[str, ...]) -> Callable[[_Context], RawPool]:
    def load(ctx: _Context) -> RawPool:
        path = offline.find_npz(name, ctx.roots)
        if path is not None:
            arrays = offline.load_npz(path)
            if "x" in arrays and "y" in arrays:  # reuters.npz keeps one pool
                raw_x, y = arrays["x"], arrays["y"]
            elif all(k in arrays for k in ("x_train", "y_train", "x_test", "y_test")):
                raw_x = np.concatenate([arrays["x_train"], arrays["x_test"]])
                y = np.concatenate([arrays["y_train"], arrays["y_test"]])
            else:
                raise DatasetUnavailable(f"{path} lacks the arrays x/y or x_train/y_train/...")
            x = text.keras_sequences(raw_x, num_words=VOCAB_CAP)
            source = str(path)
        else:  # Keras applies the same start/oov/index_from semantics itself.
            def fetch(ds: Any) -> Any:
                return getattr(ds, name).load_data(num_words=VOCAB_CAP)

            x, y = _pool_from_keras_split(_download(name, ctx, fetch))
            source = "keras download"
        return RawPool(x, np.asarray(y, dtype=np.int64), names, "sequences", source)

    return load


def _load_gtsrb(ctx: _Context) -> RawPool:
    found = offline.find_gtsrb(ctx.roots, IMAGE_SIZE)
    if found is None:
        raise _unavailable("gtsrb", ctx, "it has no download (fetch it from its home page)")
    x, y, source = found
    if y.min() < 0 or y.max() >= len(GTSRB_NAMES):
        raise DatasetUnavailable(f"{source}: GTSRB class ids must be 0..42, got {y.max()}.")
    return RawPool(x, y, GTSRB_NAMES, "images", source)


def _load_sms_spam(ctx: _Context) -> RawPool:
    path = offline.find_sms_spam(ctx.roots)
    if path is None:
        raise _unavailable("sms_spam", ctx, "it has no Keras download (fetch it from UCI)")
    texts, y, names = read_labelled_text(path)
    return RawPool(_object_array(texts), y, names, "texts", str(path))


def _object_array(items: list[str]) -> np.ndarray:
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


SOURCES: dict[str, Callable[[_Context], RawPool]] = {
    "digits": _load_digits,
    "mnist": _mnist_like("mnist", DIGIT_NAMES),
    "fashion_mnist": _mnist_like("fashion_mnist", FASHION_NAMES),
    "cifar10": _cifar("cifar10", CIFAR10_NAMES),
    "cifar100": _cifar("cifar100", CIFAR100_NAMES),
    "gtsrb": _load_gtsrb,
    "imdb": _token_corpus("imdb", IMDB_NAMES),
    "reuters": _token_corpus("reuters", REUTERS_NAMES),
    "sms_spam": _load_sms_spam,
}


def _load_pool(spec: DatasetSpec, ctx: _Context) -> RawPool:
    kind, _, rest = spec.name.partition(":")
    if kind == "tsv":
        texts, y, names = read_labelled_text(custom_path("tsv", rest))
        return RawPool(_object_array(texts), y, names, "texts", rest)
    if kind == "images":
        x, y, names = offline.read_image_folder(custom_path("images", rest), IMAGE_SIZE)
        return RawPool(x, y, names, "images", rest)
    if kind == "upload":
        return _load_upload(rest)
    return SOURCES[spec.name](ctx)


def _load_upload(upload_id: str) -> RawPool:
    """An uploaded dataset, fetched from the artifact store into this machine's cache."""
    from gpu_worker.datasets.uploads import fetch_upload
    from onegin.services import get_services

    services = get_services()
    local = fetch_upload(services.artifacts, upload_id, services.settings.upload_cache_dir)
    if local.is_file():
        texts, y, names = read_labelled_text(local)
        return RawPool(_object_array(texts), y, names, "texts", f"upload:{upload_id}")
    x, y, names = offline.read_image_folder(local, IMAGE_SIZE)
    return RawPool(x, y, names, "images", f"upload:{upload_id}")


# ---------------------------------------------------------------------- assembly


def _readonly(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


def _prepare(spec: DatasetSpec, pool: RawPool, parts: splits.SplitIndices) -> PreparedData:
    order = splits.SPLIT_NAMES
    index = {name: getattr(parts, name) for name in order}
    ys = {name: pool.y[idx].astype(np.int64) for name, idx in index.items()}
    vocab_size: int | None = None
    token_ids: text.TokenIds | None = None
    if pool.kind == "images":
        xs = {
            name: (pool.x[idx].astype(np.float32) / np.float32(pool.max_value)).clip(0.0, 1.0)
            for name, idx in index.items()
        }
    elif pool.kind == "sequences":
        length = spec.input_shape[0]
        xs = {name: text.pad_sequences(pool.x[idx], length) for name, idx in index.items()}
        vocab_size = text.sequence_vocab_size(pool.x, VOCAB_CAP)
        token_ids = text.KERAS_IDS
    else:
        train_x, others, vocab_size = text.vectorize_texts(
            pool.x[index["train"]],
            [pool.x[index[name]] for name in order[1:]],
            sequence_length=spec.input_shape[0],
            max_tokens=VOCAB_CAP,
        )
        xs = {"train": train_x, **dict(zip(order[1:], others, strict=True))}
        token_ids = text.VECTORIZER_IDS
    for name in order:
        if xs[name].shape[1:] != spec.input_shape:
            raise DatasetUnavailable(
                f"{spec.name}: {name} inputs have shape {xs[name].shape[1:]}, "
                f"expected {spec.input_shape}."
            )
    return PreparedData(
        spec=spec,
        class_names=pool.class_names,
        vocab_size=vocab_size,
        x_train=_readonly(xs["train"]), y_train=_readonly(ys["train"]),
        x_val=_readonly(xs["val"]), y_val=_readonly(ys["val"]),
        x_test=_readonly(xs["test"]), y_test=_readonly(ys["test"]),
        x_holdout=_readonly(xs["holdout"]), y_holdout=_readonly(ys["holdout"]),
        source=pool.source, token_ids=token_ids,
    )


@functools.lru_cache(maxsize=4)
def _load_cached(
    name: str,
    data_dir: Path | None,
    keras_dir: Path,
    seed: int,
    max_train_samples: int | None,
    max_eval_samples: int | None,
    allow_download: bool,
) -> PreparedData:
    spec = get_spec(name)
    pool = _load_pool(spec, _Context(data_dir, keras_dir, allow_download))
    if len(pool.class_names) != spec.num_classes:
        raise DatasetUnavailable(
            f"{spec.name}: found {len(pool.class_names)} class names, expected {spec.num_classes}."
        )
    if len(pool.y) and (pool.y.min() < 0 or pool.y.max() >= spec.num_classes):
        raise DatasetUnavailable(
            f"{spec.name} ({pool.source}): labels must lie in 0..{spec.num_classes - 1}, "
            f"found {pool.y.min()}..{pool.y.max()}."
        )
    parts = splits.split_indices(pool.y, seed=seed)
    parts = splits.apply_caps(
        parts, pool.y, seed=seed,
        max_train_samples=max_train_samples, max_eval_samples=max_eval_samples,
    )
    return _prepare(spec, pool, parts)


def _canonical_name(name: str) -> str:
    """Normalize custom-source paths so equal requests share one cache entry."""
    if not isinstance(name, str):
        get_spec(name)  # raises the ConfigError for a non-string name
    kind, sep, rest = name.strip().partition(":")
    if sep and kind in ("tsv", "images") and rest.strip():
        return f"{kind}:{Path(rest.strip()).expanduser().resolve()}"
    return name.strip()


def load_dataset(
    name: str,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    seed: int = 0,
    max_train_samples: int | None = None,
    max_eval_samples: int | None = None,
    allow_download: bool | None = None,
) -> PreparedData:
    """Load ``name`` as model-ready train/val/test/holdout splits (cached per process).

    Looks in ``data_dir`` (else ``$ONEGIN_DATA_DIR``) and Keras' cache before any
    download; downloads only when ``allow_download`` (else unless ``ONEGIN_OFFLINE=1``).
    Raises ConfigError for bad arguments and DatasetUnavailable when the data is missing.
    """
    canonical = _canonical_name(name)
    if not canonical.startswith(("tsv:", "images:")):
        get_spec(canonical)  # fail fast on unknown names, before anything is cached
    return _load_cached(
        canonical,
        offline.resolve_data_dir(data_dir),
        offline.keras_cache_dir(),
        splits.validate_seed(seed),
        splits.validate_cap(max_train_samples, "max_train_samples"),
        splits.validate_cap(max_eval_samples, "max_eval_samples"),
        _downloads_allowed(allow_download),
    )


def clear_cache() -> None:
    """Forget cached datasets (tests, or a worker that switches datasets for good)."""
    _load_cached.cache_clear()
