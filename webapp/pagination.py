"""Page parameters in, page envelopes out. Pure: no Flask, no database.

The server caps ``per_page`` so a client can never ask for a whole big job in
one response (dashboards that fetch everything choke at thousands of trials).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 500


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


def parse_page(args: Mapping[str, str], *, default_per_page: int = DEFAULT_PER_PAGE
               ) -> tuple[Page | None, dict[str, str]]:
    """The page asked for in query ``args``, or None and the reason for each bad parameter."""
    errors: dict[str, str] = {}
    values: dict[str, int] = {}
    for name, default, high in (("page", 1, None), ("per_page", default_per_page, MAX_PER_PAGE)):
        raw = args.get(name)
        if raw is None or raw == "":
            values[name] = default
            continue
        try:
            number = int(raw)
        except ValueError:
            errors[name] = f"must be an integer, got {raw!r}"
            continue
        if number < 1 or (high is not None and number > high):
            errors[name] = (f"must be between 1 and {high}, got {number}" if high is not None
                            else f"must be at least 1, got {number}")
            continue
        values[name] = number
    if errors:
        return None, errors
    return Page(values["page"], values["per_page"]), {}
