"""What the scaler remembers between steps: when each pod was first seen, last busy, last heard.

RunPod knows nothing about trials and Celery only says what a worker does *now*,
so how long a pod has been idle is the scaler's own memory. It is kept in a small
JSON file, so `--once` from cron and a restarted loop keep their idle clocks. A
pod the file does not know starts its clocks when first seen: losing the file
delays a scale-down by at most one idle timeout, never hastens it.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from gpu_worker.scaling.policy import PodView

log = logging.getLogger(__name__)
STATE_VERSION = 1


@dataclass(frozen=True)
class PodMemory:
    first_seen: float
    last_busy: float
    last_answer: float | None = None


@dataclass(frozen=True)
class ListedPod:
    """A pod as the provider lists it: only what the decision needs."""

    id: str
    name: str
    status: str


def observe(memory: Mapping[str, PodMemory], pods: Iterable[ListedPod],
            activity: Mapping[str, bool], now: float
            ) -> tuple[list[PodView], dict[str, PodMemory]]:
    """This step's views of ``pods`` and the memory to keep (pods no longer listed drop out).

    ``activity`` maps a worker's name (the pod's name) to busy/idle for every
    worker that answered; a pod whose worker is missing there did not answer.
    """
    views: list[PodView] = []
    kept: dict[str, PodMemory] = {}
    for pod in pods:
        mem = memory.get(pod.id) or PodMemory(first_seen=now, last_busy=now)
        busy = activity.get(pod.name)
        if busy is not None:
            mem = replace(mem, last_answer=now, last_busy=now if busy else mem.last_busy)
        kept[pod.id] = mem
        views.append(PodView(id=pod.id, name=pod.name, status=pod.status, busy=busy,
                             first_seen=mem.first_seen, last_busy=mem.last_busy,
                             last_answer=mem.last_answer))
    return views, kept


def load_memory(path: Path) -> dict[str, PodMemory]:
    """The remembered pods; an absent or unreadable file means none (with a warning)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != STATE_VERSION:
            raise ValueError(f"unknown version {data.get('version')!r}")
        return {str(pod_id): PodMemory(**fields) for pod_id, fields in data["pods"].items()}
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        log.warning("ignoring scaler state %s (%s); idle clocks restart now", path, exc)
        return {}


def save_memory(path: Path, memory: Mapping[str, PodMemory]) -> None:
    """Write atomically, so a crash mid-write leaves the previous state."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    data = {"version": STATE_VERSION, "pods": {k: asdict(v) for k, v in memory.items()}}
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)
