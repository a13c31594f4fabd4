"""What `onegin compare` says while it runs: a line as each of its runs starts and ends.

A comparison's runs are jobs with events of their own, and the comparison publishes
only its own status, so the display reads the runs from the records now and then
(`run_lines` decides what to say, pure).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from onegin.compare_config import arm_of, is_retrain, split_seed
from onegin.records import JobRecord, RecordStore

LOOK_EVERY = 2.0  # seconds between looks at the runs


def run_lines(seen: dict[str, str], runs: Sequence[JobRecord]) -> list[str]:
    """A line per run whose status changed since ``seen`` (which is brought up to date)."""
    lines = []
    for run in runs:
        if seen.get(run.id) == run.status:
            continue
        seen[run.id] = run.status
        what = "retrain on seed" if is_retrain(run) else "seed"
        line = f"{arm_of(run)} arm, {what} {split_seed(run)}: job {run.id} {run.status}"
        if run.terminal and run.best_accuracy is not None:
            line += f", best validation accuracy {run.best_accuracy:.4f}"
        lines.append(line)
    return lines


class ComparisonDisplay:
    """Says each run's changes with ``say`` from a thread, while the comparison runs."""

    def __init__(self, records: RecordStore, comparison_id: str,
                 say: Callable[[str], None]) -> None:
        self.records = records
        self.comparison_id = comparison_id
        self.say = say
        self.seen: dict[str, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, daemon=True,
                                        name=f"compare-display-{comparison_id}")

    def __enter__(self) -> ComparisonDisplay:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._look()  # the last changes too

    def _follow(self) -> None:
        while not self._stop.wait(LOOK_EVERY):
            try:
                self._look()
            except Exception as exc:  # a display never stops the comparison
                self.say(f"could not read the comparison's runs: {exc}")

    def _look(self) -> None:
        for line in run_lines(self.seen, self.records.list_children(self.comparison_id)):
            self.say(line)
