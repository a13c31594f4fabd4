"""TensorBoard run names: ``trial-007 · conv_layers=3 learning_rate=0.0012``.

A run is named by its trial's number and the parameters whose values differ among the
trials shown, since the ones they share tell them apart no better than the number. The
name is a folder name (in the symlink tree TensorBoard reads, and in the zip the web app
serves), so it keeps to characters every filesystem takes and to a length every
filesystem allows. Pure logic.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

SEPARATOR = " · "
MAX_NAME_BYTES = 160  # well under the 255 bytes a file name may have almost everywhere
MIN_NUMBER_DIGITS = 3
_UNSAFE = re.compile(r"[^0-9A-Za-z ._=+\-·…]")


def format_value(value: Any) -> str:
    """A parameter's value as a run name shows it: 3 significant digits for a float,
    ``true``/``false`` as the command line writes booleans."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def varying_params(params: Sequence[Mapping[str, Any]]) -> list[str]:
    """The names whose values differ among ``params`` (or that some lack), sorted."""
    names = {name for one in params for name in one}
    return sorted(name for name in names
                  if len({repr(one.get(name)) for one in params}) > 1)


def run_name(number: int, params: Mapping[str, Any], keys: Sequence[str], *,
             digits: int = MIN_NUMBER_DIGITS) -> str:
    """``trial-<number>`` and ``keys``' values in ``params``, made safe as a folder name
    and cut to `MAX_NAME_BYTES` (a cut is marked with ``…``)."""
    head = f"trial-{number:0{digits}d}"
    parts = [f"{key}={format_value(params[key])}" for key in keys if key in params]
    if not parts:
        return head
    name = head + SEPARATOR + " ".join(parts)
    while len(name.encode()) > MAX_NAME_BYTES and parts:
        parts.pop()
        name = head + SEPARATOR + " ".join([*parts, "…"])
    return safe_name(name)


def run_names(trials: Mapping[int, Mapping[str, Any]]) -> dict[int, str]:
    """Trial number -> run name for ``trials`` (number -> parameters), told apart by the
    parameters that vary among them; numbers padded alike, so the runs sort by number."""
    keys = varying_params(list(trials.values()))
    digits = max([MIN_NUMBER_DIGITS, *(len(str(n)) for n in trials)])
    return {number: run_name(number, params, keys, digits=digits)
            for number, params in trials.items()}


def safe_name(name: str) -> str:
    """``name`` with every character a filesystem or a zip reader may refuse (path
    separators, ``:``, control characters, …) replaced by ``_``, and no leading dot."""
    cleaned = _UNSAFE.sub("_", name)
    return "_" + cleaned[1:] if cleaned.startswith(".") else cleaned
