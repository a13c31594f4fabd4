"""RecordStore: jobs and trials in SQLite or PostgreSQL, returned as frozen records.

One context manager (`_session`) owns session, commit, rollback, close and error
translation, as Optuna's ``_rdb`` storage does; rows never leave this module.
Thread-safe: each call opens its own session on a pooled engine. After a fork,
make a new store (pooled connections must not cross processes).
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from onegin.job_kinds import JOB_KINDS, JobKind
from onegin.records import job_filter, trial_sql
from onegin.records.coerce import coerce_fields, coerce_value, json_safe
from onegin.records.engine import make_engine, writer
from onegin.records.errors import (
    InvalidField,
    RecordError,
    RecordNotFound,
    RecordStoreUnavailable,
)
from onegin.records.job_filter import ANY_JOB, JobFilter
from onegin.records.models import JobRow, SessionRow, TokenRow, TrialRow
from onegin.records.states import cancel_target, check_job_transition, check_status
from onegin.records.tokens import (
    LIMIT_FIELDS,
    hash_secret,
    new_secret,
    new_session_secret,
    use_is_stale,
)
from onegin.records.trial_columns import TrialQuery
from onegin.records.values import JobRecord, TokenRecord, TrialRecord
from onegin.settings import redact_url
from onegin.statuses import JOB_STATUSES, JOB_TERMINAL, TRIAL_STATUSES, JobStatus, TrialStatus

_JOB_FIXED = frozenset({"id", "owner", "config", "created_at", "kind", "parent_id"})
_TRIAL_FIXED = frozenset({"job_id", "number"})
_JOB_COLUMNS = dict(sa.inspect(JobRow).columns.items())
_TRIAL_COLUMNS = dict(sa.inspect(TrialRow).columns.items())
_TOKEN_COLUMNS = dict(sa.inspect(TokenRow).columns.items())
JOB_UPDATABLE: frozenset[str] = frozenset(_JOB_COLUMNS) - _JOB_FIXED
TRIAL_UPDATABLE: frozenset[str] = frozenset(_TRIAL_COLUMNS) - _TRIAL_FIXED


def _now() -> datetime:
    return datetime.now(UTC)


def _zeros(statuses: Iterable[str]) -> dict[str, int]:
    """Every status at zero, keyed by its plain word (so counts read back as they are sent)."""
    return {str(status): 0 for status in statuses}


class RecordStore:
    """Jobs and their trials. Every method is one transaction and returns fresh records."""

    def __init__(self, url: str, *, upgrade: bool = False) -> None:
        if upgrade:
            from onegin.records.migrate import upgrade as run_upgrade

            run_upgrade(url)
        self._url = url
        self._engine = make_engine(url)
        self._writer = writer(self._engine)

    def __repr__(self) -> str:
        return f"RecordStore({redact_url(self._url)!r})"

    def close(self) -> None:
        """Close pooled connections; the store reconnects if used again."""
        self._engine.dispose()

    @contextmanager
    def _session(self, *, write: bool = False) -> Iterator[Session]:
        session = Session(self._writer if write else self._engine, expire_on_commit=False)
        try:
            yield session
            session.commit()
        except sa.exc.IntegrityError as exc:
            session.rollback()
            raise RecordError(f"conflicting write: {exc.orig}") from exc
        except sa.exc.SQLAlchemyError as exc:
            session.rollback()
            raise RecordStoreUnavailable(
                f"database error on {redact_url(self._url)}: {type(exc).__name__}: "
                f"{getattr(exc, 'orig', None) or exc}") from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    # -- jobs ------------------------------------------------------------------------------

    def create_job(self, config: Mapping[str, Any], *, owner: str | None = None,
                   kind: str = JobKind.SEARCH, parent_id: str | None = None) -> JobRecord:
        """A new job in status queued with a fresh 12-hex-digit id; ``parent_id``: the
        comparison it is a run of."""
        if not isinstance(config, Mapping):
            raise InvalidField("config", f"must be a mapping, got {type(config).__name__}")
        check_status(kind, JOB_KINDS, field="kind")
        row = JobRow(id=secrets.token_hex(6), owner=coerce_value(_JOB_COLUMNS["owner"], owner),
                     config=json_safe("config", config), status=JobStatus.QUEUED, created_at=_now(),
                     kind=kind, parent_id=coerce_value(_JOB_COLUMNS["parent_id"], parent_id))
        with self._session(write=True) as session:
            session.add(row)
            session.flush()
            return _job(row)

    def get_job(self, job_id: str) -> JobRecord:
        with self._session() as session:
            return _job(_load_job(session, job_id))

    def list_jobs(self, *, offset: int = 0, limit: int = 50, owner: str | None = None,
                  selected: JobFilter = ANY_JOB) -> tuple[list[JobRecord], int]:
        """One page of the jobs ``selected`` picks, newest first, and how many match in all."""
        _check_page(offset, limit)
        where = [*([] if owner is None else [JobRow.owner == owner]), *job_filter.where(selected)]
        query = (sa.select(JobRow).where(*where)
                 .order_by(JobRow.created_at.desc(), JobRow.id.desc())
                 .offset(offset).limit(limit))
        with self._session() as session:
            total = session.scalar(sa.select(sa.func.count()).select_from(JobRow).where(*where))
            return [_job(row) for row in session.scalars(query)], int(total or 0)

    def list_children(self, parent_id: str) -> list[JobRecord]:
        """The runs of comparison ``parent_id``, oldest first."""
        query = (sa.select(JobRow).where(JobRow.parent_id == parent_id)
                 .order_by(JobRow.created_at, JobRow.id))
        with self._session() as session:
            return [_job(row) for row in session.scalars(query)]

    def update_job(self, job_id: str, **fields: Any) -> JobRecord:
        """Change fields; a status change must be legal (see `states`) or nothing is stored.

        Entering running stamps ``started_at``, entering a terminal state stamps
        ``finished_at``, unless given or already set.
        """
        values = coerce_fields(_JOB_COLUMNS, JOB_UPDATABLE, fields)
        with self._session(write=True) as session:
            row = _load_job(session, job_id, for_update=True)
            status = values.get("status", row.status)
            check_job_transition(row.status, status)
            if status != row.status:
                if status == JobStatus.RUNNING and row.started_at is None:
                    values.setdefault("started_at", _now())
                if status in JOB_TERMINAL and row.finished_at is None:
                    values.setdefault("finished_at", _now())
                if status in JOB_TERMINAL:  # a finished job waits for nothing
                    values.setdefault("waiting", None)
            for name, value in values.items():
                setattr(row, name, value)
            session.flush()
            return _job(row)

    def cancel_job(self, job_id: str) -> JobRecord:
        """Cancel a job (see `states.cancel_target`) in one transaction on the locked row.

        The orchestrator's queued -> running takes the same lock, so exactly one of
        the two wins: a job cancelled first is never started, and one started first
        becomes cancelling for its orchestrator. `InvalidTransition` if it finished.
        """
        with self._session(write=True) as session:
            row = _load_job(session, job_id, for_update=True)
            status = cancel_target(row.status)
            if status != row.status:
                row.status = status
                if status in JOB_TERMINAL:
                    row.finished_at = row.finished_at or _now()
                    row.waiting = None
            session.flush()
            return _job(row)

    def delete_job(self, job_id: str) -> None:
        """Delete a job and (by the foreign key's ON DELETE CASCADE) its trials."""
        with self._session(write=True) as session:
            result = session.execute(sa.delete(JobRow).where(JobRow.id == job_id))
            if getattr(result, "rowcount", 0) == 0:
                raise RecordNotFound("job", job_id)

    # -- trials ----------------------------------------------------------------------------

    def upsert_trial(self, job_id: str, number: int, **fields: Any) -> TrialRecord:
        """Create trial (job_id, number) or merge ``fields`` into it, atomically.

        Idempotent: a re-delivered write changes nothing. A new trial starts as
        queued, stamped ``queued_at`` now, with empty params and intermediate values.
        """
        if isinstance(number, bool) or not isinstance(number, int) or number < 0:
            raise InvalidField("number", f"must be a non-negative integer, got {number!r}")
        values = coerce_fields(_TRIAL_COLUMNS, TRIAL_UPDATABLE, fields)
        if "status" in values:
            check_status(values["status"], TRIAL_STATUSES)
        new = {"status": TrialStatus.QUEUED, "params": {}, "intermediate": {}, "queued_at": _now(),
               **values, "job_id": job_id, "number": number}
        with self._session(write=True) as session:
            dialect = session.get_bind().dialect.name
            insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(
                TrialRow).values(new)
            key = ["job_id", "number"]
            excluded = insert.excluded  # built anew on each access
            stmt = (insert.on_conflict_do_update(
                        index_elements=key, set_={k: excluded[k] for k in values})
                    if values else insert.on_conflict_do_nothing(index_elements=key))
            try:  # one statement: the orchestrator writes a trial record up to four times
                row = session.scalars(stmt.returning(TrialRow),
                                      execution_options={"populate_existing": True}
                                      ).one_or_none()
            except sa.exc.IntegrityError:
                session.rollback()
                _load_job(session, job_id)  # the job's foreign key: name the missing job
                raise
            if row is None:  # nothing to merge into a trial that exists
                row = _load_trial(session, job_id, number)
            return _trial(row)

    def get_trial(self, job_id: str, number: int) -> TrialRecord:
        with self._session() as session:
            return _trial(_load_trial(session, job_id, number))

    def list_trials(self, job_id: str, *, offset: int = 0, limit: int = 100,
                    status: str | None = None,
                    query: TrialQuery | None = None) -> tuple[list[TrialRecord], int]:
        """One page of a job's trials (by number, or as ``query`` sorts and filters them),
        and how many match in all."""
        _check_page(offset, limit)
        where = [TrialRow.job_id == job_id]
        if status is not None:
            where.append(TrialRow.status == check_status(status, TRIAL_STATUSES))
        with self._session() as session:
            dialect = session.get_bind().dialect.name
            query = query or TrialQuery()
            where += trial_sql.where(dialect, query)
            _load_job(session, job_id)
            total = session.scalar(sa.select(sa.func.count()).select_from(TrialRow).where(*where))
            rows = session.scalars(sa.select(TrialRow).where(*where)
                                   .order_by(*trial_sql.order_by(dialect, query))
                                   .offset(offset).limit(limit))
            return [_trial(row) for row in rows], int(total or 0)

    def stream_trials(self, job_id: str, query: TrialQuery,
                      batch: int = 500) -> Iterator[TrialRecord]:
        """Every trial ``query`` selects, in its order, read ``batch`` rows at a time in one
        transaction (a CSV export of a big job never holds it all in memory)."""
        with self._session() as session:
            dialect = session.get_bind().dialect.name
            _load_job(session, job_id)
            select = (sa.select(TrialRow)
                      .where(TrialRow.job_id == job_id, *trial_sql.where(dialect, query))
                      .order_by(*trial_sql.order_by(dialect, query))
                      .execution_options(yield_per=batch))
            for row in session.scalars(select):
                yield _trial(row)

    def trial_fields(self, job_id: str, fields: Sequence[str]) -> list[dict[str, Any]]:
        """These fields of every trial of a job, by number, one dict a trial: a plot of
        thousands of trials reads only what it draws (whole records take several times
        as long to read)."""
        unknown = [f for f in fields if f not in _TRIAL_COLUMNS]
        if unknown:
            raise InvalidField(unknown[0], "is not a trial field")
        with self._session() as session:
            _load_job(session, job_id)
            rows = session.execute(sa.select(*(_TRIAL_COLUMNS[f] for f in fields))
                                   .where(TrialRow.job_id == job_id).order_by(TrialRow.number))
            return [dict(zip(fields, row, strict=True)) for row in rows]

    def param_values(self, job_id: str) -> list[tuple[str, str, str | None]]:
        """Every (parameter name, JSON type, text) a job's trials have, once each: the text
        of a string or boolean, None for other types (its table's parameter columns)."""
        with self._session() as session:
            _load_job(session, job_id)
            dialect = session.get_bind().dialect.name
            rows = session.execute(trial_sql.param_values(dialect), {"job_id": job_id})
            return [(name, kind, text) for name, kind, text in rows]

    def running_trials(self, limit: int = 10_000) -> list[TrialRecord]:
        """Trials with status running, across every job, in one query (for metrics)."""
        query = (sa.select(TrialRow).where(TrialRow.status == TrialStatus.RUNNING)
                 .order_by(TrialRow.job_id, TrialRow.number).limit(limit))
        with self._session() as session:
            return [_trial(row) for row in session.scalars(query)]

    def trial_counts(self, job_id: str) -> dict[str, int]:
        """Trials per status, every status present (zero when none)."""
        query = (sa.select(TrialRow.status, sa.func.count()).where(TrialRow.job_id == job_id)
                 .group_by(TrialRow.status))
        with self._session() as session:
            _load_job(session, job_id)
            counts = _zeros(TRIAL_STATUSES)
            for status, count in session.execute(query):
                counts[status] = int(count)
            return counts

    def trial_counts_for(self, job_ids: list[str]) -> dict[str, dict[str, int]]:
        """`trial_counts` of several jobs in one query (a page of jobs); unknown ids get zeros."""
        counts = {job_id: _zeros(TRIAL_STATUSES) for job_id in job_ids}
        if not job_ids:
            return counts
        query = (sa.select(TrialRow.job_id, TrialRow.status, sa.func.count())
                 .where(TrialRow.job_id.in_(job_ids))
                 .group_by(TrialRow.job_id, TrialRow.status))
        with self._session() as session:
            for job_id, status, count in session.execute(query):
                counts[job_id][status] = int(count)
        return counts

    def status_totals(self) -> tuple[dict[str, int], dict[str, int]]:
        """Jobs per status and trials per status over the whole store (for metrics)."""
        jobs = _zeros(JOB_STATUSES)
        trials = _zeros(TRIAL_STATUSES)
        with self._session() as session:
            for status, count in session.execute(
                    sa.select(JobRow.status, sa.func.count()).group_by(JobRow.status)):
                jobs[status] = int(count)
            for status, count in session.execute(
                    sa.select(TrialRow.status, sa.func.count()).group_by(TrialRow.status)):
                trials[status] = int(count)
        return jobs, trials

    # -- API tokens ------------------------------------------------------------------------

    def create_token(self, name: str, *, admin: bool = False,
                     **limits: int | None) -> tuple[TokenRecord, str]:
        """A new token and its secret; the secret is returned only here, never stored.

        ``admin`` tokens may list and revoke every token over the web API. ``limits``
        are ``max_trials``, ``max_epochs`` and ``max_concurrency`` (positive
        integers, or None for the settings' defaults).
        """
        if not isinstance(name, str) or not name.strip():
            raise InvalidField("name", f"must be a non-empty string, got {name!r}")
        if not isinstance(admin, bool):
            raise InvalidField("admin", f"must be true or false, got {admin!r}")
        unknown = sorted(set(limits) - set(LIMIT_FIELDS))
        if unknown:
            raise InvalidField(unknown[0], f"unknown limit; known: {', '.join(LIMIT_FIELDS)}")
        for field, value in limits.items():
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or value < 1):
                raise InvalidField(field, f"must be a positive integer, got {value!r}")
        secret = new_secret()
        row = TokenRow(id=secrets.token_hex(6),
                       name=coerce_value(_TOKEN_COLUMNS["name"], name.strip()),
                       secret_hash=hash_secret(secret), created_at=_now(), admin=admin,
                       **{field: limits.get(field) for field in LIMIT_FIELDS})
        with self._session(write=True) as session:
            session.add(row)
            session.flush()
            return _token(row), secret

    def get_token(self, token_id: str) -> TokenRecord:
        """A token by id, revoked or not; `RecordNotFound` if there is none."""
        with self._session() as session:
            row = session.get(TokenRow, token_id)
            if row is None:
                raise RecordNotFound("token", token_id)
            return _token(row)

    def find_token(self, secret: str) -> TokenRecord | None:
        """The active token whose secret this is, or None (unknown or revoked)."""
        if not isinstance(secret, str) or not secret:
            return None
        query = sa.select(TokenRow).where(TokenRow.secret_hash == hash_secret(secret),
                                          TokenRow.revoked_at.is_(None))
        with self._session() as session:
            row = session.scalars(query).one_or_none()
            return None if row is None else _token(row)

    def list_tokens(self) -> list[TokenRecord]:
        """Every token, oldest first (secrets are not stored, so none is shown)."""
        query = sa.select(TokenRow).order_by(TokenRow.created_at, TokenRow.id)
        with self._session() as session:
            return [_token(row) for row in session.scalars(query)]

    def revoke_token(self, token_id: str) -> TokenRecord:
        """Stop a token and end its browser sessions (at once: every request looks them
        up). Idempotent."""
        now = _now()
        with self._session(write=True) as session:
            row = session.get(TokenRow, token_id, with_for_update=True)
            if row is None:
                raise RecordNotFound("token", token_id)
            if row.revoked_at is None:
                row.revoked_at = now
            session.execute(sa.update(SessionRow)
                            .where(SessionRow.token_id == token_id,
                                   SessionRow.revoked_at.is_(None))
                            .values(revoked_at=now))
            session.flush()
            return _token(row)

    def note_token_use(self, token: TokenRecord) -> None:
        """Record that ``token`` was used now, unless its last use written is recent."""
        now = _now()
        if not use_is_stale(token.last_used_at, now):
            return
        with self._session(write=True) as session:
            session.execute(sa.update(TokenRow).where(TokenRow.id == token.id)
                            .values(last_used_at=now))

    def active_token_ids(self, token_ids: Collection[str]) -> set[str]:
        """Those of ``token_ids`` that are not revoked (one query, for many clients)."""
        if not token_ids:
            return set()
        query = sa.select(TokenRow.id).where(TokenRow.id.in_(list(token_ids)),
                                             TokenRow.revoked_at.is_(None))
        with self._session() as session:
            return set(session.scalars(query))

    # -- browser sessions ------------------------------------------------------------------

    def create_session(self, token_id: str, lifetime: timedelta) -> str:
        """A new session of an active token for ``lifetime``; returns its secret (kept only
        by the caller). Expired sessions are deleted on the way."""
        now = _now()
        secret = new_session_secret()
        with self._session(write=True) as session:
            token = session.get(TokenRow, token_id)
            if token is None or token.revoked_at is not None:
                raise RecordNotFound("token", token_id)
            session.execute(sa.delete(SessionRow).where(SessionRow.expires_at < now))
            session.add(SessionRow(id=hash_secret(secret), token_id=token_id, created_at=now,
                                   expires_at=now + lifetime))
        return secret

    def session_token(self, secret: str) -> TokenRecord | None:
        """The token of the live session with this secret; None when the session is
        unknown, signed out, expired, or its token revoked."""
        if not isinstance(secret, str) or not secret:
            return None
        query = (sa.select(TokenRow).join(SessionRow, SessionRow.token_id == TokenRow.id)
                 .where(*_live_sessions([hash_secret(secret)])))
        with self._session() as session:
            row = session.scalars(query).one_or_none()
            return None if row is None else _token(row)

    def live_sessions(self, session_secrets: Collection[str]) -> set[str]:
        """Those of ``session_secrets`` whose sessions are still live (one query)."""
        by_hash = {hash_secret(s): s for s in session_secrets if isinstance(s, str) and s}
        if not by_hash:
            return set()
        query = (sa.select(SessionRow.id).join(TokenRow, SessionRow.token_id == TokenRow.id)
                 .where(*_live_sessions(list(by_hash))))
        with self._session() as session:
            return {by_hash[found] for found in session.scalars(query)}

    def end_session(self, secret: str) -> None:
        """Sign a session out for good, whoever holds a copy of its cookie. Idempotent."""
        if not isinstance(secret, str) or not secret:
            return
        with self._session(write=True) as session:
            session.execute(sa.update(SessionRow)
                            .where(SessionRow.id == hash_secret(secret),
                                   SessionRow.revoked_at.is_(None))
                            .values(revoked_at=_now()))

    def ping(self) -> None:
        """Raise `RecordStoreUnavailable` unless the database answers (readiness checks)."""
        with self._session() as session:
            session.execute(sa.text("SELECT 1"))


