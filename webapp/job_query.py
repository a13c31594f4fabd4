"""The jobs list's query string as a `JobFilter`. Pure.

    q=digits                 text in the job's id, name or dataset (case-insensitive)
    status=running,queued    jobs in any of these statuses
    dataset=digits,mnist     jobs on any of these datasets
    objective=simple,health  searches with any of these objectives (a comparison has none)
    kind=search              searches, or comparisons (compare)

Every bad value is refused by its parameter's name; a name that is none of these goes
to `pagination.unknown_parameters` like any list's.
"""

from __future__ import annotations

from collections.abc import Mapping

from onegin.job_kinds import JOB_KINDS
from onegin.records.job_filter import JobFilter
from onegin.scoring import OBJECTIVES
from onegin.statuses import JOB_STATUSES
from webapp.query_values import choices, comma_values

MAX_TEXT = 200  # a search longer than any name, id or dataset finds nothing anyway
QUERY_PARAMETERS = ("q", "status", "dataset", "objective", "kind")
_CHOICES = {"status": JOB_STATUSES, "objective": OBJECTIVES, "kind": JOB_KINDS}


def parse_job_filter(args: Mapping[str, str]) -> tuple[JobFilter, dict[str, str]]:
    """The filter in ``args`` and the reason for each bad parameter (empty when none)."""
    errors: dict[str, str] = {}
    text = args.get("q", "")
    if len(text) > MAX_TEXT or "\x00" in text:
        errors["q"] = f"must be at most {MAX_TEXT} characters, none of them NUL"
        text = ""
    picked: dict[str, tuple[str, ...]] = {}
    for name, allowed in _CHOICES.items():
        if name in args:
            picked[name], problem = choices(args[name], allowed)
            if problem is not None:
                errors[name] = problem
    datasets: tuple[str, ...] = ()
    if "dataset" in args:
        datasets = tuple(comma_values(args["dataset"]))
        if not datasets or any(len(d) > MAX_TEXT for d in datasets):
            errors["dataset"] = (f"must be dataset names separated by commas, each at most "
                                 f"{MAX_TEXT} characters")
    return JobFilter(text=text, statuses=picked.get("status", ()), datasets=datasets,
                     objectives=picked.get("objective", ()), kinds=picked.get("kind", ())
                     ), errors
