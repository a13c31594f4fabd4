"""Describe a built Keras model as plain JSON: layers, edges and tensor shapes.

The web UI draws this graph; keeping it plain data means the browser and the
orchestrator never need Keras to show an architecture.
"""

from __future__ import annotations

from typing import Any

_CONFIG_KEYS = {
    "units": "units",
    "filters": "filters",
    "kernel_size": "kernel_size",
    "activation": "activation",
    "rate": "rate",
    "pool_size": "pool_size",
    "output_dim": "output_dim",
    "input_dim": "input_dim",
}


# Keras 3 saves the "swish" activation under its other name, "silu"; the graph uses the
# search space's names, so a trial's hyperparameters and its graph agree.
_ACTIVATION_NAMES = {"silu": "swish"}


def _shape(tensor: Any) -> list[int | None]:
    return [None if d is None else int(d) for d in tensor.shape]


def _layer_entry(layer: Any) -> dict[str, Any]:
    config = layer.get_config()
    if layer.__class__.__name__ == "Bidirectional":
        config = {**config["layer"]["config"], "bidirectional": True}
    entry: dict[str, Any] = {"name": layer.name, "type": layer.__class__.__name__}
    for key, out in _CONFIG_KEYS.items():
        value = config.get(key)
        if value is not None:
            entry[out] = list(value) if isinstance(value, tuple) else value
    if "activation" in entry:
        entry["activation"] = _ACTIVATION_NAMES.get(entry["activation"], entry["activation"])
    if config.get("bidirectional"):
        entry["bidirectional"] = True
    entry["output_shape"] = _shape(layer.output)
    entry["params"] = int(layer.count_params()) if layer.built else 0
    return entry


def describe_model(model: Any) -> dict[str, Any]:
    """Layers in order, with the edges between them (each edge carries its tensor shape)."""
    layers = [_layer_entry(layer) for layer in model.layers]
    known = {layer.name for layer in model.layers}
    edges: list[dict[str, Any]] = []
    for layer in model.layers:
        for node in layer._inbound_nodes:
            for tensor in node.input_tensors:
                source = tensor._keras_history.operation
                if source.name not in known:  # e.g. the padding mask op: not a layer
                    continue
                edges.append({"source": source.name, "target": layer.name, "shape": _shape(tensor)})
    trainable = sum(int(w.numpy().size) for w in model.trainable_weights)
    return {
        "layers": layers,
        "edges": edges,
        "total_params": int(model.count_params()),
        "trainable_params": trainable,
    }


def summarize(architecture: dict[str, Any]) -> str:
    """One line for a trial card: the layer types in order, repeats folded."""
    kinds = [
        layer["type"]
        for layer in architecture["layers"]
        if layer["type"] not in {"InputLayer", "Activation", "BatchNormalization", "Dropout"}
    ]
    folded: list[str] = []
    for kind in kinds:
        if folded and folded[-1].split("×")[-1] == kind:
            count = int(folded[-1].split("×")[0]) + 1 if "×" in folded[-1] else 2
            folded[-1] = f"{count}×{kind}"
        else:
            folded.append(kind)
    return " → ".join(folded) + f" ({architecture['total_params']:,} params)"
