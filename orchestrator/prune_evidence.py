"""The threshold a trial missed when the job's pruner stopped it.

Optuna's pruners answer yes or no. Right after a yes, this re-derives their comparison
from the same study by the same rules, so the trial's record can say what it was
compared with: the median pruner compares the trial's best intermediate value with the
median of the completed trials' values at the same epoch; successive halving (and each
Hyperband bracket, itself a successive-halving pruner) compares the value with which
the trial reached a rung with the cutoff of the best 1/η of the values that reached it.
tests/orchestrator/test_prune_evidence.py checks on real studies that the verdict
re-derived here is the pruner's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import optuna
from optuna.pruners import HyperbandPruner, MedianPruner, SuccessiveHalvingPruner
from optuna.trial import FrozenTrial, TrialState

from orchestrator.study import REDUCTION_FACTOR

RUNG_KEY = "completed_rung_{}"  # the system attribute Optuna's successive halving sets


def median_threshold(values: Sequence[float]) -> float | None:
    """The median the median pruner compares with (NaNs ignored, as ``np.nanpercentile``)."""
    finite = [v for v in values if not math.isnan(v)]
    return float(np.percentile(finite, 50)) if finite else None


def rung_cutoff(competing: Sequence[float], reduction_factor: int) -> float:
    """The lowest value that is promoted from a rung (maximising): the best
    ``len // reduction_factor`` values go on, and at least the best one."""
    keep = max(1, len(competing) // reduction_factor)
    return sorted(competing)[-keep]


def pruner_evidence(study: optuna.Study, number: int) -> dict[str, Any] | None:
    """What the study's pruner (`orchestrator.study.make_pruner`'s) compared trial
    ``number`` with, just after it pruned it; None for a pruner this does not know."""
    trials = study.get_trials(deepcopy=False)
    trial = next(t for t in trials if t.number == number)
    step = trial.last_step
    pruner = study.pruner
    if step is None:
        return None
    if isinstance(pruner, MedianPruner):
        peers = [t.intermediate_values[step] for t in trials
                 if t.state == TrialState.COMPLETE and step in t.intermediate_values]
        own = [v for v in trial.intermediate_values.values() if not math.isnan(v)]
        return {"rule": "median", "judged_epoch": step, "value": max(own) if own else None,
                "threshold": median_threshold(peers), "peers": len(peers)}
    if isinstance(pruner, HyperbandPruner):
        bracket = pruner._get_bracket_id(study, trial)  # see the module's test
        same = [t for t in trials if pruner._get_bracket_id(study, t) == bracket]
        found = _rung_evidence(trial, same, step)
        return None if found is None else found | {"rule": "hyperband", "bracket": bracket}
    if isinstance(pruner, SuccessiveHalvingPruner):
        return _rung_evidence(trial, trials, step)
    return None


def _rung_evidence(trial: FrozenTrial, peers: Sequence[FrozenTrial],
                   step: int) -> dict[str, Any] | None:
    """The rung the trial failed: the last it recorded a value at (the pruner records it
    before it compares), and the other values recorded there."""
    rung = -1
    while RUNG_KEY.format(rung + 1) in trial.system_attrs:
        rung += 1
    if rung < 0:
        return None  # pruned for a NaN before any rung was recorded
    key = RUNG_KEY.format(rung)
    value = float(trial.system_attrs[key])
    competing = [float(t.system_attrs[key]) for t in peers
                 if t.number != trial.number and key in t.system_attrs] + [value]
    return {"rule": "successive_halving", "judged_epoch": step, "rung": rung,
            "value": value, "threshold": rung_cutoff(competing, REDUCTION_FACTOR),
            "peers": len(competing) - 1, "reduction_factor": REDUCTION_FACTOR}
