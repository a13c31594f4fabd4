"""Live terminal view of a job, fed only by its events (the same ones browsers get)."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from onegin.errors import ConfigError
from onegin.events import EventBus
from onegin.statuses import TrialStatus
from onegin.trial_message import TRAINED, TrialResult


class JobDisplay:
    """A bar per running trial (with its phase), trials done, best so far and ETA."""

    def __init__(self, events: EventBus, job_id: str, budget: int,
                 console: Console | None = None) -> None:
        self.events = events
        self.job_id = job_id
        self.progress = Progress(
            TextColumn("{task.description:<12}"), BarColumn(),
            TextColumn("{task.fields[info]}"), TimeElapsedColumn(),
            console=console or Console(stderr=True),
        )
        self.overall = self.progress.add_task("trials", total=budget, info="")
        self.trials: dict[int, TaskID] = {}
        self.finished = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, name="job-display", daemon=True)

    def __enter__(self) -> JobDisplay:
        self.progress.start()
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.progress.stop()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job_finished event arrives (for `--follow`)."""
        return self.finished.wait(timeout)

    def _follow(self) -> None:
        cursor: str | None = None
        while not self._stop.is_set() and not self.finished.is_set():
            events, cursor = self.events.read(self.job_id, cursor, timeout=0.5)
            for event in events:
                self.show(event)

    def show(self, event: Mapping[str, Any]) -> None:
        kind, data, number = event["type"], event.get("data", {}), event.get("trial")
        if kind == "trial_started" and number is not None:
            self._trial(number, "starting", 0.0, "")
        elif kind == "trial_progress" and number is not None:
            epoch = f"epoch {data['epoch']}/{data['epochs']}" if data.get("epoch") else ""
            self._trial(number, data["phase"], data.get("fraction", 0.0), epoch)
        elif kind == "trial_finished" and number is not None:
            task = self.trials.pop(number, None)
            if task is not None:
                self.progress.remove_task(task)
            # not markup: an error's text may hold brackets ("KeyError: ['x']")
            self.progress.console.print(_finished_line(number, data), markup=False,
                                        highlight=False)
        elif kind == "job_progress":
            self._overall(data)
        elif kind == "job_status" and data.get("waiting"):
            self.progress.console.print(waiting_line(data["waiting"]))
        elif kind == "job_finished":
            self.finished.set()

    def _trial(self, number: int, phase: str, fraction: float, info: str) -> None:
        if number not in self.trials:
            self.trials[number] = self.progress.add_task(f"trial {number}", total=1.0, info="")
        self.progress.update(self.trials[number], completed=fraction or 0.0,
                             info=f"{phase:<16} {info}")

    def _overall(self, data: Mapping[str, Any]) -> None:
        counts = data.get("counts", {})
        done = counts.get(TrialStatus.COMPLETED, 0) + counts.get(TrialStatus.PRUNED, 0)
        best = data.get("best_total_score")
        eta = data.get("eta_seconds")
        info = f"best {best:.4f}" if best is not None else "best —"
        info += f"  ETA {eta:.0f}s" if eta is not None else ""
        self.progress.update(self.overall, completed=done, info=info)


def _finished_line(number: int, data: Mapping[str, Any]) -> str:
    """A trained trial's line reads its `TrialResult`; one that does not read (or any
    other status: an error carries no result) says its status and error."""
    status = data.get("status")
    if status in TRAINED:
        try:
            result = TrialResult.from_dict(data.get("result"))
        except ConfigError:
            pass
        else:
            return _trained_line(number, result)
    return f"trial {number}: {status}" + (f" ({data['error']})" if data.get("error") else "")


def _trained_line(number: int, result: TrialResult) -> str:
    accuracy = "" if result.val_accuracy is None else f"  val acc {result.val_accuracy:.4f}"
    if result.status == TrialStatus.PRUNED:
        reason = result.prune_reason or "pruner"
        at = "" if result.pruned_at_epoch is None else f" at epoch {result.pruned_at_epoch}"
        detail = prune_detail(reason, result.prune_evidence or {})
        return f"trial {number}: pruned ({reason}){at}{accuracy}" + (
            f"  [{detail}]" if detail else "")
    stopped = ("" if result.stopped_epoch is None
               else f"  early-stopped at epoch {result.stopped_epoch}")
    return f"trial {number}: completed  score {result.score:.4f}{accuracy}{stopped}"


def prune_detail(reason: str, evidence: Mapping[str, Any]) -> str:
    """What a pruned trial measured against the limit that stopped it, in short (the
    dashboard's stop table says it at length, webapp/static/js/stopinfo.js); empty where
    the message lacks the figures: the pruner's and pace's are added by the
    orchestrator to the records, after the worker's event."""
    e = evidence
    if reason == "chance" and _all_numbers(e, "val_accuracy", "accuracy_limit", "val_loss",
                                           "loss_limit"):
        return (f"val acc {e['val_accuracy']:.1%} <= {e['accuracy_limit']:.1%}, "
                f"val loss {e['val_loss']:.3f} >= {e['loss_limit']:.3f}: chance level")
    if reason == "diverged" and _all_numbers(e, "limit"):
        loss = e.get("loss")
        shown = f"{loss:.4g}" if _all_numbers(e, "loss") else f"{loss or 'not finite'}"
        return f"training loss {shown}, limit {e['limit']:.1f}"
    if reason == "pruner" and _all_numbers(e, "value", "threshold"):
        return f"best val acc {e['value']:.1%} < {e['threshold']:.1%} ({e.get('rule')})"
    if reason == "too_slow" and _all_numbers(e, "predicted_seconds", "limit_seconds"):
        return (f"predicted {e['predicted_seconds']:.0f} s > {e['limit_seconds']:.0f} s "
                f"({e.get('factor')} x the median trial)")
    return ""


def _all_numbers(evidence: Mapping[str, Any], *keys: str) -> bool:
    return all(isinstance(evidence.get(key), int | float)
               and not isinstance(evidence.get(key), bool) for key in keys)


def waiting_line(waiting: Mapping[str, Any]) -> str:
    """What a job waiting for GPU workers says (the dashboard's job header says the same)."""
    depth = waiting.get("gpu_queue_depth")
    queued = ("" if depth is None
              else f" ({depth} trial{'' if depth == 1 else 's'} in the GPU queue)")
    return f"waiting for GPU workers since {waiting.get('since')}: no worker has started " \
           f"its trials{queued}"
