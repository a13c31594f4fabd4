"""What a job is: a search (one Optuna study) or a comparison of two searches' objectives.

Spelled once here; the records store it, the orchestrator's task picks its runner by it
and the API serves it, so a new kind is one member here.
"""

from __future__ import annotations

from enum import StrEnum


class JobKind(StrEnum):
    SEARCH = "search"  # one study: trials on the GPU workers (onegin optimize, POST /jobs)
    COMPARE = "compare"  # child searches per objective and seed, then a report (onegin compare)


JOB_KINDS: tuple[JobKind, ...] = tuple(JobKind)
