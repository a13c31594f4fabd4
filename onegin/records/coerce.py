"""Check and normalise incoming field values against the table's own columns.

The column types are the one source of truth for what a field holds, so adding a
column needs no second table here. Non-finite floats become None: JSON cannot hold
them (PostgreSQL's JSONB rejects NaN) and they would sort wrongly as scores.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from onegin.json_values import plain_json
from onegin.records.errors import InvalidField
from onegin.records.models import UTCDateTime


def coerce_fields(columns: Mapping[str, sa.Column[Any]], updatable: Iterable[str],
                  fields: Mapping[str, Any]) -> dict[str, Any]:
    """``fields`` checked against ``columns``; `InvalidField` names the first bad one."""
    allowed = set(updatable)
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if name not in allowed:
            reason = ("cannot be changed" if name in columns
                      else f"unknown field; known: {', '.join(sorted(allowed))}")
            raise InvalidField(name, reason)
        out[name] = coerce_value(columns[name], value)
    return out


def coerce_value(column: sa.Column[Any], value: Any) -> Any:
    name = column.name
    if value is None:
        if not column.nullable:
            raise InvalidField(name, "must not be null")
        return None
    kind = column.type
    if isinstance(kind, UTCDateTime):
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise InvalidField(name, f"must be a timezone-aware datetime, got {value!r}")
        return value
    if isinstance(kind, sa.JSON):
        return json_safe(name, value)
    if isinstance(kind, sa.Double):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise InvalidField(name, f"must be a number, got {value!r}")
        number = float(value)
        if math.isfinite(number):
            return number
        if not column.nullable:
            raise InvalidField(name, f"must be finite, got {value!r}")
        return None
    if isinstance(kind, sa.Integer):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
            raise InvalidField(name, f"must be a non-negative integer, got {value!r}")
        return int(value)
    if isinstance(kind, sa.String):
        if not isinstance(value, str):
            raise InvalidField(name, f"must be a string, got {value!r}")
        if kind.length is not None and len(value) > kind.length:
            raise InvalidField(name, f"must be at most {kind.length} characters")
        return value
    raise AssertionError(f"no rule for column {name} of type {kind!r}")  # pragma: no cover


def json_safe(name: str, value: Any) -> Any:
    """Plain JSON data (see `plain_json`); anything JSON cannot hold is refused, naming ``name``."""
    def refuse(other: Any) -> Any:
        raise InvalidField(name, f"holds {type(other).__name__} {other!r}, which JSON cannot")

    return plain_json(value, refuse)
