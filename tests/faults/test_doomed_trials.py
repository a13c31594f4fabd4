"""Trials that fail for their own reasons (bad data, out of memory) fail for good: never
re-run as if a worker had died, and a job whose trials all fail ends, naming the cause."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from tests.faults.conftest import OOM_DENSE_UNITS, FaultCluster
from tests.faults.invariant import assert_job_invariant
from tests.integration.harness import TINY, TINY_MODEL, Process, of_type, tiny_config

FINISH = 120.0  # a few tiny trials; a job that re-runs a doomed trial never gets there


def corrupt_image_folder(root: Path) -> Path:
    """Two classes of real PNGs, and one text file named x.png among them."""
    rng = np.random.default_rng(0)
    for label in ("circle", "square"):
        (root / label).mkdir(parents=True)
        for i in range(8):
            pixels = rng.integers(0, 255, (12, 12, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / label / f"{i}.png")
    (root / "square" / "x.png").write_text("this is not an image\n")
    return root


def test_a_corrupt_dataset_fails_the_job_within_three_trials(
        cluster: FaultCluster, orchestrator: Process, tmp_path: Path) -> None:
    folder = corrupt_image_folder(tmp_path / "shapes")
    job_id, watcher = cluster.submit(tiny_config(dataset=f"images:{folder}", trials=5,
                                                 concurrency=1, warm_start=False))
    finished = watcher.wait_for(of_type("job_finished"), timeout=FINISH)
    assert finished["data"]["status"] == "failed"
    checked = assert_job_invariant(cluster.services, job_id, failed_naming="x.png")
    ran = [t for t in checked.trials if t.started_at is not None or t.status != "cancelled"]
    assert 1 <= len(ran) <= 3, [(t.number, t.status) for t in checked.trials]
    assert all(t.status == "failed" and "x.png" in (t.error or "") for t in ran)
    # at most the one asked ahead is left, cancelled before it ever started
    assert len(checked.trials) - len(ran) <= 1
    assert not [t for t in checked.trials if t.retry_of is not None]


def test_out_of_memory_fails_the_trial_without_reruns(cluster: FaultCluster,
                                                      orchestrator: Process) -> None:
    too_big = TINY_MODEL | {"dense_units": OOM_DENSE_UNITS, "optimizer": "adam",
                            "learning_rate": 0.01}
    fits = TINY_MODEL | {"optimizer": "adam", "learning_rate": 0.01}
    config = tiny_config(trials=2, concurrency=1, pruner="none",
                         params=TINY["params"] | {"dense_units": {"low": 32, "high": 512}},
                         initial_params=[too_big, fits, fits])
    job_id, watcher = cluster.submit(config)
    watcher.wait_for(of_type("job_finished"), timeout=FINISH)
    checked = assert_job_invariant(cluster.services, job_id, budget=2)
    oom = checked.trials[0]
    assert oom.params["dense_units"] == OOM_DENSE_UNITS
    assert oom.status == "failed", (oom.status, oom.error)
    assert any(word in (oom.error or "") for word in ("OOM", "memory", "ResourceExhausted")), \
        oom.error
    assert not [t.number for t in checked.trials if t.retry_of is not None]
    assert [t.status for t in checked.trials[1:]] == ["completed", "completed"]
