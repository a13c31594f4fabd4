"""A `TrialQuery` as SQL on PostgreSQL and SQLite: one expression per column and kind.

JSON values are read with SQLAlchemy's JSON path expressions, guarded by the
dialect's JSON type function, so a string where a number is expected (or the
reverse) reads as NULL instead of failing a cast: PostgreSQL would raise on
``CAST('relu' AS FLOAT)``. A job's trials are found by the primary key's
(job_id, number) prefix; sorting a few thousand of them by an expression takes
milliseconds (benchmarks/trials_table.py measures 5,000), so no JSON index is kept.
"""

from __future__ import annotations

import sqlalchemy as sa

from onegin.records.models import TrialRow
from onegin.records.trial_columns import OneOf, Range, TrialColumn, TrialQuery

_NUMBER_TYPES = {"postgresql": ("number",), "sqlite": ("integer", "real")}


def _json_type(dialect: str, document: sa.ColumnElement, key: str) -> sa.ColumnElement:
    if dialect == "postgresql":
        return sa.func.jsonb_typeof(document[key])
    return sa.func.json_type(document, f'$."{key}"')


def number(dialect: str, col: TrialColumn) -> sa.ColumnElement:
    """The column as a number, NULL where it holds something else."""
    if not col.path:
        return _duration(dialect)
    field = getattr(TrialRow, col.path[0])
    if len(col.path) == 1:
        return field
    key = col.path[1]
    return sa.case((_json_type(dialect, field, key).in_(_NUMBER_TYPES[dialect]),
                    field[key].as_float()))


def text(dialect: str, col: TrialColumn) -> sa.ColumnElement:
    """The column as text: a string as it is, a boolean as ``true``/``false``, else NULL."""
    field = getattr(TrialRow, col.path[0])
    if len(col.path) == 1:
        return field
    key = col.path[1]
    kind = _json_type(dialect, field, key)
    if dialect == "postgresql":  # ->> already spells booleans true/false
        return sa.case((kind.in_(("string", "boolean")), field[key].as_string()))
    return sa.case((kind == "text", field[key].as_string()),
                   (kind.in_(("true", "false")), kind))


def _duration(dialect: str) -> sa.ColumnElement:
    """Seconds from start to finish (NULL unless both are set)."""
    if dialect == "postgresql":
        return sa.extract("epoch", TrialRow.finished_at - TrialRow.started_at)
    # julianday's days carry float noise in the micro-seconds: 60 s would read 59.99999…
    return sa.func.round((sa.func.julianday(TrialRow.finished_at)
                          - sa.func.julianday(TrialRow.started_at)) * 86400.0, 3)


def where(dialect: str, query: TrialQuery) -> list[sa.ColumnElement[bool]]:
    """The filters as where-clauses (a trial without a value in a filtered column fails)."""
    clauses: list[sa.ColumnElement[bool]] = []
    for f in query.filters:
        if isinstance(f, Range):
            value = number(dialect, f.column)
            if f.low is not None:
                clauses.append(value >= f.low)
            if f.high is not None:
                clauses.append(value <= f.high)
        elif isinstance(f, OneOf):
            clauses.append(text(dialect, f.column).in_(f.values))
    return clauses


def order_by(dialect: str, query: TrialQuery) -> list[sa.ColumnElement]:
    """The sort, empty values last either way, then the trial number (a total order, so
    pages never overlap). A parameter sorts by its numbers, then by its texts."""
    col = query.sort
    keys = []
    if col.kind in ("number", "any"):
        keys.append(number(dialect, col))
    if col.kind in ("text", "any"):
        keys.append(text(dialect, col))
    direction = sa.desc if query.descending else sa.asc
    return [*(direction(key).nulls_last() for key in keys), TrialRow.number.asc()]


# (name, JSON type, text) of every parameter of a job's trials, grouped in the database:
# a few rows, where reading every trial's parameters would carry thousands of documents.
_PARAM_VALUES = {
    "postgresql": """SELECT p.key, jsonb_typeof(p.value),
        CASE WHEN jsonb_typeof(p.value) IN ('string', 'boolean') THEN p.value #>> '{}' END
        FROM onegin_trials AS t, jsonb_each(t.params) AS p
        WHERE t.job_id = :job_id GROUP BY 1, 2, 3""",
    "sqlite": """SELECT p.key, p.type,
        CASE WHEN p.type = 'text' THEN p.value WHEN p.type IN ('true', 'false') THEN p.type END
        FROM onegin_trials AS t, json_each(t.params) AS p
        WHERE t.job_id = :job_id GROUP BY 1, 2, 3""",
}


def param_values(dialect: str) -> sa.TextClause:
    """The query behind `RecordStore.param_values` (binds ``job_id``)."""
    return sa.text(_PARAM_VALUES[dialect])
