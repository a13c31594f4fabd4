"""Measurements taken from a trained model on a small probe batch.

These are the only TensorFlow-touching parts of health; the formulas that turn
the measurements into scores live in `formulas.py` as pure NumPy.
"""

from __future__ import annotations

from typing import Any

import numpy as np

RECURRENT_TYPES = ("LSTM", "GRU", "SimpleRNN", "Bidirectional")
GRADIENT_TYPES = ("Dense", "Conv2D", *RECURRENT_TYPES)
_KERNEL_SUFFIXES = ("kernel", "recurrent_kernel")


def measured_layers(model: Any) -> list[Any]:
    """Hidden units we can call alive or dead: ``*_act`` activations and recurrent layers."""
    return [
        layer
        for layer in model.layers
        if layer.name.endswith("_act") or layer.__class__.__name__ in RECURRENT_TYPES
    ]


def layer_activations(model: Any, x: np.ndarray, batch_size: int = 256) -> dict[str, np.ndarray]:
    """Outputs of every measured layer on ``x`` (inference mode), keyed by layer name."""
    import keras

    layers = measured_layers(model)
    if not layers:
        return {}
    probe = keras.Model(model.inputs, [layer.output for layer in layers])
    outputs = probe.predict(x, batch_size=batch_size, verbose=0)
    if len(layers) == 1:
        outputs = [outputs]
    return {layer.name: np.asarray(out) for layer, out in zip(layers, outputs, strict=True)}


def gradient_norms(model: Any, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Root-mean-square loss gradient of each layer's kernels, input to output.

    Biases, batch-norm scales and embeddings are left out: their gradients are
    sparse or tiny by design and would read as vanishing.
    """
    import keras
    import tensorflow as tf

    layers = [layer for layer in model.layers if layer.__class__.__name__ in GRADIENT_TYPES]
    weights = {
        layer.name: [w for w in layer.trainable_weights if w.path.endswith(_KERNEL_SUFFIXES)]
        for layer in layers
    }
    flat = [w for ws in weights.values() for w in ws]
    with tf.GradientTape() as tape:
        predictions = model(x, training=False)
        loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(y, predictions))
    grads = tape.gradient(loss, [w.value for w in flat])
    by_weight = {id(w): g for w, g in zip(flat, grads, strict=True)}
    norms: dict[str, float] = {}
    for name, ws in weights.items():
        squares, count = 0.0, 0
        for w in ws:
            g = by_weight[id(w)]
            if g is None:
                continue
            g = tf.convert_to_tensor(g)
            squares += float(tf.reduce_sum(tf.square(tf.cast(g, tf.float64))))
            count += int(np.prod(g.shape))
        if count:
            norms[name] = float(np.sqrt(squares / count))
    return norms
