"""TensorFlow process setup: thread pinning, seeding, GPU memory and strategy.

Call `configure_tensorflow` once per worker process before any model is built:
TensorFlow fixes its thread pools and GPU memory policy on first use.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager, nullcontext, suppress
from typing import Any

_configured: dict[str, Any] = {}


def configure_tensorflow(threads: int | None = None) -> dict[str, Any]:
    """Pin intra/inter-op threads and let GPU memory grow instead of grabbing it all.

    ``threads`` defaults to ``ONEGIN_TF_THREADS``; two workers on two cores each get 1.
    Idempotent: later calls return the first configuration.
    """
    if _configured:
        return dict(_configured)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    if threads is None and os.environ.get("ONEGIN_TF_THREADS"):
        threads = int(os.environ["ONEGIN_TF_THREADS"])
    if threads is not None:
        if threads < 1:
            raise ValueError(f"ONEGIN_TF_THREADS must be at least 1, got {threads}")
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    gpus = tf.config.list_physical_devices("GPU")
    for gpu in gpus:
        with suppress(RuntimeError):  # already initialised by the caller: keep its choice
            tf.config.experimental.set_memory_growth(gpu, True)
    _configured.update(threads=threads, gpus=len(gpus))
    return dict(_configured)


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow so a trial is reproducible."""
    import keras

    keras.utils.set_random_seed(seed)


def distribution_scope() -> AbstractContextManager[Any]:
    """MirroredStrategy scope when several GPUs are visible, so one trial uses them all."""
    import tensorflow as tf

    if len(tf.config.list_logical_devices("GPU")) > 1:
        return tf.distribute.MirroredStrategy().scope()
    return nullcontext()
