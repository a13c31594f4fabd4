"""A job's trials shaped for the dashboard's analysis plots, in one answer. Pure.

The plots need every trial's number, status and score (the optimization history),
the parameters, scores and health of each trial (parallel coordinates, slices, the
health radar) and each trial's validation accuracy per epoch (learning curves). A job
may hold thousands of trials, and a browser neither downloads nor draws thousands of
lines at once usefully, so:

- the history is every trial, as compact ``[number, status, total_score]`` triples;
- at most `TRIALS_SHOWN` trials come with their parameters and health, and at most
  `CURVES_SHOWN` of those with their learning curves, chosen by `keep`: trials still
  running (their curves move), the best-scored quarter (where an analyst looks), and
  an even spread over trial numbers for the rest (the search's course).

Trials arrive as dicts of `FIELDS` (`RecordStore.trial_fields`): reading whole records
of 5,000 trials took several times as long.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from onegin.scoring import HEALTH_COMPONENTS
from onegin.statuses import TrialStatus

TRIALS_SHOWN = 1000  # trials with parameters and health
CURVES_SHOWN = 200  # trials with a learning curve: more lines are a grey blur
BEST_SHARE = 4  # 1/4 of a sample: the best-scored trials
FIELDS = ("number", "status", "params", "val_accuracy", "total_score", "health_score", "health",
          "intermediate")
Trial = Mapping[str, Any]  # FIELDS of one trial


def keep(trials: Sequence[Trial], limit: int) -> list[Trial]:
    """At most ``limit`` of ``trials``, in their order: all of them when they fit; else
    the running ones, the best-scored ``limit // BEST_SHARE`` and an even spread of the
    rest. The same trials give the same choice, so a refresh does not reshuffle a plot."""
    if len(trials) <= limit:
        return list(trials)
    chosen = {t["number"] for t in trials if t["status"] == TrialStatus.RUNNING}
    chosen = set(sorted(chosen)[:limit])
    best = max(0, min(limit // BEST_SHARE, limit - len(chosen)))
    scored = sorted((t for t in trials
                     if t["total_score"] is not None and t["number"] not in chosen),
                    key=lambda t: (-t["total_score"], t["number"]))
    chosen |= {t["number"] for t in scored[:best]}
    rest = [t for t in trials if t["number"] not in chosen]
    room = limit - len(chosen)
    if room > 0:
        step = len(rest) / room
        chosen |= {rest[int(i * step)]["number"] for i in range(room)}
    return [t for t in trials if t["number"] in chosen]


def trial_row(trial: Trial) -> dict[str, Any]:
    """What the plots read of one trial; health as its six components only."""
    health = trial["health"] or {}
    return {"number": trial["number"], "status": trial["status"], "params": trial["params"],
            "val_accuracy": trial["val_accuracy"], "total_score": trial["total_score"],
            "health_score": trial["health_score"],
            "health": {k: health[k] for k in HEALTH_COMPONENTS if k in health} or None}


def analysis_json(trials: Sequence[Trial], *, trials_shown: int = TRIALS_SHOWN,
                  curves_shown: int = CURVES_SHOWN) -> dict[str, Any]:
    """``{"total", "history", "trials", "curves", "limits"}`` for a job's ``trials`` (by
    number); ``curves`` maps a trial number to its ``{epoch: validation accuracy}``."""
    shown = keep(trials, trials_shown)
    curved = keep([t for t in shown if t["intermediate"]], curves_shown)
    return {
        "total": len(trials),
        "history": [[t["number"], t["status"], t["total_score"]] for t in trials],
        "trials": [trial_row(t) for t in shown],
        "curves": {str(t["number"]): t["intermediate"] for t in curved},
        "limits": {"trials": trials_shown, "curves": curves_shown},
    }
