"""Run one job: the Optuna study's only writer, keeping `concurrency` trials in flight.

The loop reads worker events (durable, ordered), records intermediate values and
asks the pruner, tells results back, mirrors every trial into the records, and
re-runs trials whose worker vanished. Everything it needs survives in the
database and the control store, so a restarted orchestrator picks up the job.
"""

from __future__ import annotations

import io
import logging
import math
import statistics
import sys
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any, Protocol, TypeVar

import optuna
import yaml
from optuna.trial import TrialState

from onegin.artifacts import best_prefix, trial_prefix
from onegin.celery_app import TRAIN_TRIAL
from onegin.control import ClaimOutcome
from onegin.errors import ConfigError, JobBusy, JobHandedOver
from onegin.events import job_progress_data, make_event
from onegin.gil import hand_over_often
from onegin.hopeless import predicted_too_slow, slow_evidence
from onegin.job_config import OptimizationConfig
from onegin.outages import OutagePastLimit, outage_kind, ride_out, service_names
from onegin.records import InvalidTransition, JobRecord
from onegin.services import Services
from onegin.statuses import JobStatus, TrialStatus
from onegin.trial_message import TrialResult, TrialSpec
from orchestrator import policy
from orchestrator.ask_pool import AskPool
from orchestrator.study import ORIGIN, open_study, owned_storage, trial_handle
from orchestrator.sweeper import sweep_job
from orchestrator.trial_results import result_fields

log = logging.getLogger(__name__)
T = TypeVar("T")
ASK_THREADS = 8  # asks at once, at most: a first round of asks is storage round trips
ASK_POLL = 0.005  # seconds between looks for a finished ask while a worker slot is free
MIN_PEERS = 2  # completed trials before a pace is judged against their median
JOB_CLAIM = 1_000_000_000  # the control-store slot that the job's orchestrator holds
BEST_PARAMS_FILE = "best_hyperparameters.yaml"
WORKER_STOPPED = "lost: its local worker was stopped before it could hand the trial back"


class JobCannotStart(Exception):
    """The job's config, study or continued job could not be loaded: it fails with this."""


def _never() -> bool:
    return False


def now_utc() -> datetime:
    return datetime.now(UTC)


@dataclass
class InFlight:
    trial: optuna.Trial
    params: dict[str, Any]
    sent_at: float  # when it was first sent (a re-send keeps it)
    dispatched_at: float = 0.0
    started_at: float | None = None  # when its worker began (event time)
    reported: dict[int, float] = field(default_factory=dict)  # epoch -> intermediate value
    too_slow: dict[str, Any] | None = None  # the evidence, once this runner stopped it for pace
    training_at: float | None = None  # when its first training progress came (event time)

    @property
    def started(self) -> bool:
        return self.started_at is not None


@dataclass(frozen=True)
class Asked:
    """A trial asked from the study and not yet sent; ``retry_of`` marks a lost trial's re-run."""

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


class Dispatcher(Protocol):
    """How trials reach the GPU queue (Celery in production)."""

    def send(self, task_id: str, name: str, kwargs: dict[str, Any]) -> None: ...

    def revoke(self, task_id: str) -> None: ...

    def queue_depth(self) -> int | None:
        """Trials waiting in the GPU queue; None when the broker cannot say."""


