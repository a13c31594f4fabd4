"""GPU-worker tasks with an OUT-OF-MEMORY FAULT-INJECTION STAND-IN (named so).

There is no GPU here to exhaust, so this module stands in for one: it loads the real
task module (the real task, claim, heartbeat, events, upload and error handling) and
wraps the real trainer. A model whose ``dense_units`` is at least the value of
``ONEGIN_TEST_OOM_DENSE_UNITS`` raises TensorFlow's ``ResourceExhaustedError`` from
inside ``fit``, at its first training progress, as a GPU that cannot hold it would.
Smaller models, and every model when the variable is unset, train for real.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from gpu_worker import tasks, trainer  # noqa: F401  (tasks: registers the real task)
from onegin.progress import Progress
from onegin.trial_message import TrialSpec
from tests.faults.oom import OOM_ENV

OOM_MESSAGE = ("OOM when allocating tensor with shape[1048576,4096] and type float on "
               "/job:localhost/replica:0/task:0/device:GPU:0 (fault-injection stand-in)")
_real_train_trial = trainer.train_trial


def _too_big(spec: TrialSpec) -> bool:
    threshold = os.environ.get(OOM_ENV)
    return threshold is not None and int(spec.params.get("dense_units", 0)) >= int(threshold)


def train_trial(spec: TrialSpec, out_dir: Path, hooks: Any, **kwargs: Any) -> Any:
    if not _too_big(spec):
        return _real_train_trial(spec, out_dir, hooks, **kwargs)
    report = hooks.on_progress

    def out_of_memory_at_first_batch(progress: Progress) -> None:
        if progress.phase == "training":
            import tensorflow as tf

            raise tf.errors.ResourceExhaustedError(None, None, OOM_MESSAGE)
        if report is not None:
            report(progress)

    return _real_train_trial(spec, out_dir,
                             dataclasses.replace(hooks, on_progress=out_of_memory_at_first_batch),
                             **kwargs)


trainer.train_trial = train_trial  # the worker looks it up at each trial (workers only:
# the tests import the switch from tests.faults.oom, never this module)
