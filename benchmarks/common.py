"""Shared benchmark plumbing: interleaved timing, environment facts, JSON + table output."""

from __future__ import annotations

import json
import platform
import statistics
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def interleave(runs: Mapping[str, Callable[[], Any]], repeats: int) -> dict[str, list[float]]:
    """Alternate the contenders so machine noise hits all of them alike."""
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, fn in runs.items():
            seconds[name].append(timed(fn)[0])
    return seconds


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def environment() -> dict[str, Any]:
    import os

    facts: dict[str, Any] = {"python": platform.python_version(), "machine": platform.machine(),
                             "cpus": os.cpu_count()}
    try:
        import tensorflow as tf

        facts["tensorflow"] = tf.__version__
        facts["gpus"] = [d.name for d in tf.config.list_physical_devices("GPU")]
    except ImportError:
        pass
    return facts


@contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    """A private PostgreSQL database beside ``admin_url``'s, dropped afterwards."""
    import sqlalchemy as sa

    name = f"onegin_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def write(name: str, payload: dict[str, Any], rows: Sequence[Sequence[str]],
          header: Sequence[str] = ()) -> Path:
    """Write ``results/<name>.json`` and print the table (a figure, then one value per column)."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2))
    lines = [tuple(header)] if header else []
    lines += [tuple(row) for row in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    text = ["  ".join(f"{cell:<{w}}" for cell, w in zip(line, widths, strict=True)).rstrip()
            for line in lines]
    print(f"\n{name}\n" + "-" * len(max(text, key=len)) + "\n" + "\n".join(text))
    print(f"\nwritten to {path}")
    return path


def markdown(table: Sequence[Sequence[str]],
             header: Sequence[str] = ("figure", "value")) -> str:
    """The same table as markdown (``results/<name>.md``)."""
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(cells) + " |\n"

    return line(header) + line(["---"] * len(header)) + "".join(line(row) for row in table)