class JobRunner:
    """Drives one job to its end, sending trials through the dispatcher."""

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
        self.stopping = stopping  # True once this process should hand the job over
        # True once every worker the job's trials can be on has exited (the embedded
        # `onegin optimize` stopped them): a trial still in flight then has nobody on it
        self.workers_gone = workers_gone
        self.owner = f"orchestrator:{uuid.uuid4().hex[:8]}"
        self.in_flight: dict[int, InFlight] = {}
        self.cancel_requested = False
        self.failure: str | None = None  # why the job stops as failed (a streak, no workers)
        self.stop_asking = False
        self.cursor: str | None = None
        self.durations: list[float] = []  # seconds of each counted trial, for the ETA
        self.peer_seconds: list[float] = []  # seconds of each completed trial: the pace to keep
        self.ready: list[Asked] = []  # asked, not yet sent; more are on their way in self.asks
        # this runner is the only writer of the job's trials, so it keeps the tallies
        self.counted = 0
        self.streak = 0  # trials failed for good in a row (policy.streak_after)
        self.last_error: str | None = None  # of the last trial failed for good
        self.retry_of: dict[int, int | None] = {}  # trial -> the trial whose parameters it re-runs
        self.ended: dict[int, str] = {}  # trial -> how it ended, for the re-run caps
        self.worker_seen_at = clock()  # when a worker last reported on any trial of the job
        self.waiting: dict[str, Any] | None = None  # as recorded on the job
        self.best: tuple[float, int, float | None] | None = None  # score, trial, accuracy
        self._progress_changed = False
        self._slot_waits = False  # a slot is free and its trial is still being asked
        # study and record writes still to do, oldest first (one per turn, see `_step`)
        self.later: deque[Callable[[], Any]] = deque()
        self._unwritten: dict[int, dict[str, Any]] = {}  # trial -> record fields queued in later
        self._last_beat = 0.0
        self._last_check = float("-inf")
        self._last_reap = self._watching_since = clock()  # see `_reap_lost`
        settings = services.settings
        self._service_names = service_names(settings.database_url, settings.broker_url,
                                            settings.artifacts_url)

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
        # the ask threads run TPE (CPU-bound); this loop mostly waits on Redis and the
        # database and must get the GIL back at once when it wakes
        switch_interval = hand_over_often()
        try:
            try:
                job = self._ride_out(self._reload)  # nothing to forget yet: this opens it
                if job.terminal:  # cancelled before it started: nothing was opened
                    self.control.finish(self.job_id, JOB_CLAIM, {"status": job.status})
                    return job
                self._loop()
            finally:
                self._close_study()
                sys.setswitchinterval(switch_interval)
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
                self._catch_up()  # record what did finish
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
        self._flush_pending()
        self._close_study()
        self.in_flight.clear()
        self.ready.clear()
        self.later.clear()
        self._unwritten.clear()
        self.cursor = None  # events are replayed; handling one again changes nothing
        self._slot_waits = False
        self._progress_changed = True
        if not self.control.heartbeat(self.job_id, JOB_CLAIM, self.owner):
            raise JobBusy(self.job_id)  # taken over while the services were away
        job = self._start(self.records.get_job(self.job_id))
        if not job.terminal:
            self._watching_since = self._last_reap = self.clock()
            self._resume()
        return job

    def _flush_pending(self) -> None:
        """Pending writes survive an outage: each stays queued until it went through.
        One that fails for another reason is dropped: `_reload` rebuilds what it meant
        (a trial's result from the control store, its record from the study)."""
        while self.later:
            try:
                self.later[0]()
            except Exception as exc:
                if outage_kind(exc) is not None:
                    raise  # still away: try again after a wait
                log.warning("job %s: pending write dropped (%r); rebuilt from the records",
                            self.job_id, exc)
            self.later.popleft()

    def _close_study(self) -> None:
        """Stop the ask threads (asks under way end first: their trials are adopted) and
        release the study's database connections."""
        self._close_asks()
        study: optuna.Study | None = getattr(self, "study", None)
        if study is not None:
            owned_storage(study).close()

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
            self.config = OptimizationConfig.from_dict(job.config)
            self.space = self.config.space()
            earlier = (self.records.list_trials(self.config.continue_from,
                                                limit=1_000_000)[0]
                       if self.config.continue_from else [])
            self.study = open_study(self.job_id, self.config,
                                    self.services.settings.database_url, earlier)
        except Exception as exc:
            if outage_kind(exc) is not None:
                raise  # not the job's fault: ridden out, then opened again
            raise JobCannotStart(str(exc) or repr(exc)) from exc
        self.asks = AskPool(self._ask, threads=min(self.config.concurrency, ASK_THREADS))
        self.started_at = getattr(self, "started_at", self.clock())  # kept when reopened
        self.cancel_requested = job.status == JobStatus.CANCELLING
        self.waiting = job.waiting
        if job.best_score is not None and job.best_trial_number is not None:
            self.best = (job.best_score, job.best_trial_number, job.best_accuracy)
        return job

    def _resume(self) -> None:
        """Adopt trials left RUNNING by a previous orchestrator; re-send them (idempotent).

        Records still open for trials the study already settled (a crash between
        the two writes) are closed first, as the sweeper would.
        """
        sweep_job(self.services, self.job_id, terminal=False, study=self.study)
        trials, _ = self.records.list_trials(self.job_id, limit=1_000_000)
        counts = Counter(t.status for t in trials)
        self.counted = sum(counts[s] for s in policy.COUNTED)
        finished = sorted((t for t in trials if t.finished_at is not None),
                          key=lambda t: (t.finished_at, t.number))
        self.streak = policy.streak_of(t.status for t in finished)
        self.last_error = next(
            (t.error for t in reversed(finished) if t.status == TrialStatus.FAILED), None)
        self.retry_of = {t.number: t.retry_of for t in trials}
        self.ended = {t.number: t.status for t in trials if t.terminal}
        timed = [(t.status, (t.finished_at - t.started_at).total_seconds()) for t in trials
                 if t.status in policy.COUNTED and t.started_at and t.finished_at]
        self.durations = [seconds for _, seconds in timed]
        self.peer_seconds = [seconds for status, seconds in timed
                             if status == TrialStatus.COMPLETED]
        recorded = {t.number for t in trials}
        for frozen in self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            if frozen.number not in recorded:  # asked ahead, never sent (or not recorded)
                self.ready.append(self._suggest(trial_handle(self.study, frozen)))
                continue
            params = self.space.from_study(frozen.params)
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
        elif message := policy.streak_failure(
                self.streak, self.services.settings.failure_streak, self.last_error):
            self._give_up(message)  # it ended just before the last orchestrator could stop

    def _step(self) -> None:
        """One turn: events in, checks, free slots filled, then ONE piece of bookkeeping.

        Telling the study and writing records take milliseconds each; when many
        workers finish together, each freed worker gets its next trial first and
        the bookkeeping follows in order, one piece per turn, between looks for
        events. Prune decisions do not wait: they are taken as epochs arrive.
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
                self._beat()
                self._reap_lost()
                self._check_waiting(now)
        self._fill_slots()  # dispatch first: bookkeeping can wait, idle workers cannot
        if self.later:
            self.later[0]()
            self.later.popleft()  # only once done: a write cut short by an outage stays
        elif self._progress_changed:  # once the burst is settled: one count, one event
            self._publish_progress()

    def _read_timeout(self) -> float:
        """No wait with results to settle; a moment when a free slot waits for its ask."""
        if self.later:
            return 0.0
        return ASK_POLL if self._slot_waits else self.poll

    def _finished(self) -> bool:
        if self.in_flight or self.later:
            return False
        done = (self.cancel_requested or self.failure is not None or self.stop_asking
                or self.counted >= self.config.trials)
        if done:
            self._drop_ready()
        return done

    # ---- dispatch --------------------------------------------------------
    def _accepting(self) -> bool:
        if self.config.time_limit and self.clock() - self.started_at > self.config.time_limit:
            self.stop_asking = True
        return not (self.cancel_requested or self.stop_asking or self.failure is not None)

    def _fill_slots(self, ask_ahead: bool = True) -> None:
        """Send trials into free slots, asked-ahead ones first; then ask ahead for the next.

        Asks run on the pool's threads while the workers are busy; the runner never
        waits for one: a free slot whose ask is not back yet makes the loop poll
        events briefly (`_read_timeout`) and fill it on the next step.
        """
        accepting = self._accepting()
        self.ready.extend(self.asks.collect())
        slots = policy.slots_to_fill(self.counted, len(self.in_flight), self.config.trials,
                                     self.config.concurrency, accepting=accepting)
        self.asks.request(slots - len(self.ready) - self.asks.pending)
        sent = min(slots, len(self.ready))
        for _ in range(sent):
            self._send(self._next_ready())
        self._slot_waits = sent < slots
        # asking ahead waits for a burst's bookkeeping, which it would slow (GIL, CPU)
        if accepting and ask_ahead and not self.later:
            self.asks.request(policy.asks_ahead(
                self.counted, len(self.in_flight), len(self.ready) + self.asks.pending,
                self.config.trials, self.config.concurrency))

    def _next_ready(self) -> Asked:
        """A lost trial's re-run goes ahead of trials asked earlier."""
        index = next((i for i, a in enumerate(self.ready) if a.retry_of is not None), 0)
        return self.ready.pop(index)

    def _ask(self) -> Asked:
        """One ask (on a pool thread); Optuna hands out an enqueued re-run first."""
        return self._suggest(self.study.ask())

    def _suggest(self, trial: optuna.Trial) -> Asked:
        """The trial's params, written in one go; those it has are kept (a killed runner's
        ask, which wrote none of them, is completed by the runner that resumes the job)."""
        with owned_storage(self.study).params_written_together(trial._trial_id):
            params = self.space.suggest(trial)
        return Asked(trial, self.space.resolve(params), trial.user_attrs.get("retry_of"),
                     trial.user_attrs.get(ORIGIN))

    def _send(self, asked: Asked) -> None:
        number = asked.trial.number
        self.in_flight[number] = InFlight(asked.trial, asked.params, sent_at=self.clock())
        self.retry_of[number] = asked.retry_of
        self._dispatch(number, asked.params)  # first: a resumed runner re-sends unrecorded ones
        self._record_later(number, status="queued", params=asked.params, queued_at=now_utc(),
                           retry_of=asked.retry_of, origin=asked.origin,
                           task_id=self._task_id(number))

    def _drop_ready(self) -> None:
        """Asked trials that will never run: failed in the study, cancelled in the records."""
        self._catch_up()
        self.ready.extend(self.asks.drain())
        while self.ready:
            asked = self.ready.pop(0)
            self.study.tell(asked.trial.number, state=TrialState.FAIL)
            self.records.upsert_trial(self.job_id, asked.trial.number, status=TrialStatus.CANCELLED,
                                      params=asked.params, finished_at=now_utc(),
                                      error="not started: the job stopped asking for trials")

    def _task_id(self, number: int) -> str:
        return f"{self.job_id}-{number}"

    def _dispatch(self, number: int, params: dict[str, Any]) -> None:
        self.in_flight[number].dispatched_at = self.clock()
        spec = TrialSpec.for_trial(self.config, number, params,
                                   plot_threshold=self.best[0] if self.best else None,
                                   data_dir=self.services.settings.data_dir)
        self.dispatcher.send(self._task_id(number), TRAIN_TRIAL,
                             {"job_id": self.job_id, "number": number, "spec": spec.to_dict()})

    # ---- events ----------------------------------------------------------
    def _on_event(self, event: Mapping[str, Any]) -> None:
        number, data = event.get("trial"), event.get("data", {})
        if number is None or number not in self.in_flight:
            return
        self.worker_seen_at = self.clock()
        kind = event["type"]
        if kind == "trial_started":
            started = float(event.get("ts") or self.clock())
            self.in_flight[number].started_at = started
            self._record_later(number, status=TrialStatus.RUNNING, worker=data.get("worker"),
                               started_at=datetime.fromtimestamp(started, UTC))
        elif kind == "trial_progress":
            self._check_pace(number, event, data)
            self._on_epoch(number, data)
        elif kind == "trial_finished":
            if data.get("status") == "error":
                self._lose(number, data.get("error") or "worker error")
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
        if self.config.pruner == "none" or step >= self.config.epochs:
            # nobody waits on it (after the last epoch nothing is left to save): bookkeeping
            self.later.append(partial(flight.trial.report, float(value), step))
        else:  # the pruner decides now, while the trial trains on
            flight.trial.report(float(value), step)
            if flight.trial.should_prune():
                self.control.request_stop(self.job_id, number, "prune")
        self._record_later(number, intermediate=intermediate)

    def _check_pace(self, number: int, event: Mapping[str, Any],
                    data: Mapping[str, Any]) -> None:
        """Stop a trial whose pace predicts far more than the median completed trial."""
        flight = self.in_flight[number]
        if (not self.config.hopeless_stop or flight.too_slow is not None
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
            flight.too_slow = slow_evidence(elapsed, fraction, median, startup=startup)
            self.control.request_stop(self.job_id, number, "too_slow")

    def _on_result(self, number: int, message: Mapping[str, Any]) -> None:
        try:
            result = TrialResult.from_dict(message)
        except ConfigError as exc:  # a broken worker, or one of another version: re-run it
            self._lose(number, f"lost: its worker's result could not be read ({exc})")
            return
        status = result.status
        flight = self.in_flight.pop(number)
        self.counted += int(status in policy.COUNTED)
        if status == "failed" and self._rerun("failed", number):
            self._enqueue_rerun(number, flight.params)
        self._ended(number, status, result.error)
        if status in policy.COUNTED and flight.started_at is not None:
            seconds = max(0.0, self.clock() - flight.started_at)
            self.durations.append(seconds)
            if status == "completed":
                self.peer_seconds.append(seconds)
        if result.prune_reason == "too_slow" and flight.too_slow is not None:
            result = replace(result, prune_evidence=flight.too_slow)  # the pace this runner saw
        self._fill_slots(ask_ahead=False)  # the freed worker first, the bookkeeping after
        self.later.append(partial(self._settle, Outcome(number, status, result, now_utc())))

    def _settle(self, outcome: Outcome) -> None:
        """Tell the study and write the records for a result whose worker is busy again."""
        number, status, result = outcome.number, outcome.status, outcome.result
        fields: dict[str, Any] = {"status": status, "finished_at": outcome.finished_at,
                                  "error": result.error}
        # skip_if_finished: told already when a write after it was cut short by an outage
        if status == TrialStatus.COMPLETED:
            self.study.tell(number, result.score, skip_if_finished=True)
            fields |= result_fields(result)
        elif status == TrialStatus.PRUNED:
            self.study.tell(number, state=TrialState.PRUNED, skip_if_finished=True)
            fields |= result_fields(result)
        else:
            self.study.tell(number, state=TrialState.FAIL, skip_if_finished=True)
        self._write_record(number, **fields)  # with any still queued, before the job's best
        if status == TrialStatus.COMPLETED:
            self._update_best(number, result.score, result.val_accuracy)
        self._progress_changed = True

    # ---- failures and cancellation ---------------------------------------
    def _reap_lost(self) -> None:
        now, timeout = self.clock(), self.services.settings.heartbeat_timeout
        # a beat older than this runner's watch counts from the watch's start: while it
        # was held up (an outage of Redis), the workers could not beat either
        self._watching_since = policy.watching_since(
            self._watching_since, self._last_reap, now,
            self.services.settings.heartbeat_interval, timeout)
        self._last_reap = now
        for number in list(self.in_flight):
            result = self.control.result(self.job_id, number)
            if result is not None:  # finished while we missed its event (e.g. a restart)
                self._on_result(number, result)
                continue
            beat = self.control.last_heartbeat(self.job_id, number)
            if beat is not None and policy.is_lost(max(beat[1], self._watching_since), now,
                                                   timeout):
                self._lose(number, f"no heartbeat from {beat[0]} for over {timeout:.0f}s")
            elif beat is None and policy.needs_redispatch(
                    self.in_flight[number].dispatched_at, now, timeout):
                self._dispatch(number, self.in_flight[number].params)

    def _lose(self, number: int, reason: str) -> None:
        """The infrastructure lost this trial: re-run its parameters, up to ``lost_retries``
        times; one loss more fails it for good (``failed``, counted in the streak)."""
        self._catch_up()
        flight = self.in_flight.pop(number)
        self.control.abandon(self.job_id, number, reason)
        self.study.tell(number, state=TrialState.FAIL)
        stopping = self.cancel_requested or self.failure is not None
        again = not stopping and self._rerun(TrialStatus.LOST, number)
        status, error = TrialStatus.LOST, reason
        if not (again or stopping):
            status = TrialStatus.FAILED
            error = (f"lost {self.services.settings.lost_retries + 1} times, the last: "
                     f"{reason}")
        self.records.upsert_trial(self.job_id, number, status=status, error=error,
                                  finished_at=now_utc())
        if again:  # the next ask returns it; it is sent before the others
            self._enqueue_rerun(number, flight.params)
            self.asks.request(1)  # keeps counted + in flight + asked within the budget
        self._ended(number, status, error)
        self._progress_changed = True

    def _rerun(self, status: str, number: int) -> bool:
        """Whether a trial that ended ``status`` runs again (the caps of `policy.rerun`)."""
        if self.cancel_requested or self.failure is not None:
            return False
        earlier, parent = [], self.retry_of.get(number)
        while parent is not None:
            earlier.append(self.ended.get(parent, TrialStatus.LOST))
            parent = self.retry_of.get(parent)
        settings = self.services.settings
        return policy.rerun(status, earlier, trial_retries=settings.trial_retries,
                            lost_retries=settings.lost_retries)

    def _enqueue_rerun(self, number: int, params: dict[str, Any]) -> None:
        self.study.enqueue_trial(self.space.to_study(params),
                                 user_attrs={"retry_of": number, ORIGIN: "retry"},
                                 skip_if_exists=False)

    def _ended(self, number: int, status: str, error: str | None) -> None:
        """Keep how a trial ended; stop the job once too many in a row failed."""
        self.ended[number] = status
        self.streak = policy.streak_after(self.streak, status)
        if status == TrialStatus.FAILED:
            self.last_error = error
        message = policy.streak_failure(self.streak, self.services.settings.failure_streak,
                                        self.last_error)
        if message is not None and self.failure is None and not self.cancel_requested:
            log.error("job %s: %s", self.job_id, message)
            self._give_up(message)

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
        self._catch_up()
        self.control.request_stop(self.job_id, None, "cancel")
        self._drop_ready()
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

    # ---- bookkeeping -----------------------------------------------------
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
                self._lose(number, WORKER_STOPPED)
        self._catch_up()
        if self.cancel_requested and not self.in_flight:
            return
        self.control.release(self.job_id, JOB_CLAIM, self.owner)
        log.info("job %s handed over: this orchestrator is stopping", self.job_id)
        raise JobHandedOver(self.job_id)

    def _record_later(self, number: int, **fields: Any) -> None:
        """Queue a write of the trial's record, merged into one still queued for that trial.

        A burst of results leaves several writes per trial waiting (queued,
        running, an epoch's values); merged, each trial's record costs one write.
        The newest value of each field wins, as it would have written last.
        """
        waiting = self._unwritten.get(number)
        if waiting is not None:
            waiting.update(fields)
            return
        self._unwritten[number] = dict(fields)
        self.later.append(partial(self._write_record, number))

    def _write_record(self, number: int, **fields: Any) -> None:
        merged = self._unwritten.get(number, {}) | fields
        if merged:
            self.records.upsert_trial(self.job_id, number, **merged)
        self._unwritten.pop(number, None)  # once written: an outage keeps the fields queued

    def _catch_up(self) -> None:
        """Do every write still pending, so a write made now lands after them."""
        while self.later:
            self.later[0]()
            self.later.popleft()

    def _beat(self) -> None:
        if not self.control.heartbeat(self.job_id, JOB_CLAIM, self.owner):
            raise JobBusy(self.job_id)
        self.records.update_job(self.job_id, orchestrator_heartbeat_at=now_utc())

    def _update_best(self, number: int, score: float, accuracy: float | None) -> None:
        if self.best is not None and score <= self.best[0]:
            return
        self.best = (score, number, accuracy)
        self.records.update_job(self.job_id, best_trial_number=number, best_score=score,
                                best_accuracy=accuracy)

    def _publish_status(self, status: str, error: str | None = None, *,
                        waiting: Any = ...) -> None:
        """``waiting``: the job's waiting state when it changed (None: it stopped waiting)."""
        extra: dict[str, Any] = {"error": error} if error else {}
        if waiting is not ...:
            extra["waiting"] = waiting
        self.events.publish(make_event("job_status", self.job_id, status=status, **extra))

    def _publish_progress(self) -> None:
        self._progress_changed = False
        score, _, accuracy = self.best if self.best else (None, None, None)
        budget = self.config.trials if hasattr(self, "config") else 0  # None: could not start
        concurrency = self.config.concurrency if hasattr(self, "config") else 1
        self.events.publish(make_event("job_progress", self.job_id, **job_progress_data(
            self.records.trial_counts(self.job_id), budget, self.durations, concurrency,
            accuracy, score)))

    def _close_asks(self) -> None:
        if hasattr(self, "asks"):
            self.asks.close()

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
        self._close_asks()
        sweep_job(self.services, self.job_id, terminal=True)

    # ---- the end ---------------------------------------------------------
    def _finalize(self) -> JobRecord:
        status = policy.final_job_status(self.cancel_requested,
                                         self.records.trial_counts(self.job_id), self.failure)
        job = self.records.get_job(self.job_id)
        if job.best_trial_number is not None:  # past the outage limit: the job fails
            self._ride_out(partial(self._publish_best, job))
        error = None if status != JobStatus.FAILED else self.failure or "no trial completed"
        return self._end(status, error=error)

    def _publish_best(self, job: JobRecord) -> None:
        """Copy the best trial's artifacts to jobs/<id>/best/ (no retraining) with its YAML."""
        artifacts = self.services.artifacts
        number = int(job.best_trial_number)  # type: ignore[arg-type]
        best = best_prefix(self.job_id)
        artifacts.delete(best)
        artifacts.copy(trial_prefix(self.job_id, number), best)
        trial = self.records.get_trial(self.job_id, number)
        document = {
            "job_id": self.job_id, "trial": number, "dataset": self.config.dataset,
            "objective": self.config.objective, "total_score": trial.total_score,
            "val_accuracy": trial.val_accuracy,
            "test_accuracy": (trial.metrics or {}).get("test_accuracy"),
            "health": trial.health, "weights": self.config.weights.to_dict(),
            "hyperparameters": trial.params,
        }
        buffer = io.StringIO()
        yaml.safe_dump(document, buffer, sort_keys=False)
        artifacts.put_bytes(best + BEST_PARAMS_FILE, buffer.getvalue().encode(),
                            content_type="application/yaml")

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

