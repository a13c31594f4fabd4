"""Trial progress as plain data, and the throttle that keeps it to a few events a second.

Pure: the GPU worker fills these in, the CLI, orchestrator and browser read them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Phase = Literal[
    "loading_data", "building", "training", "evaluating",
    "computing_health", "holdout", "plotting", "saving", "uploading", "done",
]
PHASES: tuple[Phase, ...] = (
    "loading_data", "building", "training", "evaluating",
    "computing_health", "holdout", "plotting", "saving", "uploading", "done",
)


@dataclass(frozen=True)
class Progress:
    """Where a trial is: phase, epoch n of N and the fraction done within that epoch."""

    phase: Phase
    epoch: int = 0  # 1-based while training; 0 before the first epoch
    epochs: int = 0
    epoch_fraction: float = 0.0
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def fraction(self) -> float:
        """Overall training fraction in [0, 1] (phases after training count as done)."""
        if self.phase in ("loading_data", "building") or not self.epochs:
            return 0.0
        if self.phase != "training":
            return 1.0
        return min(1.0, (max(self.epoch - 1, 0) + self.epoch_fraction) / self.epochs)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "fraction": self.fraction}


class Throttle:
    """Lets an event through at most once per ``interval`` seconds (forced ones always)."""

    def __init__(self, interval: float = 0.25, clock: Callable[[], float] = time.monotonic):
        self.interval = interval
        self._clock = clock
        self._last = float("-inf")

    def ready(self, force: bool = False) -> bool:
        now = self._clock()
        if force or now - self._last >= self.interval:
            self._last = now
            return True
        return False
