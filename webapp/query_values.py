"""Values of a list's query string: comma-separated lists and choices among known words.
Pure; the trials table (`trial_query`) and the jobs list (`job_query`) read them alike."""

from __future__ import annotations

from collections.abc import Sequence

from onegin.errors import shown


def comma_values(raw: str) -> list[str]:
    """Comma-separated values; an empty one (or a NUL, which no database stores) makes the
    list invalid (returned empty)."""
    values = raw.split(",")
    return [] if any(not v for v in values) or "\x00" in raw else values


def choices(raw: str, allowed: Sequence[str]) -> tuple[tuple[str, ...], str | None]:
    """The ``allowed`` words listed in ``raw``, or no words and the reason they are refused."""
    values = comma_values(raw)
    if values and all(v in allowed for v in values):
        return tuple(values), None
    return (), (f"must be one of {', '.join(allowed)}, or several separated by commas; "
                f"got {shown(raw)}")
