"""Turn a search-space configuration into a compiled Keras model.

Every legal configuration builds: pooling stops before the feature map gets too
small, so four conv layers on an 8×8 digit are as valid as on a 32×32 photo.
Hidden activations are separate ``*_act`` layers so health probes can find them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gpu_worker.architecture import describe_model
from gpu_worker.runtime import distribution_scope
from onegin.search_space import MIN_POOLED_SIDE, conv_filters, space_for

if TYPE_CHECKING:
    from gpu_worker.schedules import TrainingLength

ADAMW_WEIGHT_DECAY = 1e-4  # decoupled decay; Keras' default 4e-3 is tuned for long runs
BN_MOMENTUM = 0.9  # Keras' 0.99 lags far behind in the few hundred steps of a search trial


@dataclass(frozen=True)
class BuiltModel:
    model: Any  # keras.Model
    architecture: dict[str, Any]
    params: dict[str, Any]  # the full configuration, defaults filled in
    # what model.fit needs for the configuration's schedule and early stopping
    callbacks: tuple[Any, ...] = ()
    early_stopping: Any = None  # keras.callbacks.EarlyStopping, one of the callbacks


def _optimizer(name: str, learning_rate: Any) -> Any:
    import keras

    if name == "adam":
        return keras.optimizers.Adam(learning_rate)
    if name == "adamw":
        return keras.optimizers.AdamW(learning_rate, weight_decay=ADAMW_WEIGHT_DECAY)
    if name == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate)
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate, momentum=0.9, nesterov=True)
    if name == "sgd_plain":
        return keras.optimizers.SGD(learning_rate)
    raise ValueError(f"unknown optimizer {name!r}")


def _dense_head(x: Any, p: Mapping[str, Any], activation: str) -> Any:
    from keras import layers

    for i in range(1, p["dense_layers"] + 1):
        x = layers.Dense(p["dense_units"], name=f"dense_{i}")(x)
        x = layers.Activation(activation, name=f"dense_{i}_act")(x)
        if p["dropout"] > 0:
            x = layers.Dropout(p["dropout"], name=f"dense_{i}_dropout")(x)
    return x


def _image_body(inputs: Any, p: Mapping[str, Any]) -> Any:
    from keras import layers

    x = inputs
    height, width = inputs.shape[1], inputs.shape[2]
    for i in range(1, p["conv_layers"] + 1):
        filters = conv_filters(p, i)  # doubling per layer, capped by max_filters
        x = layers.Conv2D(
            filters, p["kernel_size"], padding="same", use_bias=not p["batch_norm"],
            name=f"conv_{i}",
        )(x)
        if p["batch_norm"]:
            x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"conv_{i}_bn")(x)
        x = layers.Activation(p["activation"], name=f"conv_{i}_act")(x)
        if min(height, width) >= MIN_POOLED_SIDE:
            x = layers.MaxPooling2D(2, name=f"pool_{i}")(x)
            height, width = height // 2, width // 2
    if p["pooling"] == "global":
        x = layers.GlobalAveragePooling2D(name="global_pool")(x)
    else:
        x = layers.Flatten(name="flatten")(x)
    return _dense_head(x, p, p["activation"])


def _text_body(inputs: Any, p: Mapping[str, Any], vocab_size: int) -> Any:
    from keras import layers

    x = layers.Embedding(vocab_size, p["embedding_dim"], mask_zero=True, name="embedding")(inputs)
    for i in range(1, p["lstm_layers"] + 1):
        last = i == p["lstm_layers"]
        lstm = layers.LSTM(
            p["lstm_units"], return_sequences=not last, recurrent_dropout=p["recurrent_dropout"],
            name=f"lstm_{i}" if not p["bidirectional"] else f"lstm_{i}_cell",
        )
        x = layers.Bidirectional(lstm, name=f"lstm_{i}")(x) if p["bidirectional"] else lstm(x)
    return _dense_head(x, p, "relu")


def build_model(
    params: Mapping[str, Any],
    *,
    modality: str,
    input_shape: Sequence[int],
    num_classes: int,
    vocab_size: int | None = None,
    length: TrainingLength | None = None,
) -> BuiltModel:
    """Build and compile; ``params`` is checked against the legal bounds first, so a
    configuration from any named space builds (``onegin.search_space.estimate_cost``
    mirrors these layers: change both together). ``length`` lays the learning-rate
    schedule out over the training; only a constant rate can do without it."""
    import keras

    from gpu_worker.schedules import early_stopping, rate_plan

    p = space_for(modality).resolve(params)
    plan = rate_plan(p, length)
    stopper = early_stopping(p)
    with distribution_scope():
        if modality == "image":
            inputs = keras.Input(shape=tuple(input_shape), name="image")
            x = _image_body(inputs, p)
        else:
            if not vocab_size:
                raise ValueError("text models need the vocabulary size")
            inputs = keras.Input(shape=tuple(input_shape), dtype="int32", name="tokens")
            x = _text_body(inputs, p, vocab_size)
        outputs = keras.layers.Dense(num_classes, activation="softmax", name="output")(x)
        model = keras.Model(inputs, outputs, name=f"onegin_{modality}")
        model.compile(
            optimizer=_optimizer(p["optimizer"], plan.learning_rate),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
    callbacks = (*plan.callbacks, *([stopper] if stopper is not None else []))
    return BuiltModel(model=model, architecture=describe_model(model), params=p,
                      callbacks=callbacks, early_stopping=stopper)
