"""TensorFlow setup shared by the worker tests: quiet logs, one thread per process."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("ONEGIN_OFFLINE", "1")

from gpu_worker.runtime import configure_tensorflow

configure_tensorflow(threads=int(os.environ.get("ONEGIN_TF_THREADS", "1")))
