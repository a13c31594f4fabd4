"""The trial message both sides share: it round-trips through JSON, refuses a bad or
unknown-version message naming the field, and stays free of TensorFlow and the roles."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from onegin.errors import ConfigError
from onegin.job_config import MAX_EPOCHS, OptimizationConfig
from onegin.scoring import ScoringWeights
from onegin.trial_message import FROM_JOB, MESSAGE_VERSION, TrialResult, TrialSpec

CONFIG = OptimizationConfig.from_dict({
    "dataset": "digits", "epochs": 4, "seed": 11, "objective": "health", "plot_mode": "best",
    "max_train_samples": 300, "hopeless_stop": False, "holdout": True,
    "weights": {"accuracy": 0.6},
})
HOLDOUT: dict[str, Any] = {
    "samples": 180, "accuracy": 0.9, "worst_class_accuracy": 0.7,
    "per_class_accuracy": [0.9, 0.7, None], "ece": 0.05, "brier": 0.2,
    "robustness": {"gaussian_noise": [0.9, 0.8, 0.5], "blur": [0.8, 0.6, 0.4],
                   "occlusion": [0.85, 0.7, 0.6]},
    "robustness_mean": 0.68, "param_count": 1234, "latency_ms_per_256": 3.5,
}
COMPLETED: dict[str, Any] = {
    "status": "completed", "params": {"filters": 16}, "dataset": {"name": "digits"},
    "epochs_run": 3, "val_accuracy": 0.91, "val_loss": 0.3, "test_accuracy": 0.9,
    "test_loss": 0.31, "health": {"neuron_utilization": 0.8}, "health_score": 0.7,
    "total_score": 0.85, "objective": "health", "param_count": 1234,
    "architecture_summary": "conv", "timings": {"training": 1.5}, "plots": ["loss"],
    "artifacts": ["model.keras"], "pruned_at_epoch": None, "prune_reason": None,
    "prune_evidence": None, "holdout": HOLDOUT, "stopped_epoch": 2,
    "artifact_prefix": "jobs/j/trials/3/", "worker": "host:1",
}


def _over_json(data: dict[str, Any]) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(json.dumps(data))
    return loaded


def test_a_trial_spec_for_a_job_round_trips_through_json() -> None:
    spec = TrialSpec.for_trial(CONFIG, 3, {"filters": 32}, plot_threshold=0.8,
                               data_dir="/data")
    assert (spec.seed, spec.data_seed, spec.epochs) == (14, 11, 4)  # a seed of its own
    assert spec.weights == CONFIG.weights and spec.plot_mode == "best"
    assert {name: getattr(spec, name) for name in FROM_JOB} == \
        {name: getattr(CONFIG, name) for name in FROM_JOB}
    assert "hopeless_stop" in FROM_JOB and not spec.hopeless_stop
    assert "holdout" in FROM_JOB and spec.holdout
    message = _over_json(spec.to_dict())
    assert message["version"] == MESSAGE_VERSION
    assert TrialSpec.from_dict(message) == spec


def test_a_message_without_a_version_predates_versioning_and_reads_as_version_1() -> None:
    assert TrialSpec.from_dict({"epochs": 2}).version == 1
    assert TrialResult.from_dict({"status": "failed", "error": "x"}).version == 1


@pytest.mark.parametrize("version", [2, 0, "1", None, True])
def test_an_unknown_version_is_refused_naming_it(version: Any) -> None:
    for read, message in ((TrialSpec.from_dict, {}), (TrialResult.from_dict, COMPLETED)):
        with pytest.raises(ConfigError) as err:
            read({**message, "version": version})
        assert err.value.field == "version"
        assert "unknown message version" in err.value.reason


@pytest.mark.parametrize(
    ("message", "field"),
    [({"epochs": 0}, "epochs"), ({"epochs": MAX_EPOCHS + 1}, "epochs"),
     ({"seed": -1}, "seed"), ({"data_seed": 1.5}, "data_seed"),
     ({"objective": "x"}, "objective"), ({"plot_mode": "some"}, "plot_mode"),
     ({"max_train_samples": 0}, "max_train_samples"), ({"params": [1]}, "params"),
     ({"weights": {"accuracy": 2}}, "weights.accuracy"), ({"health": False}, "health"),
     ({"objective": "pareto", "health": False}, "health"),
     ({"tensorboard": "yes"}, "tensorboard"), ({"plot_threshold": float("nan")},
                                               "plot_threshold"),
     ({"data_dir": 3}, "data_dir"), ({"dataset": "no_such_data"}, "dataset"),
     ({"epochz": 3}, "epochz"), ({"hopeless_stop": 1}, "hopeless_stop"),
     ({"holdout": "yes"}, "holdout")],
)
def test_a_bad_trial_spec_is_refused_naming_the_field(message: dict[str, Any],
                                                      field: str) -> None:
    with pytest.raises(ConfigError) as err:
        TrialSpec.from_dict(message)
    assert err.value.field == field


def test_a_message_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(ConfigError) as err:
        TrialSpec.from_dict(["digits"])
    assert err.value.field == "message"


def test_the_epoch_cap_is_the_jobs() -> None:
    assert TrialSpec.from_dict({"epochs": MAX_EPOCHS}).epochs == MAX_EPOCHS
    assert TrialSpec.from_dict({"epochs": 8.0}).epochs == 8  # JSON's one number type


def test_a_completed_result_round_trips_and_keeps_every_metric() -> None:
    result = TrialResult.from_dict(_over_json(COMPLETED))
    assert result.score == 0.85 and result.worker == "host:1"
    message = result.to_dict()
    assert message == COMPLETED | {"version": MESSAGE_VERSION}
    assert "error" not in message and "history" not in message  # only when set


def test_a_failed_result_carries_only_what_it_has() -> None:
    failed = TrialResult(status="failed", error="bad data", cause="ValueError", worker="h:1")
    assert failed.to_dict() == {"status": "failed", "error": "bad data", "cause": "ValueError",
                                "worker": "h:1", "version": MESSAGE_VERSION}
    assert TrialResult.from_dict(failed.to_dict()) == failed


@pytest.mark.parametrize(
    ("message", "field"),
    [({}, "status"), ({"status": "error"}, "status"), ({"status": "completed"}, "total_score"),
     ({**COMPLETED, "total_score": "0.8"}, "total_score"),
     ({**COMPLETED, "val_accuracy": float("inf")}, "val_accuracy"),
     ({**COMPLETED, "epochs_run": -1}, "epochs_run"), ({**COMPLETED, "plots": "loss"}, "plots"),
     ({**COMPLETED, "stopped_epoch": "2"}, "stopped_epoch"),
     ({**COMPLETED, "health": [0.5]}, "health"), ({**COMPLETED, "error": 3}, "error"),
     ({**COMPLETED, "holdout": [0.9]}, "holdout"),
     ({**COMPLETED, "surprise": 1}, "surprise")],
)
def test_a_bad_result_is_refused_naming_the_field(message: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError) as err:
        TrialResult.from_dict(message)
    assert err.value.field == field


def test_weights_cross_as_a_mapping_and_come_back_as_weights() -> None:
    spec = TrialSpec.from_dict({"weights": {"accuracy": 0.5}})
    assert isinstance(spec.weights, ScoringWeights) and spec.weights.accuracy == 0.5
    assert spec.to_dict()["weights"] == spec.weights.to_dict()


def test_the_message_module_imports_neither_tensorflow_nor_a_role() -> None:
    code = ("import sys, onegin.trial_message\n"
            "bad = {'tensorflow', 'keras', 'gpu_worker', 'orchestrator', 'webapp'}\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & bad))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"
