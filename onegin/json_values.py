"""Plain JSON values from what Python code produces (numpy scalars, tuples, NaN).

One walk shared by events and records: numpy scalars become int/float, NaN and
infinities None (JSON cannot hold them, PostgreSQL's JSONB rejects them), tuples
lists and keys strings. What a caller does with anything else differs: events
pass it on, records refuse it naming the field, so that is ``other``'s choice.
`finite_or_none` is the one number rule, for whoever writes a metric to JSON.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from typing import Any, SupportsFloat


def finite_or_none(value: SupportsFloat | None) -> float | None:
    """``value`` as a float, or None where JSON cannot hold it (NaN, infinities) or it is None."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _keep(value: Any) -> Any:
    return value


def plain_json(value: Any, other: Callable[[Any], Any] = _keep) -> Any:
    """``value`` as plain JSON data; ``other(v)`` decides for values of any other type."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return finite_or_none(value)
    if isinstance(value, Mapping):
        return {str(k): plain_json(v, other) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain_json(v, other) for v in value]
    return other(value)
