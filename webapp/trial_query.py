"""A trials list's query string as a `TrialQuery`: sort, filters and CSV columns. Pure.

    sort=-total_score            a column; a leading '-' sorts descending
    status=completed,pruned      trials in any of these statuses
    min.val_accuracy=0.9         a number column at least / at most this
    max.params.dropout=0.3
    params.activation=relu,tanh  a text parameter (booleans: true/false) being one of these
    columns=number,params.units  the CSV's columns, in order

Every bad value is refused by its parameter's name; a name that is none of these
goes to `pagination.unknown_parameters` like any list's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from onegin.errors import shown
from onegin.records.trial_columns import (
    FIXED_COLUMNS,
    PARAM_PREFIX,
    OneOf,
    Range,
    TrialColumn,
    TrialQuery,
    column,
)
from onegin.statuses import TRIAL_STATUSES
from webapp.query_values import choices, comma_values

# as a refusal of an unknown name lists them (no real name has the '<')
QUERY_PARAMETERS = ("sort", "status", "min.<column>", "max.<column>", "params.<name>")
BOUNDS = ("min.", "max.")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
MAX_NAMES_SHOWN = 3
STATUS_COLUMN: TrialColumn = next(c for c in FIXED_COLUMNS if c.name == "status")


def is_query_name(name: str) -> bool:
    """Whether ``name`` is a filter this module reads (bounded or parameter filters)."""
    return name.startswith(BOUNDS) or name.startswith(PARAM_PREFIX)


def parse_query(args: Mapping[str, str]) -> tuple[TrialQuery, dict[str, str]]:
    """The query in ``args`` and the reason for each bad parameter (empty when none)."""
    errors: dict[str, str] = {}
    sort, descending = TrialQuery().sort, False
    if "sort" in args:
        raw = args["sort"]
        descending = raw.startswith("-")
        found = column(raw[1:] if descending else raw)
        if found is None:
            errors["sort"] = _not_a_column(raw)
        else:
            sort = found
    filters: list[Range | OneOf] = []
    if "status" in args:
        statuses, problem = choices(args["status"], TRIAL_STATUSES)
        if problem is not None:
            errors["status"] = problem
        else:
            filters.append(OneOf(STATUS_COLUMN, statuses))
    bounds: dict[str, dict[str, float]] = {}
    for name, raw in args.items():
        if name.startswith(BOUNDS):
            col = column(name[4:])
            if col is None or col.kind == "text":
                errors[name[:80]] = (f"bounds a column that holds numbers: {name[:4]}<column> "
                                     f"with a column such as val_accuracy or params.<name>")
            elif not _NUMBER.fullmatch(raw):
                errors[name] = f"must be a number, got {shown(raw)}"
            else:
                bounds.setdefault(col.name, {})[name[:3]] = float(raw)
        elif name.startswith(PARAM_PREFIX):
            col = column(name)
            texts = comma_values(raw)
            if col is None:
                errors[name[:80]] = f"is not a parameter name ({PARAM_PREFIX}<letters, digits, _>)"
            elif not texts:
                errors[name] = f"must be values separated by commas, got {shown(raw)}"
            else:
                filters.append(OneOf(col, tuple(texts)))
    for name, bound in bounds.items():
        col = column(name)
        assert col is not None
        filters.append(Range(col, bound.get("min"), bound.get("max")))
    return TrialQuery(sort, descending, tuple(filters)), errors


def parse_columns(raw: str | None, default: list[TrialColumn]) -> tuple[list[TrialColumn],
                                                                        dict[str, str]]:
    """The CSV's columns named in ``raw`` (``default`` when it is None), or the reason."""
    if raw is None:
        return default, {}
    names = comma_values(raw)
    found = [column(name) for name in names]
    wrong = [name for name, col in zip(names, found, strict=True) if col is None]
    if not names or wrong:
        shown_names = ", ".join(shown(n) for n in wrong[:MAX_NAMES_SHOWN])
        return [], {"columns": "must be column names separated by commas"
                               + (f"; not columns: {shown_names}" if wrong else "")}
    return list({col.name: col for col in found if col is not None}.values()), {}


def _not_a_column(raw: str) -> str:
    fixed = ", ".join(c.name for c in FIXED_COLUMNS)
    return (f"must be a column, optionally after '-' (descending): {fixed} or "
            f"{PARAM_PREFIX}<name>; got {shown(raw)}")
