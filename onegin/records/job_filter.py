"""Which jobs a list shows: a text search and a value set per field. Pure.

The API reads one from the query string (`webapp.job_query`); the store turns it into
SQL on PostgreSQL and SQLite alike (`where`): the name, dataset and objective live in
the job's JSON ``config``, read with SQLAlchemy's JSON path expressions. An owner's
jobs are found by the owner index and are at most thousands, so no JSON index is kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from onegin.records.models import JobRow

LIKE_ESCAPE = "\\"


@dataclass(frozen=True)
class JobFilter:
    """``text`` found in the id, name or dataset (case-insensitive; empty: any job), and
    each non-empty tuple the values its field must be one of."""

    text: str = ""
    statuses: tuple[str, ...] = ()
    datasets: tuple[str, ...] = ()
    objectives: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()


ANY_JOB = JobFilter()


def _config(key: str) -> sa.ColumnElement[str]:
    return JobRow.config[key].as_string()


def _contains(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, its own ``%`` and ``_`` taken literally."""
    for special in (LIKE_ESCAPE, "%", "_"):
        text = text.replace(special, LIKE_ESCAPE + special)
    return f"%{text}%"


def where(selected: JobFilter) -> list[sa.ColumnElement[bool]]:
    """The filter as where-clauses on `JobRow` (a job without the field fails its set)."""
    clauses: list[sa.ColumnElement[bool]] = []
    if selected.text:
        pattern = _contains(selected.text)
        clauses.append(sa.or_(*(column.ilike(pattern, escape=LIKE_ESCAPE) for column in
                                (JobRow.id, _config("name"), _config("dataset")))))
    for column, values in ((JobRow.status, selected.statuses), (JobRow.kind, selected.kinds),
                           (_config("dataset"), selected.datasets),
                           (_config("objective"), selected.objectives)):
        if values:
            clauses.append(column.in_(values))
    return clauses
