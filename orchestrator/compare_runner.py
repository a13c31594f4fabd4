"""A comparison job, run to its end: its searches, then its retrains, then its report.

A comparison holds no worker slot while its runs train. `ComparisonRunner.advance`
takes one look at the records, starts the runs that are due (``start``: the
orchestrator queue, or a caller that runs them in its own process) and returns;
whoever drives it looks again until the comparison is terminal. Everything it needs
is in the records (its runs name it as their parent), so any orchestrator may take
the next look, and two never take it at once (the job's claim in the control store).

The stages: one search per arm and seed (`CompareConfig.run`); once they have all
ended, each arm's best configuration retrained on its split (`CompareConfig.retrain`);
once those have ended, the summary (`compare_summary`) stored as ``summary.json`` and
rendered into the report under ``jobs/<id>/report/``. A cancel reaches every run.
"""

from __future__ import annotations

import json
import logging
import tempfile
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from onegin.artifacts import put_tree, report_prefix
from onegin.compare_config import ARMS, CompareConfig, arm_of, is_retrain, split_seed
from onegin.control import ClaimOutcome
from onegin.datasets import get_spec
from onegin.errors import JobBusy
from onegin.events import make_event
from onegin.job_config import OptimizationConfig
from onegin.job_kinds import JobKind
from onegin.outages import outage_kind
from onegin.records import InvalidTransition, JobRecord
from onegin.services import Services
from onegin.statuses import JOB_ACTIVE, JobStatus
from onegin.submission import cancel_children
from orchestrator.compare_summary import Run, best_search, build_summary
from orchestrator.runner import JOB_CLAIM

log = logging.getLogger(__name__)
SUMMARY_FILE = "summary.json"
ALL_TRIALS = 1_000_000


class ComparisonRunner:
    """Moves one comparison on, one look at a time (`advance`)."""

    def __init__(self, job_id: str, services: Services, start: Callable[[str], None]) -> None:
        self.job_id = job_id
        self.services = services
        self.records = services.records
        self.start = start
        self.owner = f"comparison:{uuid.uuid4().hex[:8]}"

    def advance(self) -> JobRecord:
        """Start what is due, or end the comparison; returns its record as it now is.

        `JobBusy` while another orchestrator takes its look; an outage is raised for
        the caller to ride out; any other error fails the comparison (its runs are
        cancelled).
        """
        job = self.records.get_job(self.job_id)
        if job.terminal:
            return job
        control = self.services.control
        if control.claim(self.job_id, JOB_CLAIM, self.owner,
                         ttl=self.services.settings.heartbeat_timeout) is not \
                ClaimOutcome.ACQUIRED:
            raise JobBusy(self.job_id)
        try:
            return self._advance(job)
        except Exception as exc:
            if outage_kind(exc) is not None:
                raise
            log.exception("comparison %s failed", self.job_id)
            return self._end(JobStatus.FAILED, error=f"comparison error: {exc!r}")
        finally:
            control.release(self.job_id, JOB_CLAIM, self.owner)

    def _advance(self, job: JobRecord) -> JobRecord:
        if job.status == JobStatus.QUEUED:
            try:
                job = self.records.update_job(self.job_id, status=JobStatus.RUNNING)
            except InvalidTransition:  # cancelled while it waited in the queue
                return self.records.get_job(self.job_id)
            self._publish("job_status", status=JobStatus.RUNNING)
        self.records.update_job(self.job_id, orchestrator_heartbeat_at=datetime.now(UTC))
        children = self.records.list_children(self.job_id)
        if job.status == JobStatus.CANCELLING:
            cancel_children(self.records, self.services.events, self.job_id)
            if any(c.status in JOB_ACTIVE for c in self.records.list_children(self.job_id)):
                return job
            return self._end(JobStatus.CANCELLED)
        config = CompareConfig.from_dict(job.config)
        due = self._due(job, config, children)
        if due:
            for run in due:
                self._start_run(job, run)
            return job
        if any(c.status in JOB_ACTIVE for c in children):
            return job
        return self._finish(job, config, children)

    def _due(self, job: JobRecord, config: CompareConfig,
             children: Sequence[JobRecord]) -> list[OptimizationConfig]:
        """The runs to start now: the searches not yet made; once every search has ended,
        the retrains not yet made."""
        searched = {(arm_of(c), split_seed(c)) for c in children if not is_retrain(c)}
        searches = [config.run(arm, seed, job.id) for seed in config.run_seeds for arm in ARMS
                    if (arm, seed) not in searched]
        if searches or any(c.status in JOB_ACTIVE for c in children) or not config.retrain_seeds:
            return searches
        retrained = {arm_of(c) for c in children if is_retrain(c)}
        retrains = []
        for arm in ARMS:
            best = best_search(children, arm)
            if arm in retrained or best is None or best.best_trial_number is None:
                continue
            params = self.records.get_trial(best.id, best.best_trial_number).params
            retrains.append(config.retrain(arm, split_seed(best), params, job.id))
        return retrains

    def _start_run(self, job: JobRecord, config: OptimizationConfig) -> None:
        child = self.records.create_job(config.to_dict(), owner=job.owner, kind=JobKind.SEARCH,
                                        parent_id=self.job_id)
        log.info("comparison %s: run %s (%s) started", self.job_id, child.id, config.name)
        self.start(child.id)

    def _finish(self, job: JobRecord, config: CompareConfig,
                children: Sequence[JobRecord]) -> JobRecord:
        """Every run has ended: store the summary, render the report, end the comparison."""
        runs = [Run(c, self.records.list_trials(c.id, limit=ALL_TRIALS)[0]) for c in children]
        summary = build_summary(job, config, get_spec(config.base.dataset).modality, runs)
        prefix = report_prefix(self.job_id)
        artifacts = self.services.artifacts
        artifacts.put_bytes(prefix + SUMMARY_FILE, json.dumps(summary, indent=1).encode(),
                            content_type="application/json")
        if all(r.job.best_trial_number is None for r in runs if not r.retrain):
            return self._end(JobStatus.FAILED, error="no search of the comparison completed "
                                                     "a trial")
        try:
            store_report(summary, self.services, prefix)
        except Exception as exc:
            log.exception("comparison %s: the report could not be rendered", self.job_id)
            return self._end(JobStatus.FAILED, error=f"the report could not be rendered "
                                                     f"(summary.json is kept): {exc!r}")
        return self._end(JobStatus.COMPLETED)

    def _end(self, status: JobStatus, error: str | None = None) -> JobRecord:
        if status == JobStatus.FAILED:
            cancel_children(self.records, self.services.events, self.job_id)
        job = self.records.update_job(self.job_id, status=status, error=error)
        self._publish("job_status", status=status, **({"error": error} if error else {}))
        self._publish("job_finished", status=status, best_trial=None, best_score=None,
                      best_accuracy=None)
        self.services.control.finish(self.job_id, JOB_CLAIM, {"status": status})
        return job

    def _publish(self, kind: str, **data: Any) -> None:
        self.services.events.publish(make_event(kind, self.job_id, **data))


def store_report(summary: dict[str, Any], services: Services, prefix: str) -> None:
    """Render the report (HTML, PDF, analysis.json, plots) and store its files.

    Imported here: the renderer's plotting and PDF libraries load only when a
    comparison ends, not in every orchestrator start.
    """
    from orchestrator.comparison.report import render_report

    with tempfile.TemporaryDirectory(prefix="onegin-report-") as folder:
        out = Path(folder)
        render_report(summary, out)
        put_tree(services.artifacts, out, prefix)
