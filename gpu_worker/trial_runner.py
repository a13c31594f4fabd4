"""What a GPU worker does with one trial: claim it, train it, upload, report.

Idempotent by (job, trial number): a re-delivered task for a trial that is
finished or held by a live worker does nothing. The worker talks only to the
control store, the event bus and the artifact store — never the database.
TensorFlow is imported inside, i.e. in the pool child, never before fork.
"""

from __future__ import annotations

import gc
import os
import socket
import tempfile
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from gpu_worker.heartbeat import Heartbeat
from gpu_worker.trial_spec import TrialSpec
from onegin.artifacts import put_tree, trial_prefix
from onegin.control import ClaimOutcome, StopPoller
from onegin.errors import TrialCancelled, TrialFailed
from onegin.events import make_event, progress_event
from onegin.progress import Progress
from onegin.scoring import ScoringWeights
from onegin.services import Services

Trainer = Callable[[TrialSpec, Path, Any], Any]  # (spec, out_dir, hooks) -> TrialResult


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def spec_from_dict(data: Mapping[str, Any]) -> TrialSpec:
    values = dict(data)
    values["weights"] = ScoringWeights.from_mapping(values.get("weights"))
    return TrialSpec(**values)


def run_trial(job_id: str, number: int, spec_data: Mapping[str, Any], services: Services,
              trainer: Trainer | None = None) -> dict[str, Any]:
    """Train one trial unless it is finished, held by a live worker, or cancelled.

    ``trainer`` defaults to the real `train_trial`; the orchestration benchmark
    passes a fixed-duration sleep in its place.
    """
    control, events = services.control, services.events
    if control.stop_reason(job_id, number) == "cancel":
        return {"status": "skipped", "reason": "cancelled before start"}
    owner = f"{worker_name()}:{uuid.uuid4().hex[:8]}"
    outcome = control.claim(job_id, number, owner, ttl=services.settings.heartbeat_timeout)
    if outcome is not ClaimOutcome.ACQUIRED:
        return {"status": "duplicate", "outcome": outcome.name.lower()}

    spec = spec_from_dict(spec_data)
    events.publish(make_event("trial_started", job_id, trial=number, params=dict(spec.params),
                              worker=worker_name()))
    stop = StopPoller(control, job_id, number)

    def report(progress: Progress) -> None:
        events.publish(progress_event(job_id, number, progress))

    with Heartbeat(control, job_id, number, owner, services.settings.heartbeat_interval) as beat:
        summary = _train_and_upload(job_id, number, spec, services, report, stop, beat,
                                    trainer)
    if beat.lost.is_set():  # the orchestrator gave this trial up and re-runs it elsewhere
        return {"status": "abandoned"}
    control.finish(job_id, number, summary)
    events.publish(make_event("trial_finished", job_id, trial=number, status=summary["status"],
                              result=summary, **({"error": summary["error"]}
                                                 if summary.get("error") else {})))
    return {"status": summary["status"]}


def _train_and_upload(job_id: str, number: int, spec: TrialSpec, services: Services,
                      report: Any, stop: StopPoller, beat: Heartbeat,
                      trainer: Trainer | None) -> dict[str, Any]:
    from gpu_worker.trainer import TrialHooks, train_trial

    train = trainer or train_trial
    hooks = TrialHooks(
        on_progress=report,
        is_cancelled=lambda: beat.lost.is_set() or stop() == "cancel",
        should_prune=lambda _epoch, _value: stop() == "prune",
    )
    prefix = trial_prefix(job_id, number)
    with tempfile.TemporaryDirectory(prefix=f"onegin-{job_id}-{number}-") as tmp:
        try:
            result = train(spec, Path(tmp), hooks)
        except TrialFailed as exc:
            return {"status": "failed", "error": str(exc), "worker": worker_name()}
        except TrialCancelled:
            return {"status": "cancelled", "worker": worker_name()}
        finally:
            if trainer is None:
                _release_memory()
        report(Progress("uploading", result.epochs_run, spec.epochs, 1.0))
        put_tree(services.artifacts, Path(tmp), prefix)
    summary = result.to_dict()
    summary.pop("history", None)  # stays in history.json; keeps events and records small
    return summary | {"artifact_prefix": prefix, "worker": worker_name()}


def _release_memory() -> None:
    """Give GPU/host memory back between trials (the pool child may also be recycled)."""
    import keras

    keras.backend.clear_session()
    gc.collect()
