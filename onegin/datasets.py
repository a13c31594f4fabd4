"""Dataset registry: what each dataset is, the facts a UI and a model builder need.

Specs are static data so the web app can list datasets without touching files or
TensorFlow. Custom sources (``tsv:/file``, ``images:/dir``) get a spec computed
from the files themselves, because their class count is only known there; an
uploaded dataset (``upload:<id>``, `onegin.uploads`) from its stored manifest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from onegin.errors import ConfigError, DatasetUnavailable
from onegin.search_space import DataFacts, Modality

VOCAB_CAP = 20_000
"""Most token ids a text model sees (padding 0 and OOV included)."""

IMAGE_SIZE = 32
"""Side of the square RGB images that GTSRB and custom folders are resized to."""

SEQUENCE_LENGTHS: Mapping[str, int] = MappingProxyType(
    {"imdb": 200, "reuters": 200, "sms_spam": 64, "tsv": 64}
)

DEFAULT_DATASET = "digits"

TRAIN_SHARE = 0.6
"""Share of a dataset's examples in its training split (gpu_worker.datasets.splits)."""


@dataclass(frozen=True)
class DatasetSpec:
    """Static description of one dataset (after preprocessing)."""

    name: str
    title: str
    modality: Modality
    num_classes: int
    input_shape: tuple[int, ...]
    url: str
    description: str
    samples: int | None = None
    """Labelled examples in all splits together (None: unknown); sizes the search space."""


def _spec(
    name: str,
    title: str,
    modality: Modality,
    num_classes: int,
    input_shape: tuple[int, ...],
    url: str,
    description: str,
    samples: int,
) -> tuple[str, DatasetSpec]:
    return name, DatasetSpec(name, title, modality, num_classes, input_shape, url, description,
                             samples)


DATASETS: Mapping[str, DatasetSpec] = MappingProxyType(dict([
    _spec("digits", "Digits (scikit-learn 8x8)", "image", 10, (8, 8, 1),
          "https://scikit-learn.org/stable/modules/generated/sklearn.datasets.load_digits.html",
          "1,797 tiny 8x8 handwritten digits bundled with scikit-learn: always available.",
          1797),
    _spec("mnist", "MNIST handwritten digits", "image", 10, (28, 28, 1),
          "https://yann.lecun.com/exdb/mnist/",
          "70,000 28x28 grayscale handwritten digits, the classic first benchmark.", 70_000),
    _spec("fashion_mnist", "Fashion-MNIST clothing", "image", 10, (28, 28, 1),
          "https://github.com/zalandoresearch/fashion-mnist",
          "70,000 28x28 grayscale photos of clothing in 10 categories; harder than MNIST.",
          70_000),
    _spec("cifar10", "CIFAR-10 tiny images", "image", 10, (32, 32, 3),
          "https://www.cs.toronto.edu/~kriz/cifar.html",
          "60,000 32x32 colour photos of 10 object classes such as planes, cats and trucks.",
          60_000),
    _spec("cifar100", "CIFAR-100 tiny images", "image", 100, (32, 32, 3),
          "https://www.cs.toronto.edu/~kriz/cifar.html",
          "60,000 32x32 colour photos of 100 fine-grained object classes.", 60_000),
    _spec("gtsrb", "GTSRB German traffic signs", "image", 43, (IMAGE_SIZE, IMAGE_SIZE, 3),
          "https://benchmark.ini.rub.de/gtsrb_dataset.html",
          "About 50,000 photos of 43 kinds of German traffic signs, resized to 32x32.",
          51_839),
    _spec("imdb", "IMDB movie reviews", "text", 2, (SEQUENCE_LENGTHS["imdb"],),
          "https://ai.stanford.edu/~amaas/data/sentiment/",
          "50,000 movie reviews labelled positive or negative, as word-id sequences.",
          50_000),
    _spec("reuters", "Reuters newswire topics", "text", 46, (SEQUENCE_LENGTHS["reuters"],),
          "https://archive.ics.uci.edu/dataset/137/reuters+21578+text+categorization+collection",
          "11,228 Reuters newswires labelled with 46 topics, as word-id sequences.",
          11_228),
    _spec("sms_spam", "SMS Spam Collection", "text", 2, (SEQUENCE_LENGTHS["sms_spam"],),
          "https://archive.ics.uci.edu/dataset/228/sms+spam+collection",
          "5,574 English SMS messages labelled ham or spam.", 5_574),
]))


