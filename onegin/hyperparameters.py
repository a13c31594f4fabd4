"""What every hyperparameter is, for a learner: the one source the API serves.

The job form, a trial's details and the parameter-importance chart all read these texts
through ``GET /api/v1/hyperparameters``, so a parameter is explained the same way
everywhere. Each text says what the parameter is, what raising or lowering it usually
does, and a typical good range. The range the default space searches comes from the
space itself (`searched_ranges`), never copied here. A test fails when a parameter of
any space has no explanation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from onegin.search_space import (
    MODALITIES,
    TABLES,
    CategoricalParam,
    ConditionalFloatParam,
    FloatParam,
    IntParam,
    searched_branches,
)


@dataclass(frozen=True)
class Explanation:
    """One parameter, in plain words."""

    title: str
    what: str  # what it is
    effect: str  # what raising or lowering it usually does
    typical: str  # a typical good range, from practice

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


EXPLANATIONS: Mapping[str, Explanation] = {
    "conv_layers": Explanation(
        "Convolution blocks",
        "How many convolution blocks the CNN stacks. Each block looks at a wider patch of "
        "the image and halves its height and width by pooling.",
        "More blocks see larger shapes (strokes, then parts, then objects) but train slower "
        "and can shrink a small image to nothing; fewer blocks underfit complex images.",
        "2–3 for small images such as MNIST or CIFAR; deeper only for larger images."),
    "filters": Explanation(
        "Filters in the first block",
        "How many feature detectors (channels) the first convolution learns; later blocks "
        "double it, up to max_filters.",
        "More filters capture more kinds of patterns, at a cost in parameters, memory and "
        "time that grows with their square in the following block; too few underfit.",
        "16–64 to start; 32 is the classic choice."),
    "max_filters": Explanation(
        "Filter cap",
        "The most channels any convolution block may have as the count doubles with depth.",
        "A higher cap lets deep networks grow wide (and large); a lower one keeps them small "
        "and fast.",
        "128–256."),
    "kernel_size": Explanation(
        "Kernel size",
        "The side of the square window each convolution looks at (3 means 3×3 pixels).",
        "Larger kernels see more context per layer but cost (k/3)² as much; two stacked 3×3 "
        "layers see as far as one 5×5 with fewer parameters.",
        "3 almost always; 5 now and then for the first block."),
    "activation": Explanation(
        "Activation function",
        "The non-linearity after each layer, which lets the network model more than a "
        "straight line. swish is also called SiLU.",
        "relu is fast and robust but its units can die (always output 0); leaky_relu, elu and "
        "swish keep a small gradient for negative inputs and often train a little better; "
        "tanh saturates and slows deep networks.",
        "relu or swish; leaky_relu if many units die."),
    "batch_norm": Explanation(
        "Batch normalization",
        "Whether each convolution's output is normalized over the batch before the "
        "activation.",
        "On: faster, more stable training that tolerates higher learning rates. Off: fewer "
        "operations, and sometimes better with very small batches.",
        "On for CNNs."),
    "pooling": Explanation(
        "From feature maps to the classifier",
        "How the last feature maps become one vector: flatten keeps every position, global "
        "averages each channel over the image.",
        "flatten keeps where things are and adds many parameters to the next layer; global "
        "is compact and position-invariant but can lose detail on tiny images.",
        "flatten for small images (≤ 8 pixels left); global for larger ones."),
    "dense_layers": Explanation(
        "Dense layers",
        "How many fully connected hidden layers sit between the features and the output.",
        "More layers can combine features in more ways but overfit small datasets; 0 or 1 is "
        "usually enough after good features.",
        "0–2."),
    "dense_units": Explanation(
        "Units per dense layer",
        "The width of each fully connected hidden layer.",
        "Wider layers fit more and overfit more (and add parameters); narrower ones can "
        "bottleneck the information the features carry.",
        "64–512 for images, 32–256 for text; no more than the data can support."),
    "dropout": Explanation(
        "Dropout",
        "The share of units switched off at random at each training step, so the network "
        "cannot rely on any single one.",
        "Higher dropout regularizes more, closing the gap between training and validation "
        "accuracy, but too much underfits and slows learning; 0 lets a large model memorise.",
        "0.1–0.5; higher for large models on small data."),
    "optimizer": Explanation(
        "Optimizer",
        "The rule that turns gradients into weight updates. adam and adamw adapt a step size "
        "per weight (adamw decays weights properly); rmsprop adapts too; sgd uses Nesterov "
        "momentum, sgd_plain none.",
        "Adaptive optimizers converge fast with little tuning; SGD with momentum needs a "
        "well-chosen learning rate but can generalize slightly better over long runs.",
        "adam or adamw first; each optimizer has its own good learning rates."),
    "learning_rate": Explanation(
        "Learning rate",
        "The size of each update step. Its good values depend on the optimizer, so the "
        "search keeps one range per optimizer.",
        "Too high: the loss jumps around or diverges (NaN). Too low: training crawls and "
        "stops far from a good model in the epochs given. It is usually the single most "
        "important hyperparameter.",
        "Adam 3e-4 to 5e-3 (1e-3 is the classic start); SGD with momentum 0.01–0.15."),
    "batch_size": Explanation(
        "Batch size",
        "How many examples each update averages its gradient over.",
        "Larger batches give smoother gradients and faster epochs on a GPU but fewer updates "
        "per epoch, and often need a higher learning rate; smaller batches add noise that can "
        "help generalization but train slower per epoch.",
        "32–128; small enough that an epoch has at least 30 updates."),
    "lr_schedule": Explanation(
        "Learning-rate schedule",
        "How the learning rate moves during training: constant keeps it; cosine lowers it "
        "to 0 by the last step along a half cosine; exponential multiplies it by "
        "lr_decay_rate every epoch; step does so at once every lr_step_epochs epochs; "
        "plateau does so when the validation loss has not improved for lr_plateau_patience "
        "epochs.",
        "Lowering the rate late in training lets the model settle into a minimum the full "
        "rate keeps stepping over, often a little more accuracy in long runs; in runs of a "
        "few epochs a decay has little time to help and mostly slows learning. The default "
        "search keeps a constant rate; a job can search or fix any schedule.",
        "constant for short searches; cosine for runs of tens of epochs; plateau when the "
        "right length is hard to guess."),
    "lr_warmup": Explanation(
        "Learning-rate warm-up",
        "Epochs (fractions allowed) over which the rate climbs linearly from 0 to the "
        "learning rate before the schedule starts.",
        "A warm-up steadies the first updates of large models, high rates and big batches, "
        "whose early steps can otherwise blow up; too long a warm-up spends a short run's "
        "epochs at low rates. 0 turns it off.",
        "0 for small models; a fraction of an epoch to a few epochs for large ones or high "
        "rates."),
    "lr_decay_rate": Explanation(
        "Learning-rate decay factor",
        "What the learning rate is multiplied by at each decay: every epoch (exponential), "
        "every lr_step_epochs epochs (step) or at each plateau (plateau). Only those "
        "schedules have one.",
        "A lower factor cuts the rate faster: the model settles sooner but may stop "
        "learning before it is good; a factor near 1 barely decays at all.",
        "0.5–0.9 per epoch for exponential in short runs (nearer 1 in long ones); 0.1–0.5 "
        "per drop for step and plateau."),
    "lr_step_epochs": Explanation(
        "Epochs between rate drops",
        "How many epochs the step schedule trains at one rate before multiplying it by "
        "lr_decay_rate. Only the step schedule has it.",
        "Fewer epochs between drops lowers the rate sooner and more often, so the model "
        "settles quickly but may stall early; more epochs train longer at each rate.",
        "About a third of the run (every 30 of 100 epochs); 1–2 in runs of a few epochs."),
    "lr_plateau_patience": Explanation(
        "Plateau patience",
        "How many epochs without a better validation loss the plateau schedule waits "
        "before multiplying the rate by lr_decay_rate. Only the plateau schedule has it.",
        "Lower patience reacts to a stall sooner but also to noise, cutting the rate too "
        "early; higher patience spends epochs at a rate that no longer helps.",
        "2–10 epochs in long runs; 1–2 in runs of a few epochs."),
    "early_stopping": Explanation(
        "Early stopping",
        "Whether a trial stops once its validation accuracy has not improved for "
        "early_stopping_patience epochs, keeping its best epoch's weights. A trial it stops "
        "is completed, and its details say in which epoch it stopped.",
        "On: saves the epochs that no longer help and keeps the model from the epoch before "
        "it began to overfit; in runs of a few epochs it rarely fires. Off: every trial "
        "trains its whole budget and keeps its last epoch.",
        "On for trials of tens of epochs; off (the default) for short searches."),
    "early_stopping_patience": Explanation(
        "Early-stopping patience",
        "How many epochs without a better validation accuracy early stopping waits before "
        "it ends the trial. Only applies with early stopping on.",
        "Lower patience stops sooner and saves more time but may end a trial in a passing "
        "dip; higher patience rides out noise at the cost of more epochs.",
        "2–3 in short runs; 5–10 in long ones."),
    "embedding_dim": Explanation(
        "Embedding size",
        "How many numbers represent each word (token) before the LSTM reads it.",
        "Larger embeddings can hold finer meanings but add parameters and overfit small "
        "corpora; smaller ones merge words with different meanings.",
        "32–128 for datasets of thousands of texts; 100–300 for large ones."),
    "lstm_units": Explanation(
        "LSTM units",
        "The size of the LSTM's memory: how many numbers it carries from word to word.",
        "More units remember more of the text and model longer patterns, at a cost that grows "
        "with their square; too few forget what they read.",
        "32–128."),
    "lstm_layers": Explanation(
        "LSTM layers",
        "How many LSTM layers are stacked, each reading the sequence the one below produces.",
        "A second layer can model higher-level patterns; more are slow and rarely help "
        "classification of short texts.",
        "1–2."),
    "bidirectional": Explanation(
        "Bidirectional LSTM",
        "Whether the text is also read backwards by a second LSTM, and both readings joined.",
        "On: each word is seen with the context after it too, often better accuracy for about "
        "twice the cost. Off: faster and smaller.",
        "On for classification."),
    "recurrent_dropout": Explanation(
        "Recurrent dropout",
        "Dropout applied to the LSTM's memory connections from step to step.",
        "Regularizes the recurrence itself, but disables the fast fused LSTM kernel, so "
        "training is several times slower; 0 keeps it fast.",
        "0, or 0.1–0.3 when an LSTM overfits and time allows."),
}


def _span(low: float, high: float) -> str:
    return f"{low:g}" if low == high else f"{low:g}–{high:g}"


def _range_text(param: Any, branches: tuple[Any, ...] | None) -> str:
    """The default space's search range of ``param``, in words; a conditional float's
    for the ``branches`` the space searches."""
    if isinstance(param, CategoricalParam):
        return ", ".join(str(c).lower() if isinstance(c, bool) else str(c) for c in param.choices)
    if isinstance(param, ConditionalFloatParam):
        return "; ".join(f"{branch} {_span(*span)}" for branch, span in param.ranges.items()
                         if branch in (branches or ()))
    if isinstance(param, IntParam | FloatParam):
        return _span(param.low, param.high)
    raise TypeError(f"unknown parameter kind {type(param).__name__}")


def searched_ranges(space_name: str = "default") -> dict[str, dict[str, str]]:
    """parameter -> modality -> what ``space_name`` searches for it, in words. A parameter
    that never applies there (a schedule's setting while the rate stays constant) is not
    searched; a conditional one is given for the values of its condition searched."""
    ranges: dict[str, dict[str, str]] = {}
    for modality in MODALITIES:
        space = {param.name: param for param in TABLES[space_name][modality]}
        for param in space.values():
            branches = searched_branches(param, space)
            if branches != ():
                ranges.setdefault(param.name, {})[modality] = _range_text(param, branches)
    return ranges


def unexplained() -> list[str]:
    """Parameters of some space that have no explanation (the test keeps this empty)."""
    names = {p.name for tables in TABLES.values() for params in tables.values() for p in params}
    return sorted(names - set(EXPLANATIONS))


def describe() -> dict[str, dict[str, Any]]:
    """parameter -> its explanation and the ranges the default space searches."""
    ranges = searched_ranges()
    return {name: {**text.to_dict(), "searched": ranges.get(name, {})}
            for name, text in EXPLANATIONS.items()}
