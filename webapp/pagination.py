"""Page parameters in, page envelopes out. Pure: no Flask, no database.

The server caps ``per_page`` so a client can never ask for a whole big job in
one response (dashboards that fetch everything choke at thousands of trials),
and ``page`` so the offset always fits the databases' 64-bit integers. A query
parameter the list does not take is refused by name, not ignored: ``?perpage=5``
silently answering 20 rows is a bug the client would never see.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from onegin.errors import shown

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 500
MAX_PAGE = 2**31 - 1  # far past any real list; offset = (page-1)*per_page stays < 2**63


@dataclass(frozen=True)
class Page:
    page: int
    per_page: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    def envelope(self, key: str, items: list[Any], total: int) -> dict[str, Any]:
        """``{key: items, "total", "page", "per_page"}``, the shape every list endpoint uses."""
        return {key: items, "total": total, "page": self.page, "per_page": self.per_page}


PAGE_PARAMETERS = ("page", "per_page")
UNKNOWN_NAMES_SHOWN = 5  # a request with thousands of unknown names is not echoed whole


def parse_page(args: Mapping[str, str], *, also: tuple[str, ...] = (),
               default_per_page: int = DEFAULT_PER_PAGE) -> tuple[Page | None, dict[str, str]]:
    """The page asked for in query ``args``, or None and the reason for each bad parameter.

    ``also`` names the list's other parameters (its filters), which the caller checks."""
    errors = unknown_parameters(args, PAGE_PARAMETERS + also)
    values: dict[str, int] = {}
    for name, default, high in (("page", 1, MAX_PAGE),
                                ("per_page", default_per_page, MAX_PER_PAGE)):
        raw = args.get(name)
        if raw is None:
            values[name] = default
            continue
        number = _integer(raw)
        if number is None:
            errors[name] = f"must be an integer, got {shown(raw)}"
        elif not 1 <= number <= high:
            errors[name] = f"must be between 1 and {high}, got {shown(raw)}"
        else:
            values[name] = number
    if errors:
        return None, errors
    return Page(values["page"], values["per_page"]), {}


def unknown_parameters(args: Mapping[str, str], known: tuple[str, ...]) -> dict[str, str]:
    """The reason for each name in ``args`` that is not ``known`` (the first few)."""
    unknown = [name for name in args if name not in known][:UNKNOWN_NAMES_SHOWN]
    reason = f"is not a parameter of this list (it takes {', '.join(known)})"
    return {name[:40]: reason for name in unknown}


def _integer(text: str) -> int | None:
    """ASCII digits with an optional sign, else None. ``int()`` alone would also take
    ``" 1_0 "`` and other scripts' digits, and refuse more than 4300 digits with a
    ValueError; a long number is only ever out of range, so its digits are not converted."""
    sign, digits = (text[0], text[1:]) if text[:1] in ("+", "-") else ("", text)
    if not digits.isascii() or not digits.isdigit():
        return None
    significant = digits.lstrip("0")[:30] or "0"  # 30 digits are past every bound already
    return int(sign + significant)
