"""Run one job to its end: the Optuna study's only writer, keeping `concurrency` trials
in flight on the GPU workers.

One runner per job, so the study has a single writer and the budget is exact. It
is three parts:

- the dispatch loop (`JobRunner`, here): asks the study ahead on threads, sends
  trials into free slots, reads the workers' events (durable, ordered), asks the
  pruner as epochs arrive, and stops at the budget, the time limit or a cancel;
- the write-behind bookkeeping (`orchestrator.write_behind`): telling the study
  and writing the records wait until every freed worker has its next trial;
- recovery (`orchestrator.recovery`): results missed, heartbeats gone stale,
  re-runs within the caps of each failure class, and the failure streak.

Everything it needs survives in the database and the control store, so a restarted
orchestrator, or this one after an outage, picks the job up where it was. It changes
nothing process-wide: the service that runs it (`orchestrator.tasks`) tunes the
interpreter for it.
"""

from __future__ import annotations

import logging
import math
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any, Protocol, TypeVar

import optuna
from optuna.trial import TrialState

from onegin.celery_app import TRAIN_TRIAL
from onegin.control import ClaimOutcome
from onegin.errors import ConfigError, JobBusy, JobHandedOver
from onegin.events import job_progress_data, make_event
from onegin.hopeless import budget_seconds, predicted_too_slow, slow_evidence
from onegin.job_config import OptimizationConfig
from onegin.outages import OutagePastLimit, outage_kind, ride_out, service_names
from onegin.records import InvalidTransition, JobRecord
from onegin.search_space import SearchSpace
from onegin.services import Services
from onegin.statuses import JobStatus, TrialStatus
from onegin.trial_message import TrialResult, TrialSpec
from orchestrator import policy
from orchestrator.ask_pool import AskPool
from orchestrator.best_trial import publish_best
from orchestrator.in_flight import Asked, BestTrial, InFlight, Outcome
from orchestrator.prune_evidence import pruner_evidence
from orchestrator.recovery import HeartbeatStale, NeverStarted, Recovery, ResultMissed
from orchestrator.study import ORIGIN, open_study, owned_storage, study_values, trial_handle
from orchestrator.sweeper import sweep_job
from orchestrator.trial_results import result_fields, stop_fields
from orchestrator.write_behind import WriteBehind

log = logging.getLogger(__name__)
T = TypeVar("T")
ASK_THREADS = 8  # asks at once, at most: a first round of asks is storage round trips
ASK_POLL = 0.005  # seconds between looks for a finished ask while a worker slot is free
MIN_PEERS = 2  # completed trials before a pace is judged against their median
JOB_CLAIM = 1_000_000_000  # the control-store slot that the job's orchestrator holds
WORKER_STOPPED = "lost: its local worker was stopped before it could hand the trial back"


class JobCannotStart(Exception):
    """The job's config, study or continued job could not be loaded: it fails with this."""


def _never() -> bool:
    return False


def now_utc() -> datetime:
    return datetime.now(UTC)


class Dispatcher(Protocol):
    """How trials reach the GPU queue (Celery in production)."""

    def send(self, task_id: str, name: str, kwargs: dict[str, Any]) -> None: ...

    def revoke(self, task_id: str) -> None: ...

    def queue_depth(self) -> int | None:
        """Trials waiting in the GPU queue; None when the broker cannot say."""


@dataclass
class OpenedJob:
    """What the runner loads once the job is its to run (loaded again after an outage)."""

    config: OptimizationConfig
    space: SearchSpace
    study: optuna.Study
    asks: AskPool[Asked]