def _live_sessions(session_ids: list[str]) -> list[sa.ColumnElement[bool]]:
    """Where-clauses (with sessions joined to tokens): these sessions, not signed out, not
    expired, and their token not revoked."""
    return [SessionRow.id.in_(session_ids), SessionRow.revoked_at.is_(None),
            SessionRow.expires_at > _now(), TokenRow.revoked_at.is_(None)]


# OFFSET and LIMIT are 64-bit in both databases; a larger Python int overflows the driver.
_SQL_BIGINT_MAX = 2**63 - 1
# Trial numbers are a 32-bit INTEGER column: a larger one names no trial (and >= 2**63
# would overflow the driver rather than match nothing).
TRIAL_NUMBER_MAX = 2**31 - 1


def _check_page(offset: int, limit: int) -> None:
    # The orchestrator reads whole jobs (huge limits); the web API caps its own pages.
    if (isinstance(offset, bool) or not isinstance(offset, int)
            or not 0 <= offset <= _SQL_BIGINT_MAX):
        raise InvalidField("offset", f"must be an integer from 0 to {_SQL_BIGINT_MAX}, "
                                     f"got {offset!r}")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= _SQL_BIGINT_MAX:
        raise InvalidField("limit", f"must be an integer from 1 to {_SQL_BIGINT_MAX}, "
                                    f"got {limit!r}")


