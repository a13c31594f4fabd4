"""Jobs, trials and best models written into a home's records and artifacts as the
orchestrator leaves them, so a browser test shows every state without training a model."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from onegin.artifacts import best_prefix, open_artifact_store, report_prefix
from onegin.compare_config import CompareConfig
from onegin.job_config import OptimizationConfig
from onegin.job_kinds import JobKind
from onegin.records import RecordStore
from tests.browser.conftest import onegin_command

HEALTH = dict.fromkeys(("neuron_utilization", "parameter_efficiency", "training_stability",
                        "gradient_health", "convergence_quality", "accuracy_consistency"), 0.7)
DATASET = {"dataset": "digits", "num_classes": 10, "chance": 0.107}
ADAM = {"conv_layers": 2, "filters": 32, "optimizer": "adam", "learning_rate": 0.001,
        "activation": "relu", "batch_size": 32}
SGD = ADAM | {"conv_layers": 1, "optimizer": "sgd", "learning_rate": 0.05}


def make_token(home: Path, name: str, *flags: str) -> tuple[str, str]:
    """``onegin token create NAME FLAGS`` on ``home``, as an operator makes one: the secret it
    printed once, and the token's id (what the jobs it starts are owned by)."""
    secret = onegin_command(home, "token", "create", name, *flags).strip().splitlines()[-1]
    records = RecordStore(f"sqlite:///{home}/onegin.db")
    try:
        return secret, next(t.id for t in records.list_tokens() if t.name == name)
    finally:
        records.close()


def dense_architecture(layers: int, params: int) -> dict[str, Any]:
    """architecture.json of a stack of ``layers`` Dense layers."""
    names = ["input", *(f"dense_{i}" for i in range(layers - 1))]
    return {"layers": [{"name": n, "type": "Dense", "params": params // layers} for n in names],
            "edges": [], "total_params": params, "trainable_params": params}


class Seeder:
    """Writes jobs, trials and best models as the orchestrator leaves them; the jobs belong
    to ``owner`` (a token's id: a server that requires sign-in shows them to that token)."""

    def __init__(self, home: Path, owner: str | None = None) -> None:
        self.records = RecordStore(f"sqlite:///{home}/onegin.db", upgrade=True)
        self.artifacts = open_artifact_store(f"file://{home}/artifacts")
        self.start = datetime.now(UTC) - timedelta(hours=1)
        self.owner = owner

    def job(self, status_path: str, **config: Any) -> str:
        job = self.records.create_job(OptimizationConfig.from_dict(config).to_dict(),
                                      owner=self.owner)
        for status in status_path.split():
            self.records.update_job(job.id, status=status)
        return job.id

    def trial(self, job_id: str, number: int, status: str, params: dict[str, Any],
              **fields: Any) -> None:
        begun = self.start + timedelta(seconds=30 * number)
        self.records.upsert_trial(job_id, number, status=status, params=params,
                                  started_at=begun, **({} if status == "running" else {
                                      "finished_at": begun + timedelta(seconds=12)}),
                                  **fields)

    def completed(self, job_id: str, number: int, params: dict[str, Any], accuracy: float,
                  **fields: Any) -> None:
        """A completed trial; ``fields`` may replace its scores and add to its metrics."""
        metrics = {"epochs_run": 3, "dataset": DATASET, "test_accuracy": accuracy - 0.01,
                   **fields.pop("metrics", {})}
        self.trial(job_id, number, "completed", params, val_accuracy=accuracy,
                   total_score=fields.pop("total_score", accuracy), health=HEALTH,
                   health_score=fields.pop("health_score", 0.7), metrics=metrics, **fields)

    def best(self, job_id: str, number: int, accuracy: float, score: float,
             architecture: dict[str, Any]) -> None:
        self.records.update_job(job_id, best_trial_number=number, best_score=score,
                                best_accuracy=accuracy)
        prefix = best_prefix(job_id)
        self.artifacts.put_bytes(prefix + "architecture.json", json.dumps(architecture).encode())
        self.artifacts.put_bytes(prefix + "best_hyperparameters.yaml", yaml.safe_dump(
            {"job_id": job_id, "trial": number}).encode())

    def comparison(self, name: str, report_html: bytes) -> str:
        """A finished comparison (`onegin compare`) with its report, PDF and summary."""
        job = self.records.create_job(CompareConfig.from_dict(
            {"dataset": "digits", "seeds": 1, "name": name}).to_dict(), kind=JobKind.COMPARE,
            owner=self.owner)
        for status in ("running", "completed"):
            self.records.update_job(job.id, status=status)
        for file, data in (("report.html", report_html), ("report.pdf", b"%PDF-1.4 report"),
                           ("summary.json", b"{}")):
            self.artifacts.put_bytes(report_prefix(job.id) + file, data)
        return job.id
