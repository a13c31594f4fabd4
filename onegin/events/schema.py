"""The versioned event schema: what workers, the orchestrator and browsers exchange.

Pure (no I/O), so producers, consumers and tests share one definition. An event
is a plain JSON dict ``{"v", "type", "job_id", "trial", "ts", "data"}``.
``make_event`` is strict (unknown data keys are typos caught at the source);
``parse_event`` tolerates extra data keys so a producer may add an optional
field without a version bump, but rejects an unknown version or type.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any

from onegin.json_values import plain_json
from onegin.progress import Progress
from onegin.statuses import TRIAL_ACTIVE, TrialStatus

EVENT_VERSION = 1
SOCKETIO_NAMESPACE = "/jobs"  # browsers follow jobs here, one room per job: job_room()

# type -> (required data keys, optional data keys)
_DATA_KEYS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    # waiting: {"since", "gpu_queue_depth"} while no worker takes the job's trials; null after
    "job_status": (frozenset({"status"}), frozenset({"error", "waiting"})),
    "trial_started": (frozenset({"params", "worker"}), frozenset()),
    "trial_progress": (
        frozenset({"phase", "epoch", "epochs", "epoch_fraction", "fraction", "metrics"}),
        frozenset(),
    ),
    "trial_finished": (frozenset({"status", "result"}), frozenset({"error"})),
    "job_progress": (
        frozenset({"counts", "budget", "best_accuracy", "best_total_score",
                   "avg_trial_seconds", "eta_seconds"}),
        frozenset(),
    ),
    "job_finished": (
        frozenset({"status", "best_trial", "best_score", "best_accuracy"}),
        frozenset(),
    ),
}
EVENT_TYPES: frozenset[str] = frozenset(_DATA_KEYS)
TRIAL_EVENT_TYPES: frozenset[str] = frozenset(
    {"trial_started", "trial_progress", "trial_finished"}
)

_JOB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def check_job_id(job_id: object) -> str:
    """Return ``job_id`` if it is safe as a file name and a Redis key part, else raise."""
    if not isinstance(job_id, str) or not _JOB_ID.fullmatch(job_id):
        raise ValueError(
            f"job_id {job_id!r} must be 1-128 characters of [A-Za-z0-9._-], "
            "starting with a letter or digit"
        )
    return job_id


def job_room(job_id: str) -> str:
    """The Socket.IO room a browser joins to follow one job."""
    return f"job:{job_id}"


def check_trial_number(number: object) -> int:
    """Return ``number`` if it is a trial number (an int >= 0, not a bool), else raise."""
    if not isinstance(number, int) or isinstance(number, bool) or number < 0:
        raise ValueError(f"trial number {number!r} must be an int >= 0")
    return number


def make_event(type: str, job_id: str, *, trial: int | None = None,
               ts: float | None = None, **data: Any) -> dict[str, Any]:
    """Build a valid event; raises ValueError naming a missing or unknown key.

    Non-finite floats in ``data`` (a diverged loss) become None: JSON has no
    NaN, and a browser's ``JSON.parse`` rejects the whole message if one slips in.
    """
    event = {
        "v": EVENT_VERSION, "type": type, "job_id": job_id, "trial": trial,
        "ts": time.time() if ts is None else ts, "data": plain_json(data),
    }
    _validate(event, strict=True)
    return event


def parse_event(raw: bytes | str | Mapping[str, Any]) -> dict[str, Any]:
    """Decode and validate an incoming event (a JSON text or a dict); raises ValueError."""
    if isinstance(raw, bytes | str):
        try:
            event = json.loads(raw)
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
            raise ValueError(f"event is not valid JSON: {exc}") from exc
    else:
        event = raw
    if not isinstance(event, Mapping):
        raise ValueError(f"event must be a JSON object, got {type(event).__name__}")
    event = dict(event)
    _validate(event, strict=False)
    return event


def encode_event(event: Mapping[str, Any]) -> str:
    """One compact JSON line (no newline inside), the form every backend stores."""
    return json.dumps(event, separators=(",", ":"), allow_nan=False)


def progress_event(job_id: str, trial: int, progress: Progress, *,
                   ts: float | None = None) -> dict[str, Any]:
    """A ``trial_progress`` event from a worker's Progress."""
    return make_event("trial_progress", job_id, trial=trial, ts=ts, **progress.to_dict())


def job_progress_data(counts: Mapping[str, int], budget: int, durations: Sequence[float],
                      concurrency: int, best_accuracy: float | None,
                      best_total_score: float | None,
                      remaining_running_fraction: float | None = None) -> dict[str, Any]:
    """The ``data`` of a ``job_progress`` event, with an ETA estimate.

    ETA formula, in trials of average length ``avg = mean(durations)``:
      - done    = trials whose status is not active (queued, running: `TRIAL_ACTIVE`);
      - running = trials with status running;
      - work    = max(0, budget - done - running) + remaining_running_fraction,
        where remaining_running_fraction is the sum over running trials of the
        fraction each still has to do (None: assume each is half done);
      - eta     = avg * max(work / concurrency, min(work, 1)): the remaining work
        spread over the workers, but never shorter than the one trial still left.
    ``eta_seconds`` and ``avg_trial_seconds`` are None before any trial finished.
    """
    running = int(counts.get(TrialStatus.RUNNING, 0))
    done = sum(int(n) for status, n in counts.items() if status not in TRIAL_ACTIVE)
    avg = sum(durations) / len(durations) if durations else None
    eta: float | None = None
    if avg is not None:
        in_flight = 0.5 * running if remaining_running_fraction is None \
            else max(0.0, remaining_running_fraction)
        work = max(0, budget - done - running) + in_flight
        eta = avg * max(work / max(1, concurrency), min(work, 1.0)) if work > 0 else 0.0
    return {
        "counts": dict(counts), "budget": budget,
        "best_accuracy": best_accuracy, "best_total_score": best_total_score,
        "avg_trial_seconds": avg, "eta_seconds": eta,
    }


def _validate(event: dict[str, Any], *, strict: bool) -> None:
    version = event.get("v")
    if version != EVENT_VERSION:
        raise ValueError(
            f"unsupported event version {version!r} (this code reads v{EVENT_VERSION})"
        )
    for key in ("type", "job_id", "trial", "ts", "data"):
        if key not in event:
            raise ValueError(f"event is missing key {key!r}")
    type_ = event["type"]
    if type_ not in _DATA_KEYS:
        raise ValueError(f"unknown event type {type_!r}; known: {sorted(EVENT_TYPES)}")
    check_job_id(event["job_id"])
    trial = event["trial"]
    if type_ in TRIAL_EVENT_TYPES:
        check_trial_number(trial)
    elif trial is not None:
        raise ValueError(f"{type_} is a job event: trial must be None, got {trial!r}")
    ts = event["ts"]
    if not isinstance(ts, int | float) or isinstance(ts, bool):
        raise ValueError(f"event ts must be a number, got {ts!r}")
    data = event["data"]
    if not isinstance(data, Mapping):
        raise ValueError(f"event data must be an object, got {type(data).__name__}")
    required, optional = _DATA_KEYS[type_]
    missing = sorted(required - data.keys())
    if missing:
        raise ValueError(f"{type_} event is missing data key {missing[0]!r}")
    unknown = sorted(data.keys() - required - optional)
    if strict and unknown:
        raise ValueError(f"{type_} event has unknown data key {unknown[0]!r}")
    for key in ("result", "counts", "metrics", "params"):
        if key in required and not isinstance(data[key], Mapping):
            raise ValueError(f"{type_} data key {key!r} must be an object")
