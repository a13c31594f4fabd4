"""Evidence for health's skill gate: real trials that learned well, a little, or nothing.

Each case is one `train_trial` (the worker's own path: builder, callbacks, health)
with the hopeless-trial stop off, so useless models finish and are scored. Per case
and seed: validation accuracy, chance (the majority-class share of the validation
labels), skill, the gate, and health before the gate (the measurement,
``health_details["ungated"]``) and after it, with the default weights.

    .venv/bin/python benchmarks/health_gate.py [--cases ...] [--seeds 0 1]

Writes ``benchmarks/results/health_gate.json`` and prints a table; docs/health.md
quotes it. SMS spam is read from the shared data folder.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from benchmarks.common import SHARED_DATA, environment, write

Labels = Literal["true", "shuffled", "majority", "one"]


@dataclass(frozen=True)
class Case:
    """One kind of model: a warm-start configuration with overrides, and its labels."""

    dataset: str
    start: int  # index into WARM_STARTS[modality]
    overrides: Mapping[str, Any] = field(default_factory=dict)
    epochs: int = 3
    labels: Labels = "true"
    cap: int | None = None  # max_train_samples; validation gets half


CASES: dict[str, Case] = {
    "healthy-cnn": Case("digits", 0),
    "gap-cnn-10-epochs": Case("digits", 1, epochs=10),
    "weak-lr1e-4": Case("digits", 0, {"learning_rate": 1e-4}),
    "barely-lr3e-4-1-epoch": Case("digits", 0, {"learning_rate": 3e-4}, epochs=1),
    "barely-lr3e-5": Case("digits", 0, {"learning_rate": 3e-5}),
    "gap-cnn-3-epochs": Case("digits", 1),  # batch norm's statistics still lag: at chance
    "stuck-lr1e-6": Case("digits", 0, {"learning_rate": 1e-6}),
    "stuck-sgd-1e-5": Case("digits", 0, {"optimizer": "sgd", "learning_rate": 1e-5}),
    "shuffled-labels": Case("digits", 0, labels="shuffled"),
    "one-class": Case("digits", 0, labels="one"),
    "sms-healthy": Case("sms_spam", 0, epochs=2, cap=1200),
    "sms-stuck-lr1e-6": Case("sms_spam", 0, {"learning_rate": 1e-6}, epochs=2, cap=1200),
    "sms-majority-class": Case("sms_spam", 0, epochs=2, cap=1200, labels="majority"),
}


def _relabel(data: Any, labels: Labels, seed: int) -> Any:
    import numpy as np

    y = data.y_train
    if labels == "shuffled":
        y = np.random.default_rng(seed).permutation(y)
    elif labels == "majority":
        y = np.full_like(y, np.bincount(y).argmax())
    elif labels == "one":
        y = np.full_like(y, data.num_classes - 1)
    return replace(data, y_train=y)


def run_case(name: str, case: Case, seed: int) -> dict[str, Any]:
    from gpu_worker.datasets import load_dataset
    from gpu_worker.trainer import train_trial
    from onegin.scoring import ScoringWeights, health_score
    from onegin.search_space import WARM_STARTS
    from onegin.trial_message import TrialSpec

    data = load_dataset(case.dataset, seed=0, data_dir=SHARED_DATA, max_train_samples=case.cap,
                        max_eval_samples=None if case.cap is None else case.cap // 2)
    params = dict(WARM_STARTS[data.modality][case.start]) | dict(case.overrides)
    spec = TrialSpec(dataset=case.dataset, params=params, epochs=case.epochs, seed=seed,
                     hopeless_stop=False, plot_mode="none", tensorboard=False)
    with tempfile.TemporaryDirectory() as out:
        result = train_trial(spec, out, data=_relabel(data, case.labels, seed))
        details = json.loads((Path(out) / "metrics.json").read_text())["health_details"]
    assert result.health is not None and result.val_accuracy is not None
    weights = ScoringWeights()
    return {
        "case": name, "dataset": case.dataset, "seed": seed, "val_accuracy": result.val_accuracy,
        "chance": details["chance"], "skill": details["skill"], "gate": details["skill_gate"],
        "health_ungated": health_score(details["ungated"], weights),
        "health": health_score(result.health, weights),
        "ungated": details["ungated"], "components": result.health,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    args = parser.parse_args()

    from gpu_worker.runtime import configure_tensorflow

    configure_tensorflow()  # before any dataset: text loading starts TensorFlow
    rows = [run_case(name, CASES[name], seed) for name in args.cases for seed in args.seeds]
    table = [(f"{r['case']} seed {r['seed']}",
              f"acc {r['val_accuracy']:.3f}  chance {r['chance']:.3f}  skill {r['skill']:.3f}  "
              f"gate {r['gate']:.2f}  health {r['health_ungated']:.3f} -> {r['health']:.3f}")
             for r in rows]
    write("health_gate", {"environment": environment(), "rows": rows}, table)


if __name__ == "__main__":
    main()
