"""The columns of a job's trials table and the query over them (sort, filters). Pure.

A column is named as the API and the CSV export name it: a record field
(``val_accuracy``), a metric kept in a trial's JSON (``val_loss`` lives in
``metrics``, ``holdout_accuracy`` in ``holdout``), ``duration`` (finished minus
started, in seconds), ``health.<component>`` or ``params.<name>``. Parameters differ
between jobs and spaces, so any well-formed ``params.<name>`` is a column; one that
no trial has is simply empty. The store turns a `TrialQuery` into SQL
(``trial_sql``); `column_value` reads the same columns from a record (the CSV).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from onegin.records.values import TrialRecord
from onegin.scoring import HEALTH_COMPONENTS


@dataclass(frozen=True)
class TrialColumn:
    """One column: its name, where its value is in a trial record, and its kind.

    ``path`` is the record field then the JSON key (``("metrics", "val_loss")``);
    ``duration`` has none (it is computed). ``kind`` is ``number``, ``text`` (the
    status) or ``any`` (a parameter: numbers sort before text, as numbers)."""

    name: str
    path: tuple[str, ...]
    kind: str


PARAM_PREFIX = "params."
HEALTH_PREFIX = "health."
PARAM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")

FIXED_COLUMNS: tuple[TrialColumn, ...] = (
    TrialColumn("number", ("number",), "number"),
    TrialColumn("status", ("status",), "text"),
    TrialColumn("duration", (), "number"),
    TrialColumn("total_score", ("total_score",), "number"),
    TrialColumn("val_accuracy", ("val_accuracy",), "number"),
    TrialColumn("val_loss", ("metrics", "val_loss"), "number"),
    TrialColumn("test_accuracy", ("metrics", "test_accuracy"), "number"),
    TrialColumn("test_loss", ("metrics", "test_loss"), "number"),
    TrialColumn("holdout_accuracy", ("holdout", "accuracy"), "number"),
    TrialColumn("health_score", ("health_score",), "number"),
    *(TrialColumn(HEALTH_PREFIX + name, ("health", name), "number")
      for name in HEALTH_COMPONENTS),
    TrialColumn("epochs_run", ("metrics", "epochs_run"), "number"),
    TrialColumn("param_count", ("metrics", "param_count"), "number"),
)
_FIXED = {column.name: column for column in FIXED_COLUMNS}
NUMERIC_FIXED: tuple[str, ...] = tuple(c.name for c in FIXED_COLUMNS if c.kind == "number")


def column(name: str) -> TrialColumn | None:
    """The column called ``name``, or None when there is no such column."""
    if name in _FIXED:
        return _FIXED[name]
    if name.startswith(PARAM_PREFIX) and PARAM_NAME.fullmatch(name[len(PARAM_PREFIX):]):
        return TrialColumn(name, ("params", name[len(PARAM_PREFIX):]), "any")
    return None


@dataclass(frozen=True)
class Range:
    """``low <= value <= high`` (either bound may be open); a trial without a number there
    never matches."""

    column: TrialColumn
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class OneOf:
    """The value is one of these texts (a status, or a text parameter such as an activation)."""

    column: TrialColumn
    values: tuple[str, ...]


@dataclass(frozen=True)
class TrialQuery:
    """Which trials of a job, in which order: by ``sort`` (empty values last), then number."""

    sort: TrialColumn = _FIXED["number"]
    descending: bool = False
    filters: tuple[Range | OneOf, ...] = field(default_factory=tuple)


def column_value(record: TrialRecord, col: TrialColumn) -> Any:
    """The value of ``col`` in ``record`` (None when the trial has none), as the SQL sees it:
    a non-finite or non-numeric value in a number column is None."""
    if not col.path:
        if record.started_at is None or record.finished_at is None:
            return None
        return (record.finished_at - record.started_at).total_seconds()
    value: Any = getattr(record, col.path[0])
    for key in col.path[1:]:
        value = value.get(key) if isinstance(value, dict) else None
    if col.kind == "number" and not _is_number(value):
        return None
    return value


def _is_number(value: Any) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value))


def text_of(value: Any) -> str | None:
    """A parameter's value as its text filter matches it: strings as they are, booleans as
    ``true``/``false``; numbers have none (they are filtered by range)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else None


MAX_TEXT_VALUES = 100  # a parameter's distinct texts listed for a filter's choices
NUMBER_TYPES = frozenset({"number", "integer", "real"})  # JSON types: PostgreSQL's, SQLite's


def describe_params(values: Iterable[tuple[str, str, str | None]]) -> list[dict[str, Any]]:
    """The parameter columns of a job, by name, from its (name, JSON type, text) triples
    (`RecordStore.param_values`): ``number`` when every value is a number, else ``text``
    with the distinct texts (strings and booleans) to choose from."""
    seen: dict[str, tuple[bool, set[str]]] = {}
    for name, kind, text in values:
        if not PARAM_NAME.fullmatch(name) or kind == "null":
            continue
        numeric, texts = seen.get(name, (True, set()))
        if text is not None:
            texts.add(text)
        seen[name] = (numeric and kind in NUMBER_TYPES, texts)
    return [{"name": PARAM_PREFIX + name, "kind": "number"} if numeric else
            {"name": PARAM_PREFIX + name, "kind": "text",
             "values": sorted(texts)[:MAX_TEXT_VALUES]}
            for name, (numeric, texts) in sorted(seen.items())]