def _load_job(session: Session, job_id: str, *, for_update: bool = False) -> JobRow:
    query = sa.select(JobRow).where(JobRow.id == job_id)
    row = session.scalars(query.with_for_update() if for_update else query).one_or_none()
    if row is None:
        raise RecordNotFound("job", job_id)
    return row


def _load_trial(session: Session, job_id: str, number: int) -> TrialRow:
    if isinstance(number, bool) or not isinstance(number, int) \
            or not 0 <= number <= TRIAL_NUMBER_MAX:
        raise RecordNotFound("trial", f"{job_id}/{number}")
    query = (sa.select(TrialRow).where(TrialRow.job_id == job_id, TrialRow.number == number)
             .execution_options(populate_existing=True))
    row = session.scalars(query).one_or_none()
    if row is None:
        raise RecordNotFound("trial", f"{job_id}/{number}")
    return row


def _job(row: JobRow) -> JobRecord:
    return JobRecord(
        id=row.id, owner=row.owner, config=row.config, status=row.status,
        created_at=row.created_at, started_at=row.started_at, finished_at=row.finished_at,
        best_trial_number=row.best_trial_number, best_score=row.best_score,
        best_accuracy=row.best_accuracy, error=row.error,
        orchestrator_heartbeat_at=row.orchestrator_heartbeat_at, waiting=row.waiting,
        kind=row.kind, parent_id=row.parent_id,
    )


def _trial(row: TrialRow) -> TrialRecord:
    return TrialRecord(
        job_id=row.job_id, number=row.number, status=row.status, params=row.params,
        architecture_summary=row.architecture_summary, metrics=row.metrics,
        health=row.health, health_score=row.health_score,
        total_score=row.total_score, val_accuracy=row.val_accuracy, worker=row.worker,
        task_id=row.task_id, queued_at=row.queued_at, started_at=row.started_at,
        finished_at=row.finished_at, heartbeat_at=row.heartbeat_at,
        artifact_prefix=row.artifact_prefix, error=row.error, retry_of=row.retry_of,
        origin=row.origin, intermediate=row.intermediate, holdout=row.holdout,
    )


def _token(row: TokenRow) -> TokenRecord:
    return TokenRecord(
        id=row.id, name=row.name, created_at=row.created_at, revoked_at=row.revoked_at,
        max_trials=row.max_trials, max_epochs=row.max_epochs,
        max_concurrency=row.max_concurrency, admin=row.admin, last_used_at=row.last_used_at,
    )
