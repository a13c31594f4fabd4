"""Which trials' logs to show: the numbers asked for, checked against the job's trials.

Shared by ``onegin tensorboard`` (numbers as arguments) and the web app's zip of the logs
(``?trials=1,4``), so both refuse the same input in the same words. Pure logic.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from typing import Protocol, TypeVar

from onegin.errors import ConfigError, OneginError, shown
from onegin.statuses import TrialStatus

FIELD = "trials"
NUMBERS_PATTERN = r"[0-9]{1,10}(,[0-9]{1,10})*"  # ten digits pass any trial number


class TrialLike(Protocol):
    """What choosing needs of a trial (`onegin.records.TrialRecord` has it)."""

    @property
    def number(self) -> int: ...

    @property
    def status(self) -> str: ...


def parse_numbers(text: str) -> list[int]:
    """``"1,4,7"`` -> ``[1, 4, 7]``; `ConfigError` naming ``trials`` for anything else
    (spaces too: this is `NUMBERS_PATTERN`, as the API document states it)."""
    if not re.fullmatch(NUMBERS_PATTERN, text):
        raise ConfigError(FIELD, f"must be trial numbers separated by commas, e.g. 1,4,7; "
                                 f"got {shown(text)}")
    return [int(part) for part in text.split(",")]


T = TypeVar("T", bound=TrialLike)


class NoLogs(OneginError, LookupError):
    """A trial asked for by number has no logs, or none of the job's trials has any."""


def select_trials(job_id: str, trials: Sequence[T], numbers: Sequence[int] | None) -> list[T]:
    """Every trial of the job when ``numbers`` is empty, else those numbered (each once,
    in number order); `ConfigError` naming the numbers the job has no trial for."""
    by_number = {trial.number: trial for trial in trials}
    if not numbers:
        return [by_number[n] for n in sorted(by_number)]
    unknown = sorted({n for n in numbers if n not in by_number})
    if unknown:
        has = f"its trials are {number_ranges(by_number)}" if by_number else "it has no trials"
        raise ConfigError(FIELD, f"job {job_id} has no trial {number_ranges(unknown)} ({has})")
    return [by_number[n] for n in sorted(set(numbers))]


def keep_logged(job_id: str, chosen: Sequence[T], logged: Collection[int], *,
                named: bool) -> tuple[list[T], str]:
    """The ``chosen`` trials whose numbers are ``logged`` (have logs), and a note on the
    others ("" if none). Trials asked for by number (``named``) must all have logs;
    otherwise those without are left out, as long as one has them (else `NoLogs`)."""
    kept = [trial for trial in chosen if trial.number in logged]
    missing = [trial for trial in chosen if trial.number not in logged]
    if named and missing:
        raise NoLogs(f"no TensorBoard logs for {without_logs(missing)}")
    if not kept:
        raise NoLogs(f"job {job_id} has no TensorBoard logs yet: {without_logs(missing)}"
                     if missing else f"job {job_id} has no trials yet")
    return kept, without_logs(missing)


def number_ranges(numbers: Iterable[int]) -> str:
    """``[0, 1, 2, 3, 7, 9, 10]`` -> ``"0–3, 7, 9–10"``: many numbers in a short line."""
    spans: list[list[int]] = []
    for n in sorted(set(numbers)):
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in spans)


def without_logs(trials: Iterable[TrialLike]) -> str:
    """The trials that have no logs, grouped by why: ``trials 3, 8–9 (failed); trial 5
    (running: its logs are stored when it ends)``."""
    groups: dict[str, list[int]] = {}
    for trial in trials:
        reason = (f"{trial.status}: its logs are stored when it ends"
                  if trial.status in (TrialStatus.QUEUED, TrialStatus.RUNNING) else trial.status)
        groups.setdefault(reason, []).append(trial.number)
    return "; ".join(f"{'trial' if len(numbers) == 1 else 'trials'} "
                     f"{number_ranges(numbers)} ({reason})"
                     for reason, numbers in groups.items())