def get_spec(name: str) -> DatasetSpec:
    """Return the spec of a registered dataset, a ``tsv:``/``images:`` source or an upload.

    Custom sources are read (labels / folder names only) to count their classes; an
    ``upload:<id>`` is described by its manifest in the artifact store.
    """
    if not isinstance(name, str) or not name.strip():
        raise ConfigError("dataset", f"must be a non-empty string, got {name!r}")
    name = name.strip()
    kind, sep, rest = name.partition(":")
    if sep and kind in ("tsv", "images"):
        return custom_spec(kind, rest)
    if sep and kind == "upload":
        from onegin.uploads.specs import uploaded_spec  # reads the artifact store

        return uploaded_spec(rest.strip())
    spec = DATASETS.get(name)
    if spec is None:
        known = ", ".join([*DATASETS, "tsv:/path/file.tsv", "images:/path/dir", "upload:<id>"])
        raise ConfigError("dataset", f"unknown dataset {name!r}; known: {known}")
    return spec


def custom_path(kind: str, raw_path: str) -> Path:
    """Validate and absolutize the path of a custom source."""
    if not raw_path.strip():
        raise ConfigError("dataset", f"'{kind}:' needs a path, e.g. '{kind}:/data/mine'")
    path = Path(raw_path.strip()).expanduser().resolve()
    exists = path.is_file() if kind == "tsv" else path.is_dir()
    if not exists:
        what = "file" if kind == "tsv" else "folder"
        raise DatasetUnavailable(
            f"Dataset '{kind}:{raw_path}' is unavailable: no {what} at {path}."
        )
    return path


def custom_spec(kind: str, raw_path: str) -> DatasetSpec:
    """Build the spec of a ``tsv:`` file or an ``images:`` folder from its contents."""
    # Imported here: the file readers (and NumPy) are only needed for custom sources.
    from onegin.dataset_files import IMAGE_EXTENSIONS, image_folder_classes, read_labelled_text

    path = custom_path(kind, raw_path)
    if kind == "tsv":
        _, labels, class_names = read_labelled_text(path)
        return DatasetSpec(
            name=f"tsv:{path}",
            title=f"Text file {path.name}",
            modality="text",
            num_classes=len(class_names),
            input_shape=(SEQUENCE_LENGTHS["tsv"],),
            url=path.as_uri(),
            description=f"{len(labels):,} labelled texts from {path}.",
            samples=len(labels),
        )
    classes = image_folder_classes(path)
    samples = sum(1 for c in classes for f in (path / c).rglob("*")
                  if f.suffix.lower() in IMAGE_EXTENSIONS and f.is_file())
    return DatasetSpec(
        name=f"images:{path}",
        title=f"Image folder {path.name}",
        modality="image",
        num_classes=len(classes),
        input_shape=(IMAGE_SIZE, IMAGE_SIZE, 3),
        url=path.as_uri(),
        description=f"Images in {len(classes)} class folders under {path}, resized to 32x32.",
        samples=samples,
    )


def facts_for(dataset_name: str, max_train_samples: int | None = None) -> DataFacts:
    """What the default search space is sized by: input shape, classes, training examples.

    The training count is the training share of the dataset, or the job's
    ``max_train_samples`` cap when that is smaller.
    """
    spec = get_spec(dataset_name)
    train = int(spec.samples * TRAIN_SHARE) if spec.samples is not None else None
    if max_train_samples is not None:
        train = max_train_samples if train is None else min(train, max_train_samples)
    return DataFacts(spec.input_shape, train, spec.num_classes)
