"""What a GPU worker does with one trial: claim it, train it, upload, report.

Idempotent by (job, trial number): a re-delivered task for a trial that is
finished, abandoned or held by a live worker does nothing. The worker talks
only to the control store, the event bus and the artifact store — never the
database. TensorFlow is imported inside, i.e. in the pool child, never before
fork. On a worker that is shutting down the trial is handed back (`shutdown`).
An error of the trial's own (`failures`) is reported as its result, ``failed``;
an infrastructure error propagates to `gpu_worker.tasks`, which reports it lost.
"""

from __future__ import annotations

import gc
import logging
import os
import socket
import tempfile
import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from celery.exceptions import Reject

from gpu_worker import shutdown
from gpu_worker.failures import classify
from gpu_worker.heartbeat import Heartbeat
from onegin.artifacts import put_tree, trial_prefix
from onegin.control import ClaimOutcome, StopPoller
from onegin.errors import ConfigError, TrialCancelled
from onegin.events import make_event, progress_event
from onegin.hopeless import prune_reason_for_stop
from onegin.logs import log_context
from onegin.progress import Progress
from onegin.services import Services
from onegin.trial_message import TrialResult, TrialSpec

log = logging.getLogger(__name__)
Trainer = Callable[[TrialSpec, Path, Any], TrialResult]  # (spec, out_dir, hooks)
TAKEOVER_FACTOR = 2  # heartbeat timeouts without a beat before another worker may claim


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_trial(job_id: str, number: int, spec_data: Mapping[str, Any], services: Services,
              trainer: Trainer | None = None, *,
              shutting_down: Callable[[], bool] = shutdown.requested) -> dict[str, Any]:
    """Train one trial unless it is finished, held by a live worker, or cancelled.

    ``trainer`` defaults to the real `train_trial`; the orchestration benchmark
    passes a fixed-duration sleep in its place. ``shutting_down`` says whether
    this worker is stopping (tests inject it); then a trial not yet claimed is
    rejected back to the queue, and a running one finishes within
    ``shutdown_grace`` or is handed back.
    """
    with log_context(job_id=job_id, trial=number), shutdown.sigterm_hands_back():
        try:
            return _run(job_id, number, spec_data, services, trainer, shutting_down)
        except Reject:
            raise  # back to the queue, untouched (a stopping worker)
        except Exception as exc:
            _report_lost(job_id, number, services, exc)
            raise


def _report_lost(job_id: str, number: int, services: Services, exc: Exception) -> None:
    """Tell the orchestrator at once, rather than after heartbeat_timeout, to re-run it.

    Only infrastructure errors get here: the trial's own are its result (`_failed`).
    """
    log.error("trial lost to an infrastructure error", exc_info=exc)
    try:
        services.events.publish(make_event("trial_finished", job_id, trial=number,
                                           status="error", result={},
                                           error=classify(exc).message))
    except Exception:  # the event bus is the trouble: the heartbeat timeout tells instead
        log.exception("could not report the lost trial")


def _run(job_id: str, number: int, spec_data: Mapping[str, Any], services: Services,
         trainer: Trainer | None, shutting_down: Callable[[], bool]) -> dict[str, Any]:
    control, events = services.control, services.events
    if control.stop_reason(job_id, number) == "cancel":
        return {"status": "skipped", "reason": "cancelled before start"}
    if shutting_down():
        raise shutdown.WorkerShuttingDown()
    owner = f"{worker_name()}:{uuid.uuid4().hex[:8]}"
    # A re-delivered message may take a dead worker's trial over only well after the
    # orchestrator counts it lost (at heartbeat_timeout) and re-runs it itself: one
    # decision, not a race between the two that either could win.
    outcome = control.claim(job_id, number, owner,
                            ttl=TAKEOVER_FACTOR * services.settings.heartbeat_timeout)
    if outcome is not ClaimOutcome.ACQUIRED:
        log.info("trial is %s elsewhere: nothing to do", outcome.name.lower())
        return {"status": "duplicate", "outcome": outcome.name.lower()}

    try:
        spec = TrialSpec.from_dict(spec_data)
    except ConfigError as exc:  # the same message would be refused again: its own failure
        return _report(job_id, number, services, _failed(exc))
    events.publish(make_event("trial_started", job_id, trial=number, params=dict(spec.params),
                              worker=worker_name()))
    log.info("trial started: %d epochs of %s", spec.epochs, spec.dataset)
    stop = StopPoller(control, job_id, number)
    hand_back = shutdown.HandBack(services.settings.shutdown_grace, shutting_down)

    def report(progress: Progress) -> None:
        hand_back.observe(progress)
        if (progress.phase != "training" or progress.epoch == 0) and hand_back.due():
            raise shutdown.TrialHandedBack()  # at a phase boundary: unwind the trainer
        events.publish(progress_event(job_id, number, progress))

    with Heartbeat(control, job_id, number, owner, services.settings.heartbeat_interval) as beat:
        summary = _train_and_upload(job_id, number, spec, services, report, stop, beat,
                                    hand_back, trainer)
    # Gave up by the orchestrator (lost, re-run elsewhere) or closed by the sweeper (the job
    # ended)? Asked once more after the upload: the heartbeat thread may not have looked since.
    if beat.lost.is_set() or (summary is not None
                              and not control.heartbeat(job_id, number, owner)):
        log.warning("trial abandoned by the orchestrator: result dropped")
        if summary and summary.artifact_prefix:  # a trial that never closed keeps none
            services.artifacts.delete(summary.artifact_prefix)
        return {"status": "abandoned"}
    if summary is None:
        return _hand_back(job_id, number, services)
    return _report(job_id, number, services, summary)


