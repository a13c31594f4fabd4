"""The runner's view of one job's trials between the study's ask and the trial's record.

A trial is asked (`Asked`), sent and watched (`InFlight`), and its result received
(`Outcome`) before the study is told and the record written: each step is a value of
its own, so the dispatch loop, the write-behind bookkeeping and recovery can pass
trials between them without sharing the runner.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import optuna

from onegin.pareto import best_key
from onegin.trial_message import TrialResult


@dataclass
class InFlight:
    """A trial sent to the GPU queue and not yet back."""

    trial: optuna.Trial
    params: dict[str, Any]
    sent_at: float  # when it was first sent (a re-send keeps it)
    dispatched_at: float = 0.0
    started_at: float | None = None  # when its worker began (event time)
    reported: dict[int, float] = field(default_factory=dict)  # epoch -> intermediate value
    # what this runner stopped it by (the pruner's threshold, the pace), for its record
    stopped_by: dict[str, Any] | None = None
    training_at: float | None = None  # when its first training progress came (event time)
    progress: dict[str, Any] | None = None  # its worker's last progress event's data

    @property
    def started(self) -> bool:
        return self.started_at is not None


@dataclass(frozen=True)
class Asked:
    """A trial asked from the study and not yet sent; ``retry_of`` marks a re-run."""

    trial: optuna.Trial
    params: dict[str, Any]
    retry_of: int | None = None
    origin: str | None = None  # warm_start, initial, retry; None: the sampler's proposal


@dataclass(frozen=True)
class Outcome:
    """A trial's result, received: its worker is freed, the study and records not yet told."""

    number: int
    status: str
    result: TrialResult
    finished_at: datetime
    stopped: dict[str, Any] = field(default_factory=dict)  # a failed or cancelled trial's


@dataclass(frozen=True)
class BestTrial:
    """The job's best completed trial so far (its score decides which trials plot)."""

    score: float
    number: int
    accuracy: float | None = None
    health: float | None = None  # its health score: breaks a tie on the total score

    @property
    def key(self) -> tuple[float, float, float, int]:
        """How it ranks against another candidate for the job's best."""
        return best_key(self.score, self.accuracy, self.health, self.number)