class JobRunner:
    """Drives one job to its end, sending trials through the dispatcher.

    ``clock`` gives the time every decision uses (heartbeats, time limit, waiting);
    ``stopping`` turns True once this process should hand the job over;
    ``workers_gone`` turns True once every worker the job's trials can be on has
    exited (the embedded `onegin optimize` stopped them), so a trial still in
    flight then has nobody on it.
    """

    def __init__(self, job_id: str, services: Services, dispatcher: Dispatcher, *,
                 poll: float = 0.5, clock: Callable[[], float] = time.time,
                 stopping: Callable[[], bool] = _never,
                 workers_gone: Callable[[], bool] = _never) -> None:
        self.job_id = job_id
        self.services = services
        self.records = services.records
        self.control = services.control
        self.events = services.events
        self.dispatcher = dispatcher
        self.poll = poll
        self.clock = clock
        self.stopping = stopping
        self.workers_gone = workers_gone
        self.owner = f"orchestrator:{uuid.uuid4().hex[:8]}"
        self.write_behind = WriteBehind(self.records, job_id)
        self.recovery = Recovery(job_id, self.control, services.settings, clock)
        self.opened: OpenedJob | None = None  # set by `_start` once the job is ours to run
        self.started_at: float | None = None  # when this runner first opened it (time limit)
        self.in_flight: dict[int, InFlight] = {}
        self.asked_unsent: list[Asked] = []  # more are on their way in the ask pool
        # this runner is the only writer of the job's trials, so it keeps the tallies
        self.budget_spent = 0  # completed and pruned trials
        self.durations: list[float] = []  # seconds of each counted trial, for the ETA
        self.peer_seconds: list[float] = []  # seconds of each completed trial: the pace to keep
        self.best: BestTrial | None = None
        self.cancel_requested = False
        self.failure: str | None = None  # why the job stops as failed (a streak, no workers)
        self.out_of_time = False  # the time limit passed: no more trials are asked
        self.cursor: str | None = None
        self.worker_seen_at = clock()  # when a worker last reported on any trial of the job
        self.waiting: dict[str, Any] | None = None  # as recorded on the job
        self._progress_changed = False
        self._slot_awaits_ask = False  # a slot is free and its trial is still being asked
        self._last_beat = 0.0
        self._last_check = float("-inf")
        settings = services.settings
        self._service_names = service_names(settings.database_url, settings.broker_url,
                                            settings.artifacts_url)

    @property
    def opened_job(self) -> OpenedJob:
        if self.opened is None:
            raise RuntimeError(f"job {self.job_id} is not open")
        return self.opened

    @property
    def config(self) -> OptimizationConfig:
        return self.opened_job.config

    @property
    def study(self) -> optuna.Study:
        return self.opened_job.study

    # ---- lifecycle -------------------------------------------------------
    def run(self) -> JobRecord:
        job = self._ride_out(lambda: self.records.get_job(self.job_id))
        if job.terminal:  # a message for a finished job: make sure it is closed, no more
            self._ending(lambda: sweep_job(self.services, self.job_id, terminal=True))
            return job
        ttl = self.services.settings.heartbeat_timeout
        if self.control.claim(self.job_id, JOB_CLAIM, self.owner, ttl=ttl) is not \
                ClaimOutcome.ACQUIRED:
            raise JobBusy(self.job_id)
        try:
            try:
                job = self._ride_out(self._reload)  # nothing to forget yet: this opens it
                if job.terminal:  # cancelled before it started: nothing was opened
                    self.control.finish(self.job_id, JOB_CLAIM, {"status": job.status})
                    return job
                self._loop()
            finally:
                self._close_study()
            return self._ending(self._finalize)
        except (JobBusy, JobHandedOver):
            raise  # another orchestrator finishes the job, not us
        except JobCannotStart as exc:
            log.error("job %s cannot start: %s", self.job_id, exc)
            return self._ending(partial(self._end, JobStatus.FAILED,
                                        error=f"the job could not start: {exc}"))
        except OutagePastLimit as exc:
            log.error("job %s fails: %s", self.job_id, exc)
            return self._ending(partial(self._end, JobStatus.FAILED, error=str(exc)))
        except Exception as exc:
            log.exception("job %s failed", self.job_id)
            try:
                self.write_behind.write_all()  # record what did finish
            except Exception:
                log.exception("job %s: pending record writes failed too", self.job_id)
            return self._ending(partial(self._end, JobStatus.FAILED,
                                        error=f"orchestrator error: {exc!r}"))

    # ---- outages ---------------------------------------------------------
    def _loop(self) -> None:
        """Step until the job is done, riding out outages of the services it needs.

        A turn that fails because a service is unreachable is not repeated: once the
        services answer again, the runner resumes from the records, the study and the
        control store, exactly as a restarted orchestrator would (`_reload`). The
        outage counts from the start of the turn that first failed; a turn that goes
        through ends it. Past ``outage_limit`` the job fails (`OutagePastLimit`).
        """
        limit = self.services.settings.outage_limit
        since: float | None = None
        while True:
            started = time.monotonic()
            try:
                if self._finished():
                    return
                self._step()
                if since is not None:
                    log.info("job %s: resumed after %.1f s of outage", self.job_id,
                             started - since)
                since = None
            except Exception as exc:
                kind = outage_kind(exc)
                if kind is None:
                    raise
                since = started if since is None else since
                if time.monotonic() - since >= limit:
                    raise OutagePastLimit(self._service_names[kind], limit) from exc
                log.warning("job %s: %s unreachable (%s); riding it out for up to %g s",
                            self.job_id, self._service_names[kind], exc, limit)
                if self._ride_out(self._reload, since=since).terminal:
                    raise JobBusy(self.job_id) from exc  # ended elsewhere meanwhile

    def _ride_out(self, unit: Callable[[], T], *, since: float | None = None) -> T:
        """``unit()``, retried through an outage of up to ``outage_limit`` seconds."""
        return ride_out(unit, limit=self.services.settings.outage_limit, since=since,
                        names=self._service_names, on_wait=self._keep_claim)

    def _ending(self, end: Callable[[], T]) -> T:
        """Record the job's end however long the services take to come back: a job left
        `running` with nobody on it is worse than a late ending. Safe to repeat: a job
        may be set to the status it has. A shutdown meanwhile hands the job over."""
        return ride_out(end, limit=math.inf, names=self._service_names,
                        on_wait=self._keep_claim)

    def _keep_claim(self) -> None:
        """While waiting out an outage: keep the job's claim, and hand over on shutdown."""
        if self.stopping():
            self.control.release(self.job_id, JOB_CLAIM, self.owner)
            raise JobHandedOver(self.job_id)
        try:
            self.control.heartbeat(self.job_id, JOB_CLAIM, self.owner)
        except Exception as exc:  # Redis may be what is down
            log.debug("job %s: claim not refreshed: %s", self.job_id, exc)

    def _reload(self) -> JobRecord:
        """Open the job, or after an outage open it again: make the pending writes that
        can still be made, forget what this runner held in memory, then load the records,
        the study and the control store and adopt the trials in flight, as a restarted
        orchestrator does."""
        self.write_behind.write_through_outage()
        self._close_study()
        self.in_flight.clear()
        self.asked_unsent.clear()
        self.write_behind.forget()
        self.cursor = None  # events are replayed; handling one again changes nothing
        self._slot_awaits_ask = False
        self._progress_changed = True
        if not self.control.heartbeat(self.job_id, JOB_CLAIM, self.owner):
            raise JobBusy(self.job_id)  # taken over while the services were away
        job = self._start(self.records.get_job(self.job_id))
        if not job.terminal:
            self.recovery.restart_watch()
            self._resume()
        return job

    def _close_study(self) -> None:
        """Stop the ask threads (asks under way end first: their trials are adopted) and
        release the study's database connections."""
        if self.opened is not None:
            self.opened.asks.close()
            owned_storage(self.opened.study).close()

    def _start(self, job: JobRecord) -> JobRecord:
        """Take the job (queued -> running) and load what it needs; `JobCannotStart` names
        what could not be loaded. The study is opened only once the job is ours to run,
        so a job cancelled while queued never gets one."""
        if job.status == JobStatus.QUEUED:
            try:
                job = self.records.update_job(self.job_id, status=JobStatus.RUNNING,
                                              started_at=now_utc())
                self._publish_status(JobStatus.RUNNING)
            except InvalidTransition:  # cancelled while it waited in the queue
                job = self.records.get_job(self.job_id)
        if job.terminal:
            return job
        try:
            config = OptimizationConfig.from_dict(job.config)
            space = config.space()
            earlier = (self.records.list_trials(config.continue_from, limit=1_000_000)[0]
                       if config.continue_from else [])
            study = open_study(self.job_id, config, self.services.settings.database_url,
                               earlier)
        except Exception as exc:
            if outage_kind(exc) is not None:
                raise  # not the job's fault: ridden out, then opened again
            raise JobCannotStart(str(exc) or repr(exc)) from exc
        self.opened = OpenedJob(config, space, study, AskPool(
            self._ask, threads=min(config.concurrency, ASK_THREADS)))
        if self.started_at is None:  # kept when reopened
            self.started_at = self.clock()
        self.cancel_requested = job.status == JobStatus.CANCELLING
        self.waiting = job.waiting
        if job.best_score is not None and job.best_trial_number is not None:
            self.best = BestTrial(job.best_score, job.best_trial_number, job.best_accuracy,
                                  self.records.get_trial(self.job_id,
                                                         job.best_trial_number).health_score)
        return job

    def _resume(self) -> None:
        """Adopt trials left RUNNING by a previous orchestrator; re-send them (idempotent).

        Records still open for trials the study already settled (a crash between
        the two writes) are closed first, as the sweeper would.
        """
        sweep_job(self.services, self.job_id, terminal=False, study=self.study)
        trials, _ = self.records.list_trials(self.job_id, limit=1_000_000)
        counts = Counter(t.status for t in trials)
        self.budget_spent = sum(counts[s] for s in policy.COUNTED)
        self.recovery.restore(trials)
        timed = [(t, (t.finished_at - t.started_at).total_seconds()) for t in trials
                 if t.status in policy.COUNTED and t.started_at and t.finished_at]
        self.durations = [seconds for _, seconds in timed]
        self.peer_seconds = [
            budget_seconds(seconds, (t.metrics or {}).get("epochs_run"), self.config.epochs)
            for t, seconds in timed if t.status == TrialStatus.COMPLETED]
        recorded = {t.number for t in trials}
        for frozen in self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            if frozen.number not in recorded:  # asked ahead, never sent (or not recorded)
                self.asked_unsent.append(self._suggest(trial_handle(self.study, frozen)))
                continue
            params = self.opened_job.space.from_study(frozen.params)
            self.in_flight[frozen.number] = InFlight(
                trial_handle(self.study, frozen), params, sent_at=self.clock(),
                reported=dict(frozen.intermediate_values),
            )
            result = self.control.result(self.job_id, frozen.number)
            if result is not None:
                self._on_result(frozen.number, result)
            else:
                self._dispatch(frozen.number, params)
        if self.cancel_requested:
            self._cancel()
        elif message := self.recovery.streak_failure():
            self._give_up(message)  # it ended just before the last orchestrator could stop

    # ---- the dispatch loop -----------------------------------------------
    def _step(self) -> None:
        """One turn: events in, checks, free slots filled, then ONE pending write.

        When many workers finish together, each freed worker gets its next trial
        first and the bookkeeping follows in order, one write per turn, between
        looks for events. Prune decisions do not wait: they are taken as epochs arrive.
        """
        events, self.cursor = self.events.read(self.job_id, self.cursor,
                                               timeout=self._read_timeout())
        for event in events:
            self._on_event(event)
        now = self.clock()
        if now - self._last_check >= self.poll:  # periodic checks: not once per event batch
            self._last_check = now
            if self.stopping():
                self._hand_over()
            if not self.cancel_requested and \
                    self.records.get_job(self.job_id).status == JobStatus.CANCELLING:
                self._cancel()
            if now - self._last_beat >= self.services.settings.heartbeat_interval:
                # at the workers' own pace: a trial is lost only after heartbeat_timeout
                self._last_beat = now
                self._beat_as_orchestrator()
                self._recover_trials()
                self._check_waiting(now)
        self._fill_slots()  # dispatch first: bookkeeping can wait, idle workers cannot
        if self.write_behind:
            self.write_behind.write_next()  # only once done: a write cut short stays queued
        elif self._progress_changed:  # once the burst is settled: one count, one event
            self._publish_progress()

    def _read_timeout(self) -> float:
        """No wait with results to settle; a moment when a free slot waits for its ask."""
        if self.write_behind:
            return 0.0
        return ASK_POLL if self._slot_awaits_ask else self.poll

    def _finished(self) -> bool:
        if self.in_flight or self.write_behind:
            return False
        done = (self._winding_down() or self.out_of_time
                or self.budget_spent >= self.config.trials)
        if done:
            self._drop_asked_unsent()
        return done

    def _winding_down(self) -> bool:
        """Cancelled or failed: no trial is asked, sent or re-run any more."""
        return self.cancel_requested or self.failure is not None

    def _accepting(self) -> bool:
        """Whether trials may still be sent. The time limit counts only once a trial has
        ended, as Optuna's ``timeout`` does: a start slower than the limit (a busy
        machine, a big study to load) would otherwise end the job with nothing trained."""
        time_limit = self.config.time_limit
        if time_limit and self.started_at is not None and self.budget_spent > 0 and \
                self.clock() - self.started_at > time_limit:
            self.out_of_time = True
        return not (self._winding_down() or self.out_of_time)

    def _fill_slots(self, ask_ahead: bool = True) -> None:
        """Send trials into free slots, asked-ahead ones first; then ask ahead for the next.

        Asks run on the pool's threads while the workers are busy; the runner never
        waits for one: a free slot whose ask is not back yet makes the loop poll
        events briefly (`_read_timeout`) and fill it on the next step.
        """
        accepting = self._accepting()
        asks, config = self.opened_job.asks, self.config
        self.asked_unsent.extend(asks.collect())
        slots = policy.slots_to_fill(self.budget_spent, len(self.in_flight), config.trials,
                                     config.concurrency, accepting=accepting)
        asks.request(slots - len(self.asked_unsent) - asks.pending)
        sent = min(slots, len(self.asked_unsent))
        for _ in range(sent):
            self._send(self._next_to_send())
        self._slot_awaits_ask = sent < slots
        # asking ahead waits for a burst's bookkeeping, which it would slow (GIL, CPU)
        if accepting and ask_ahead and not self.write_behind:
            asks.request(policy.asks_ahead(
                self.budget_spent, len(self.in_flight), len(self.asked_unsent) + asks.pending,
                config.trials, config.concurrency))

    def _next_to_send(self) -> Asked:
        """A re-run goes ahead of trials asked earlier."""
        index = next((i for i, a in enumerate(self.asked_unsent) if a.retry_of is not None), 0)
        return self.asked_unsent.pop(index)

    def _ask(self) -> Asked:
        """One ask (on a pool thread); Optuna hands out an enqueued re-run first."""
        return self._suggest(self.study.ask())

    def _suggest(self, trial: optuna.Trial) -> Asked:
        """The trial's params, written in one go; those it has are kept (a killed runner's
        ask, which wrote none of them, is completed by the runner that resumes the job)."""
        space = self.opened_job.space
        with owned_storage(self.study).params_written_together(trial._trial_id):
            params = space.suggest(trial)
        return Asked(trial, space.resolve(params), trial.user_attrs.get("retry_of"),
                     trial.user_attrs.get(ORIGIN))

    def _send(self, asked: Asked) -> None:
        number = asked.trial.number
        self.in_flight[number] = InFlight(asked.trial, asked.params, sent_at=self.clock())
        self.recovery.note_sent(number, asked.retry_of)
        self._dispatch(number, asked.params)  # first: a resumed runner re-sends unrecorded ones
        self.write_behind.record_later(
            number, status="queued", params=asked.params, queued_at=now_utc(),
            retry_of=asked.retry_of, origin=asked.origin, task_id=self._task_id(number))

    def _drop_asked_unsent(self) -> None:
        """Asked trials that will never run: failed in the study, cancelled in the records."""
        self.write_behind.write_all()
        self.asked_unsent.extend(self.opened_job.asks.drain())
        while self.asked_unsent:
            asked = self.asked_unsent.pop(0)
            self.study.tell(asked.trial.number, state=TrialState.FAIL)
            self.records.upsert_trial(self.job_id, asked.trial.number,
                                      status=TrialStatus.CANCELLED, params=asked.params,
                                      finished_at=now_utc(),
                                      error="not started: the job stopped asking for trials")

    def _task_id(self, number: int) -> str:
        return f"{self.job_id}-{number}"

    def _dispatch(self, number: int, params: dict[str, Any]) -> None:
        self.in_flight[number].dispatched_at = self.clock()
        spec = TrialSpec.for_trial(self.config, number, params,
                                   plot_threshold=self.best.score if self.best else None,
                                   data_dir=self.services.settings.data_dir)
        self.dispatcher.send(self._task_id(number), TRAIN_TRIAL,
                             {"job_id": self.job_id, "number": number, "spec": spec.to_dict()})

    # ---- events ----------------------------------------------------------
    def _on_event(self, event: Mapping[str, Any]) -> None:
        number, data = event.get("trial"), event.get("data", {})
        if number is None or number not in self.in_flight:
            return  # of a trial already settled: a replay, a duplicate, a late result
        self.worker_seen_at = self.clock()
        kind = event["type"]
        if kind == "trial_started":
            started = float(event.get("ts") or self.clock())
            self.in_flight[number].started_at = started
            self.write_behind.record_later(number, status=TrialStatus.RUNNING,
                                           worker=data.get("worker"),
                                           started_at=datetime.fromtimestamp(started, UTC))
        elif kind == "trial_progress":
            self.in_flight[number].progress = dict(data)
            self._check_pace(number, event, data)
            self._on_epoch(number, data)
        elif kind == "trial_finished":
            if data.get("status") == "error":
                self._trial_lost(number, data.get("error") or "worker error")
            else:
                self._on_result(number, data.get("result") or {"status": data.get("status")})

    def _on_epoch(self, number: int, data: Mapping[str, Any]) -> None:
        value = (data.get("metrics") or {}).get("val_accuracy")
        if data.get("phase") != "training" or data.get("epoch_fraction") != 1.0 or value is None:
            return
        flight = self.in_flight[number]
        step = int(data["epoch"])
        if step in flight.reported:
            return  # replayed after a restart
        flight.reported[step] = float(value)
        intermediate = {str(k): v for k, v in flight.reported.items()}
        if self.config.objective == "pareto":
            pass  # a multi-objective study takes no intermediate values: the record keeps them
        elif self.config.pruner == "none" or step >= self.config.epochs:
            # nobody waits on it (after the last epoch nothing is left to save): bookkeeping
            self.write_behind.later(partial(flight.trial.report, float(value), step))
        else:  # the pruner decides now, while the trial trains on
            flight.trial.report(float(value), step)
            if flight.stopped_by is None and flight.trial.should_prune():
                flight.stopped_by = pruner_evidence(self.study, number)
                self.control.request_stop(self.job_id, number, "prune")
        self.write_behind.record_later(number, intermediate=intermediate)

    def _check_pace(self, number: int, event: Mapping[str, Any],
                    data: Mapping[str, Any]) -> None:
        """Stop a trial whose pace predicts far more than the median completed trial."""
        flight = self.in_flight[number]
        if (not self.config.hopeless_stop or flight.stopped_by is not None
                or flight.started_at is None or data.get("phase") != "training"
                or len(self.peer_seconds) < MIN_PEERS):
            return
        now = float(event.get("ts") or self.clock())
        if flight.training_at is None:
            flight.training_at = now
        elapsed, startup = now - flight.started_at, flight.training_at - flight.started_at
        fraction = float(data.get("fraction") or 0.0)
        median = statistics.median(self.peer_seconds)
        if predicted_too_slow(elapsed, fraction, median, startup=startup):
            flight.stopped_by = slow_evidence(elapsed, fraction, median, startup=startup)
            self.control.request_stop(self.job_id, number, "too_slow")

    def _on_result(self, number: int, message: Mapping[str, Any]) -> None:
        try:
            result = TrialResult.from_dict(message)
        except ConfigError as exc:  # a broken worker, or one of another version: re-run it
            self._trial_lost(number, f"lost: its worker's result could not be read ({exc})")
            return
        status = result.status
        flight = self.in_flight.pop(number)
        self.budget_spent += int(status in policy.COUNTED)
        again = status == TrialStatus.FAILED and self._runs_again(status, number)
        if again:
            self._enqueue_rerun(number, flight.params)
        self._note_end(number, status, result.error)
        if status in policy.COUNTED and flight.started_at is not None:
            seconds = max(0.0, self.clock() - flight.started_at)
            self.durations.append(seconds)
            if status == TrialStatus.COMPLETED:  # an early-stopped one at its budget's pace
                self.peer_seconds.append(
                    budget_seconds(seconds, result.epochs_run, self.config.epochs))
        if result.prune_reason in ("pruner", "too_slow") and flight.stopped_by is not None:
            # what this runner judged by (the pruner's threshold, the pace it saw), beside
            # where the worker stopped
            result = replace(result, prune_evidence=(result.prune_evidence or {})
                             | flight.stopped_by)
        self._fill_slots(ask_ahead=False)  # the freed worker first, the bookkeeping after
        stopped = {} if result.trained else stop_fields(
            flight.progress, cause=result.cause if status == TrialStatus.FAILED else None,
            rerun=again)
        self.write_behind.later(partial(self._tell_and_record,
                                        Outcome(number, status, result, now_utc(), stopped)))

    def _tell_and_record(self, outcome: Outcome) -> None:
        """Tell the study and write the records for a result whose worker is busy again."""
        number, status, result = outcome.number, outcome.status, outcome.result
        fields: dict[str, Any] = {"status": status, "finished_at": outcome.finished_at,
                                  "error": result.error}
        # skip_if_finished: told already when a write after it was cut short by an outage
        if status == TrialStatus.COMPLETED:
            self.study.tell(number, self._study_values(result), skip_if_finished=True)
            fields |= result_fields(result)
        elif status == TrialStatus.PRUNED:
            self.study.tell(number, state=TrialState.PRUNED, skip_if_finished=True)
            fields |= result_fields(result)
        else:
            self.study.tell(number, state=TrialState.FAIL, skip_if_finished=True)
            fields |= outcome.stopped
        # with any fields still queued, before the job's best
        self.write_behind.write_record(number, **fields)
        if status == TrialStatus.COMPLETED:
            self._update_best(BestTrial(result.score, number, result.val_accuracy,
                                        result.health_score))
        self._progress_changed = True

    def _study_values(self, result: TrialResult) -> float | list[float]:
        """A completed trial's value for the study: its total score as the worker scored
        it, or in pareto mode its (accuracy, health)."""
        if self.config.objective == "pareto":
            return study_values(self.config, result.val_accuracy, result.health)
        return result.score

    # ---- recovery --------------------------------------------------------
    def _recover_trials(self) -> None:
        """Act on what recovery finds among the trials in flight."""
        for found in self.recovery.find_trouble(self.in_flight):
            if found.number not in self.in_flight:
                continue  # settled by an earlier finding (a streak stopped the job)
            if isinstance(found, ResultMissed):
                self._on_result(found.number, found.message)
            elif isinstance(found, HeartbeatStale):
                self._trial_lost(found.number, found.reason)
            elif isinstance(found, NeverStarted):
                self._dispatch(found.number, self.in_flight[found.number].params)

    def _trial_lost(self, number: int, reason: str) -> None:
        """The infrastructure lost this trial: re-run its parameters, up to ``lost_retries``
        times; one loss more fails it for good (``failed``, counted in the streak)."""
        self.write_behind.write_all()
        flight = self.in_flight.pop(number)
        self.control.abandon(self.job_id, number, reason)
        self.study.tell(number, state=TrialState.FAIL)
        winding_down = self._winding_down()
        again = self._runs_again(TrialStatus.LOST, number)
        status, error = TrialStatus.LOST, reason
        if not (again or winding_down):
            status, error = TrialStatus.FAILED, self.recovery.lost_for_good(reason)
        self.records.upsert_trial(self.job_id, number, status=status, error=error,
                                  finished_at=now_utc(),
                                  **stop_fields(flight.progress, cause="lost",
                                                infrastructure=True, rerun=again))
        if again:  # the next ask returns it; it is sent before the others
            self._enqueue_rerun(number, flight.params)
            self.opened_job.asks.request(1)  # keeps spent + in flight + asked within the budget
        self._note_end(number, status, error)
        self._progress_changed = True

    def _runs_again(self, status: str, number: int) -> bool:
        return not self._winding_down() and self.recovery.runs_again(status, number)

    def _enqueue_rerun(self, number: int, params: dict[str, Any]) -> None:
        self.study.enqueue_trial(self.opened_job.space.to_study(params),
                                 user_attrs={"retry_of": number, ORIGIN: "retry"},
                                 skip_if_exists=False)

    def _note_end(self, number: int, status: str, error: str | None) -> None:
        """Keep how a trial ended; stop the job once too many in a row failed."""
        message = self.recovery.note_end(number, status, error)
        if message is not None and not self._winding_down():
            log.error("job %s: %s", self.job_id, message)
            self._give_up(message)

    # ---- cancel, give up, hand over ----------------------------------------
    def _cancel(self) -> None:
        self.cancel_requested = True
        self._stop_trials()
        self._publish_status(JobStatus.CANCELLING)

    def _give_up(self, reason: str) -> None:
        """Stop the job as failed with ``reason``: no more trials, the running ones stopped."""
        self.failure = reason
        self._stop_trials()

    def _stop_trials(self) -> None:
        """Stop every trial: unsent and unstarted ones at once, running ones within a batch
        (the stop flag; their results come back ``cancelled``)."""
        self.write_behind.write_all()
        self.control.request_stop(self.job_id, None, "cancel")
        self._drop_asked_unsent()
        for number, flight in list(self.in_flight.items()):
            if not flight.started:
                self.dispatcher.revoke(self._task_id(number))
                self.in_flight.pop(number)
                self.study.tell(number, state=TrialState.FAIL)
                self.records.upsert_trial(self.job_id, number, status=TrialStatus.CANCELLED,
                                          finished_at=now_utc())

    def _check_waiting(self, now: float) -> None:
        """Say when no worker takes the job's trials (with the GPU queue's depth), and fail
        the job once that lasts past ``worker_wait_timeout``."""
        unstarted = [f.sent_at for f in self.in_flight.values() if not f.started]
        started = any(f.started for f in self.in_flight.values())
        since = policy.waiting_since(unstarted, started, self.worker_seen_at)
        interval = self.services.settings.heartbeat_interval
        timeout = self.services.settings.worker_wait_timeout
        waiting = None
        if policy.is_waiting(since, now, interval):
            assert since is not None
            waiting = {"since": datetime.fromtimestamp(since, UTC).isoformat(),
                       "gpu_queue_depth": self.dispatcher.queue_depth()}
        if policy.wait_timed_out(since, now, timeout):
            depth = (waiting or {}).get("gpu_queue_depth")
            self._give_up(f"no worker took its trials within {timeout:g}s"
                          + (f" ({depth} trial(s) waiting in the GPU queue)"
                             if depth is not None else ""))
            waiting = None
        if waiting == self.waiting:
            return
        if waiting is not None and self.waiting is None:
            log.warning("job %s is waiting for workers: %s", self.job_id, waiting)
        self.waiting = waiting
        self.records.update_job(self.job_id, waiting=waiting)
        self._publish_status(JobStatus.CANCELLING if self.cancel_requested else JobStatus.RUNNING,
                             waiting=waiting)

    def _hand_over(self) -> None:
        """Stop here and let the next orchestrator resume at once: trials keep training.

        Pending writes are done and the job's claim released, so the next one
        claims it without waiting for the heartbeat timeout; everything else it
        needs (the study, the records, the control store, the events) is shared.
        Events already in are handled first: when the local GPU workers were
        stopped before this (`onegin web`, `onegin optimize`), their hand-backs
        are recorded now; a trial whose worker is gone without one is lost now,
        not at the heartbeat timeout. So no trial is left `running` with nobody
        on it. A cancelled job with nothing left in flight is not handed over:
        the loop ends it `cancelled`.
        """
        events, self.cursor = self.events.read(self.job_id, self.cursor)
        for event in events:
            self._on_event(event)
        if self.workers_gone():  # one that had not started stays queued in the broker
            for number in [n for n, flight in self.in_flight.items() if flight.started]:
                self._trial_lost(number, WORKER_STOPPED)
        self.write_behind.write_all()
        if self.cancel_requested and not self.in_flight:
            return
        self.control.release(self.job_id, JOB_CLAIM, self.owner)
        log.info("job %s handed over: this orchestrator is stopping", self.job_id)
        raise JobHandedOver(self.job_id)

    # ---- the job's own record and events ---------------------------------
    def _beat_as_orchestrator(self) -> None:
        if not self.control.heartbeat(self.job_id, JOB_CLAIM, self.owner):
            raise JobBusy(self.job_id)
        self.records.update_job(self.job_id, orchestrator_heartbeat_at=now_utc())

    def _update_best(self, candidate: BestTrial) -> None:
        """Keep ``candidate`` as the job's best if it ranks above the best so far
        (`onegin.pareto.best_key`: in pareto mode, the best is then on the front)."""
        if self.best is not None and candidate.key <= self.best.key:
            return
        self.best = candidate
        self.records.update_job(self.job_id, best_trial_number=candidate.number,
                                best_score=candidate.score, best_accuracy=candidate.accuracy)

    def _publish_status(self, status: str, error: str | None = None, *,
                        waiting: Any = ...) -> None:
        """``waiting``: the job's waiting state when it changed (None: it stopped waiting)."""
        extra: dict[str, Any] = {"error": error} if error else {}
        if waiting is not ...:
            extra["waiting"] = waiting
        self.events.publish(make_event("job_status", self.job_id, status=status, **extra))

    def _publish_progress(self) -> None:
        self._progress_changed = False
        best = self.best
        # before the job could start: no budget yet
        budget = self.opened.config.trials if self.opened else 0
        concurrency = self.opened.config.concurrency if self.opened else 1
        self.events.publish(make_event("job_progress", self.job_id, **job_progress_data(
            self.records.trial_counts(self.job_id), budget, self.durations, concurrency,
            best.accuracy if best else None, best.score if best else None)))

    # ---- the end ---------------------------------------------------------
    def _close_trials(self) -> None:
        """No trial of the job stays open: workers told to stop, the ask threads done (no
        trial is asked after this), then the sweeper closes the rest in the study and the
        records and removes the uploads of trials that never closed."""
        if self.in_flight:
            try:
                self.control.request_stop(self.job_id, None, "cancel")
                for number, flight in self.in_flight.items():
                    if not flight.started:
                        self.dispatcher.revoke(self._task_id(number))
            except Exception:  # the sweeper's abandon reaches the workers too
                log.exception("job %s: could not tell the workers to stop", self.job_id)
        if self.opened is not None:
            self.opened.asks.close()
        sweep_job(self.services, self.job_id, terminal=True)

    def _finalize(self) -> JobRecord:
        status = policy.final_job_status(self.cancel_requested,
                                         self.records.trial_counts(self.job_id), self.failure)
        job = self.records.get_job(self.job_id)
        if job.best_trial_number is not None:  # past the outage limit: the job fails
            self._ride_out(partial(publish_best, self.services, self.config, job))
        error = None if status != JobStatus.FAILED else self.failure or "no trial completed"
        return self._end(status, error=error)

    def _end(self, status: str, error: str | None = None) -> JobRecord:
        """Every way a job ends: its trials are closed everywhere, then the job."""
        self._close_trials()
        job = self.records.update_job(self.job_id, status=status, finished_at=now_utc(),
                                      error=error)
        self._publish_progress()
        self.events.publish(make_event(
            "job_finished", self.job_id, status=status, best_trial=job.best_trial_number,
            best_score=job.best_score, best_accuracy=job.best_accuracy))
        self.control.finish(self.job_id, JOB_CLAIM, {"status": status})
        return job