def _report(job_id: str, number: int, services: Services,
            summary: TrialResult) -> dict[str, Any]:
    """The result, kept in the control store (durable) and then announced."""
    message = summary.to_dict()
    services.control.finish(job_id, number, message)
    error: dict[str, Any] = {"error": summary.error} if summary.error else {}
    services.events.publish(make_event("trial_finished", job_id, trial=number,
                                       status=summary.status, result=message, **error))
    log.info("trial %s%s", summary.status,
             f" ({summary.prune_reason})" if summary.prune_reason else
             f": {summary.error}" if summary.error else "")
    return {"status": summary.status}


def _failed(exc: BaseException) -> TrialResult:
    """The summary of a trial that failed by itself; `failures` says it is not infrastructure."""
    failure = classify(exc)
    return TrialResult(status="failed", error=failure.message, cause=failure.cause,
                       worker=worker_name())


def _hand_back(job_id: str, number: int, services: Services) -> dict[str, Any]:
    """Give a stopped trial up: the claim is abandoned first, so a re-delivered message
    finds it finished; the event makes the orchestrator re-run its parameters now
    (without it, the heartbeat timeout would, later)."""
    reason = f"{shutdown.HANDED_BACK} ({worker_name()})"
    services.control.abandon(job_id, number, reason)
    services.events.publish(make_event("trial_finished", job_id, trial=number, status="error",
                                       result={}, error=reason))
    log.warning("trial handed back: the worker is shutting down")
    return {"status": "handed_back"}


def _train_and_upload(job_id: str, number: int, spec: TrialSpec, services: Services,
                      report: Callable[[Progress], None], stop: StopPoller, beat: Heartbeat,
                      hand_back: shutdown.HandBack,
                      trainer: Trainer | None) -> TrialResult | None:
    """The trial's summary, or None when it was handed back (nothing uploaded).

    A pruned trial's summary carries ``prune_reason`` and ``prune_evidence``.
    """
    from gpu_worker.trainer import TrialHooks, train_trial

    train = trainer or train_trial
    hooks = TrialHooks(
        on_progress=report,
        is_cancelled=lambda: beat.lost.is_set() or stop() == "cancel" or hand_back.due(),
        should_prune=lambda: prune_reason_for_stop(stop()),  # "prune" or "too_slow"
    )
    prefix = trial_prefix(job_id, number)
    with tempfile.TemporaryDirectory(prefix=f"onegin-{job_id}-{number}-") as tmp:
        try:
            result = train(spec, Path(tmp), hooks)
            report(Progress("uploading", result.epochs_run or 0, spec.epochs, 1.0))
        except TrialCancelled:
            if hand_back.handed_back and stop.reason != "cancel":
                return None
            return TrialResult(status="cancelled", worker=worker_name())
        except shutdown.TrialHandedBack:
            return None
        except Exception as exc:
            if classify(exc).infrastructure:
                raise  # gpu_worker.tasks reports it: the orchestrator re-runs the trial
            log.info("trial failed", exc_info=True)
            return _failed(exc)
        finally:
            if trainer is None:
                _release_memory()
        put_tree(services.artifacts, Path(tmp), prefix)
    # the history stays in history.json; keeps events and records small
    return replace(result, history=None, artifact_prefix=prefix, worker=worker_name())


def _release_memory() -> None:
    """Give GPU/host memory back between trials (the pool child may also be recycled)."""
    import keras

    keras.backend.clear_session()
    gc.collect()
