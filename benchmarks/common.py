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


def write(name: str, payload: dict[str, Any], rows: Sequence[tuple[str, str]]) -> Path:
    """Write ``results/<name>.json`` and print a two-column table."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2))
    width = max(len(k) for k, _ in rows)
    print(f"\n{name}\n" + "-" * (width + 24))
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    print(f"\nwritten to {path}")
    return path


def markdown(table: Sequence[tuple[str, str]]) -> str:
    """The same two-column table as markdown (``results/<name>.md``)."""
    return "| figure | value |\n|---|---|\n" + "".join(f"| {k} | {v} |\n" for k, v in table)
