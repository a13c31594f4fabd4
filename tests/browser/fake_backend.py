"""FAKE BACK END: a small stand-in for the Onegin web API, for dashboard tests only.

It implements just the REST + Socket.IO contract the dashboard is built against,
with canned data and a scripted "job" whose trials emit ``trial_progress`` /
``trial_finished`` events on a timer (no TensorFlow, no Celery, no database). It
serves the real ``webapp/templates/index.html`` and ``webapp/static``. It is NOT
the product: once ``webapp.app`` (the real back end) lands, the browser tests
target that, and this module stays only as a development aid
(``python -m tests.browser.fake_backend --port 5077`` then open the URL).

Job records, events and validation come from the real ``onegin`` modules
(``validate_config``, ``make_event``, the dataset registry, scoring weights), so the
shapes match the contract even though the numbers are made up.
"""

from __future__ import annotations

import argparse
import io
import itertools
import math
import random
import secrets
import struct
import threading
import time
import uuid
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from flask import Flask, Response, abort, jsonify, render_template, request, session
from flask_socketio import SocketIO, emit, join_room

from onegin.datasets import DATASETS, get_spec
from onegin.errors import ConfigErrors
from onegin.events.schema import SOCKETIO_NAMESPACE, job_progress_data, job_room, make_event
from onegin.job_config import validate_config
from onegin.scoring import (
    DEFAULT_ACCURACY_WEIGHT,
    DEFAULT_HEALTH_WEIGHTS,
    HEALTH_COMPONENTS,
    OBJECTIVES,
    ScoringWeights,
    describe_formula,
    total_score,
)
from onegin.search_space import space_for
from onegin.statuses import describe as describe_statuses
from webapp.headers import install_security_headers

WEBAPP = Path(__file__).resolve().parents[2] / "webapp"
PLOT_NAMES = ("history", "confusion_matrix", "gradient_flow", "weights", "activation_maps",
              "activation_progression")
TOKEN = "onegin-test-token"
PHASES_AFTER_TRAINING = ("evaluating", "computing_health", "plotting", "saving", "uploading")
STEPS_PER_EPOCH = 12


def _now() -> str:
    return datetime.now(UTC).isoformat()


# ---- canned artefacts --------------------------------------------------------


def canned_png(seed: int, width: int = 480, height: int = 300) -> bytes:
    """A small plot-looking PNG (axes and coloured bars), made without any imaging library."""
    rng = random.Random(seed)
    color = (rng.randrange(30, 200), rng.randrange(60, 200), rng.randrange(120, 240))
    bars = [rng.uniform(0.2, 0.95) for _ in range(8)]
    rows = []
    for y in range(height):
        row = bytearray(b"\x00")
        for x in range(width):
            pixel = (255, 255, 255)
            if x == 40 or y == height - 30:
                pixel = (60, 60, 60)
            elif 40 < x < width - 10 and y < height - 30:
                slot = (x - 40) * len(bars) // (width - 50)
                in_bar = (x - 40) % ((width - 50) // len(bars)) > 8
                if in_bar and y > (height - 30) * (1 - bars[slot]):
                    pixel = color
            row += bytes(pixel)
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"".join(rows), 6)) + chunk(b"IEND", b""))


def canned_architecture(params: dict[str, Any], input_shape: tuple[int, ...],
                        num_classes: int, modality: str) -> dict[str, Any]:
    """A plausible layer graph for ``params`` (the shape gpu_worker/architecture.py writes)."""
    layers: list[dict[str, Any]] = [{"name": "input_layer", "type": "InputLayer",
                                     "output_shape": [None, *input_shape], "params": 0}]

    def add(kind: str, shape: list[int | None], count: int, **extra: Any) -> None:
        base = kind.lower()
        used = sum(1 for layer in layers if layer["type"] == kind)
        name = base if used == 0 else f"{base}_{used}"
        layers.append({"name": name, "type": kind, **extra, "output_shape": shape,
                       "params": count})

    if modality == "image":
        h, w, c = input_shape
        filters = int(params.get("filters", 32))
        k = int(params.get("kernel_size", 3))
        for i in range(int(params.get("conv_layers", 2))):
            add("Conv2D", [None, h, w, filters], k * k * c * filters + filters,
                filters=filters, kernel_size=[k, k], activation=params.get("activation", "relu"))
            if params.get("batch_norm"):
                add("BatchNormalization", [None, h, w, filters], 4 * filters)
            c = filters
            if h >= 4 and i < 2:
                h, w = h // 2, w // 2
                add("MaxPooling2D", [None, h, w, c], 0, pool_size=[2, 2])
        if params.get("pooling") == "global":
            add("GlobalAveragePooling2D", [None, c], 0)
            width = c
        else:
            width = h * w * c
            add("Flatten", [None, width], 0)
    else:
        dim = int(params.get("embedding_dim", 64))
        add("Embedding", [None, input_shape[0], dim], 20_000 * dim, output_dim=dim)
        width = dim
        for i in range(int(params.get("lstm_layers", 1))):
            units = int(params.get("lstm_units", 64))
            last = i == int(params.get("lstm_layers", 1)) - 1
            add("LSTM", [None, units] if last else [None, input_shape[0], units],
                4 * units * (width + units + 1), units=units, activation="tanh")
            width = units
    for _ in range(int(params.get("dense_layers", 1))):
        units = int(params.get("dense_units", 128))
        add("Dense", [None, units], width * units + units, units=units,
            activation=params.get("activation", "relu"))
        if params.get("dropout", 0) > 0:
            add("Dropout", [None, units], 0, rate=round(float(params["dropout"]), 2))
        width = units
    add("Dense", [None, num_classes], width * num_classes + num_classes, units=num_classes,
        activation="softmax")
    edges = [{"source": a["name"], "target": b["name"], "shape": a["output_shape"]}
             for a, b in itertools.pairwise(layers)]
    total = sum(layer["params"] for layer in layers)
    return {"layers": layers, "edges": edges, "total_params": total, "trainable_params": total}


def summarize(architecture: dict[str, Any]) -> str:
    kinds = [layer["type"] for layer in architecture["layers"]
             if layer["type"] not in {"InputLayer", "BatchNormalization", "Dropout"}]
    folded: list[list[Any]] = []
    for kind in kinds:
        if folded and folded[-1][0] == kind:
            folded[-1][1] += 1
        else:
            folded.append([kind, 1])
    text = " → ".join(k if n == 1 else f"{n}×{k}" for k, n in folded)
    return f"{text} ({architecture['total_params']:,} params)"


# ---- state -------------------------------------------------------------------


@dataclass
class FakeJob:
    id: str
    config: dict[str, Any]
    created_at: str
    status: str = "queued"
    started_at: str | None = None
    finished_at: str | None = None
    best_trial_number: int | None = None
    best_score: float | None = None
    best_accuracy: float | None = None
    error: str | None = None
    trials: dict[int, dict[str, Any]] = field(default_factory=dict)
    architectures: dict[int, dict[str, Any]] = field(default_factory=dict)
    durations: list[float] = field(default_factory=list)
    cancel: threading.Event = field(default_factory=threading.Event)

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for trial in self.trials.values():
            counts[trial["status"]] = counts.get(trial["status"], 0) + 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "name": self.config.get("name") or "", "status": self.status,
            "config": self.config, "created_at": self.created_at, "started_at": self.started_at,
            "finished_at": self.finished_at, "best_trial_number": self.best_trial_number,
            "best_score": self.best_score, "best_accuracy": self.best_accuracy,
            "error": self.error, "counts": self.counts(), "budget": self.config["trials"],
        }


class FakeRunner:
    """Plays a job: trials in parallel threads, each stepping through the real phases."""

    def __init__(self, socketio: SocketIO, jobs: dict[str, FakeJob], lock: threading.RLock,
                 step: float) -> None:
        self.socketio, self.jobs, self.lock, self.step = socketio, jobs, lock, step

    def emit(self, job: FakeJob, type_: str, trial: int | None = None, **data: Any) -> None:
        event = make_event(type_, job.id, trial=trial, **data)
        self.socketio.emit(type_, event, to=job_room(job.id), namespace=SOCKETIO_NAMESPACE)

    def sleep(self, steps: float = 1.0) -> None:
        if self.step:
            time.sleep(self.step * steps)

    def run(self, job: FakeJob) -> None:
        config = job.config
        self.sleep(2)
        with self.lock:
            job.status, job.started_at = "running", _now()
        self.emit(job, "job_status", status="running")
        slots = threading.Semaphore(config["concurrency"])
        threads = []
        for number in range(config["trials"]):
            slots.acquire()
            if job.cancel.is_set():
                slots.release()
                break
            with self.lock:
                job.trials[number] = self.new_trial(job, number)
            thread = threading.Thread(target=self.trial, args=(job, number, slots), daemon=True)
            threads.append(thread)
            thread.start()
        for thread in threads:
            thread.join()
        self.finish(job)

    def new_trial(self, job: FakeJob, number: int) -> dict[str, Any]:
        return {"job_id": job.id, "number": number, "status": "queued", "params": {},
                "architecture_summary": None, "metrics": None, "health": None,
                "health_score": None, "total_score": None, "val_accuracy": None,
                "worker": None, "queued_at": _now(), "started_at": None, "finished_at": None,
                "error": None, "retry_of": None, "intermediate": {}}

    def trial(self, job: FakeJob, number: int, slots: threading.Semaphore) -> None:
        try:
            self.play_trial(job, number)
        finally:
            slots.release()

    def play_trial(self, job: FakeJob, number: int) -> None:
        config = job.config
        rng = random.Random(f"{job.id}-{number}")
        spec = get_spec(config["dataset"])
        params = space_for(spec.modality, config.get("params")).sample(rng)
        worker = f"fake-worker-{number % max(1, config['concurrency'])}"
        start = time.monotonic()
        with self.lock:
            job.trials[number].update(status="running", params=params, worker=worker,
                                      started_at=_now())
        self.emit(job, "trial_started", number, params=params, worker=worker)
        epochs = config["epochs"]

        def progress(phase: str, epoch: int, fraction: float, metrics: dict[str, float]) -> None:
            overall = 0.0 if phase in ("loading_data", "building") else (
                1.0 if phase != "training" else min(1.0, (epoch - 1 + fraction) / epochs))
            self.emit(job, "trial_progress", number, phase=phase, epoch=epoch, epochs=epochs,
                      epoch_fraction=fraction, fraction=overall, metrics=metrics)

        for phase in ("loading_data", "building"):
            progress(phase, 0, 0.0, {})
            self.sleep()
        accuracy = 0.0
        for epoch in range(1, epochs + 1):
            for step in range(1, STEPS_PER_EPOCH + 1):
                if job.cancel.is_set():
                    self.cancel_trial(job, number)
                    return
                fraction = step / STEPS_PER_EPOCH
                accuracy = min(0.99, 0.55 + 0.4 * (1 - math.exp(-(epoch - 1 + fraction)))
                               + rng.uniform(-0.03, 0.03))
                metrics = {"loss": round(1.5 * (1 - accuracy), 4),
                           "accuracy": round(accuracy, 4)}
                if step == STEPS_PER_EPOCH:
                    metrics["val_accuracy"] = round(accuracy - rng.uniform(0, 0.03), 4)
                progress("training", epoch, fraction, metrics)
                self.sleep()
        for phase in PHASES_AFTER_TRAINING:
            progress(phase, epochs, 1.0, {})
            self.sleep(0.5)
        result = self.result(job, number, params, rng, time.monotonic() - start)
        progress("done", epochs, 1.0, {"total_score": result["total_score"]})
        with self.lock:
            self.record(job, number, result)
        self.emit(job, "trial_finished", number, status="completed", result=result)
        self.publish_progress(job)

    def result(self, job: FakeJob, number: int, params: dict[str, Any], rng: random.Random,
               seconds: float) -> dict[str, Any]:
        config = job.config
        spec = get_spec(config["dataset"])
        architecture = canned_architecture(params, spec.input_shape, spec.num_classes,
                                           spec.modality)
        job.architectures[number] = architecture
        val_accuracy = round(rng.uniform(0.82, 0.985), 4)
        health = {name: round(rng.uniform(0.45, 0.97), 3) for name in HEALTH_COMPONENTS}
        weights = ScoringWeights.from_mapping(config.get("weights"))
        h_score = sum(weights.health[n] * health[n] for n in HEALTH_COMPONENTS)
        score = total_score(config["objective"], val_accuracy, health, weights)
        plots = list(PLOT_NAMES) if config.get("plot_mode") in ("all", "best") else []
        if config.get("plot_mode") == "best" and job.best_score is not None \
                and score < job.best_score:
            plots = []
        return {
            "status": "completed", "params": params, "epochs_run": config["epochs"],
            "val_accuracy": val_accuracy, "val_loss": round(1 - val_accuracy + 0.05, 4),
            "test_accuracy": round(val_accuracy - rng.uniform(0, 0.02), 4),
            "test_loss": round(1.1 - val_accuracy, 4), "health": health,
            "health_score": round(h_score, 4), "total_score": round(score, 4),
            "objective": config["objective"], "param_count": architecture["total_params"],
            "architecture_summary": summarize(architecture),
            "timings": {"loading_data": 0.1, "building": 0.2, "training": round(seconds * 0.7, 3),
                        "computing_health": 0.3, "plotting": 0.4},
            "plots": plots, "worker": f"fake-worker-{number}",
            "artifact_prefix": f"jobs/{job.id}/trials/{number}/",
        }

    def record(self, job: FakeJob, number: int, result: dict[str, Any]) -> None:
        trial = job.trials[number]
        metric_keys = ("val_loss", "test_accuracy", "test_loss", "epochs_run", "param_count",
                       "timings", "plots")
        trial.update(
            status="completed", params=result["params"], finished_at=_now(),
            architecture_summary=result["architecture_summary"], health=result["health"],
            health_score=result["health_score"], total_score=result["total_score"],
            val_accuracy=result["val_accuracy"],
            metrics={k: result[k] for k in metric_keys},
            intermediate={str(result["epochs_run"]): result["val_accuracy"]},
        )
        started = datetime.fromisoformat(trial["started_at"] or trial["queued_at"])
        job.durations.append((datetime.now(UTC) - started).total_seconds())
        if job.best_score is None or result["total_score"] > job.best_score:
            job.best_trial_number = number
            job.best_score = result["total_score"]
            job.best_accuracy = result["val_accuracy"]

    def cancel_trial(self, job: FakeJob, number: int) -> None:
        with self.lock:
            job.trials[number].update(status="cancelled", finished_at=_now())
        self.emit(job, "trial_finished", number, status="cancelled",
                  result={"status": "cancelled"})
        self.publish_progress(job)

    def publish_progress(self, job: FakeJob) -> None:
        with self.lock:
            data = job_progress_data(job.counts(), job.config["trials"], job.durations,
                                     job.config["concurrency"], job.best_accuracy,
                                     job.best_score)
        self.emit(job, "job_progress", **data)

    def finish(self, job: FakeJob) -> None:
        with self.lock:
            job.status = "cancelled" if job.cancel.is_set() else "completed"
            job.finished_at = _now()
        self.emit(job, "job_status", status=job.status)
        self.publish_progress(job)
        self.emit(job, "job_finished", status=job.status, best_trial=job.best_trial_number,
                  best_score=job.best_score, best_accuracy=job.best_accuracy)


# ---- the app ---------------------------------------------------------------------


def create_fake_app(*, auth: bool = False, step: float = 0.1,
                    demo_job: bool = True) -> tuple[Flask, SocketIO]:
    """The fake back end. ``auth=False`` mimics the embedded server's loopback mode."""
    app = Flask(__name__, template_folder=str(WEBAPP / "templates"),
                static_folder=str(WEBAPP / "static"), static_url_path="/static")
    app.secret_key = secrets.token_hex(16)
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 0
    install_security_headers(app)  # the real app's headers: the dashboard must work under them
    socketio = SocketIO(app, async_mode="threading", logger=False, engineio_logger=False)
    jobs: dict[str, FakeJob] = {}
    lock = threading.RLock()
    runner = FakeRunner(socketio, jobs, lock, step)

    if demo_job:  # one finished job so the jobs page and the best model have content at once
        config = validate_config({"dataset": "digits", "trials": 6, "epochs": 3,
                                  "concurrency": 2, "plot_mode": "all",
                                  "name": "Demo: digits CNN"}).to_dict()
        demo = FakeJob("demo", config, created_at=_now(), status="completed",
                       started_at=_now(), finished_at=_now())
        jobs["demo"] = demo
        for number in range(6):  # result() and record() neither sleep nor emit
            demo.trials[number] = runner.new_trial(demo, number)
            rng = random.Random(f"demo-{number}")
            params = space_for("image").sample(rng)
            demo.trials[number].update(started_at=_now(), worker="fake-worker-0")
            runner.record(demo, number, runner.result(demo, number, params, rng, 2.0))

    def user() -> dict[str, str] | None:
        if not auth:
            session.setdefault("csrf", secrets.token_urlsafe(16))
            return {"name": "local", "csrf_token": session["csrf"], "auth": "off"}
        if "user" in session:
            return {"name": session["user"], "csrf_token": session["csrf"]}
        return None

    @app.before_request
    def guard() -> Any:
        if not request.path.startswith("/api/"):
            return None
        if request.path == "/api/v1/session" and request.method in ("GET", "POST"):
            return None
        if user() is None:
            return jsonify(error="sign in first"), 401
        if request.method not in ("GET", "HEAD", "OPTIONS") \
                and request.headers.get("X-CSRF-Token") != session.get("csrf"):
            return jsonify(error="missing or wrong X-CSRF-Token"), 403
        return None

    def find(job_id: str) -> FakeJob:
        job = jobs.get(job_id)
        if job is None:
            abort(404)
        return job

    def page_args() -> tuple[int, int]:
        page = max(1, request.args.get("page", 1, type=int) or 1)
        per_page = min(200, max(1, request.args.get("per_page", 50, type=int) or 50))
        return page, per_page

    @app.errorhandler(404)
    def not_found(_error: Any) -> Any:
        return jsonify(error="not found"), 404

    @app.get("/")
    def index() -> str:
        return render_template("index.html")

    @app.get("/api/v1/session")
    def get_session() -> Any:
        who = user()
        return jsonify(who) if who else (jsonify(error="not signed in"), 401)

    @app.post("/api/v1/session")
    def sign_in() -> Any:
        if (request.get_json(silent=True) or {}).get("token") != TOKEN:
            return jsonify(error="invalid token"), 401
        session["user"], session["csrf"] = "tester", secrets.token_urlsafe(16)
        return jsonify(name="tester", csrf_token=session["csrf"])

    @app.delete("/api/v1/session")
    def sign_out() -> Any:
        session.clear()
        return Response(status=204)

    @app.get("/api/v1/datasets")
    def datasets() -> Any:
        return jsonify(datasets=[{
            "name": s.name, "title": s.title, "modality": s.modality,
            "num_classes": s.num_classes, "input_shape": list(s.input_shape), "url": s.url,
            "description": s.description} for s in DATASETS.values()])

    @app.get("/api/v1/scoring")
    def scoring() -> Any:
        weights = ScoringWeights()
        return jsonify(objectives=list(OBJECTIVES),
                       default_weights={"accuracy": DEFAULT_ACCURACY_WEIGHT,
                                        "health": dict(DEFAULT_HEALTH_WEIGHTS)},
                       components=list(HEALTH_COMPONENTS), formula=describe_formula(weights))

    @app.get("/api/v1/statuses")
    def statuses() -> Any:
        return jsonify(describe_statuses())

    @app.get("/api/v1/search-space")
    def search_space() -> Any:
        return jsonify({m: space_for(m).describe() for m in ("image", "text")})

    @app.post("/api/v1/jobs")
    def create_job() -> Any:
        try:
            config = validate_config(request.get_json(silent=True) or {})
        except ConfigErrors as exc:
            return jsonify(error="invalid job configuration", fields=exc.as_dict()), 422
        job = FakeJob(uuid.uuid4().hex[:12], config.to_dict(), created_at=_now())
        with lock:
            jobs[job.id] = job
        socketio.start_background_task(runner.run, job)
        return jsonify(job.to_dict()), 201

    @app.get("/api/v1/jobs")
    def list_jobs() -> Any:
        page, per_page = page_args()
        with lock:
            ordered = sorted(jobs.values(), key=lambda j: j.created_at, reverse=True)
            chunk = [j.to_dict() for j in ordered[(page - 1) * per_page: page * per_page]]
        return jsonify(jobs=chunk, total=len(ordered), page=page, per_page=per_page)

    @app.get("/api/v1/jobs/<job_id>")
    def get_job(job_id: str) -> Any:
        with lock:
            return jsonify(find(job_id).to_dict())

    @app.post("/api/v1/jobs/<job_id>/cancel")
    def cancel_job(job_id: str) -> Any:
        job = find(job_id)
        with lock:
            if job.status in ("queued", "running"):
                job.status = "cancelling"
                job.cancel.set()
                runner.emit(job, "job_status", status="cancelling")
            return jsonify(job.to_dict())

    @app.get("/api/v1/jobs/<job_id>/trials")
    def list_trials(job_id: str) -> Any:
        page, per_page = page_args()
        with lock:
            trials = [dict(t) for _, t in sorted(find(job_id).trials.items())]
        return jsonify(trials=trials[(page - 1) * per_page: page * per_page], total=len(trials),
                       page=page, per_page=per_page)

    @app.get("/api/v1/jobs/<job_id>/trials/<int:number>")
    def get_trial(job_id: str, number: int) -> Any:
        with lock:
            trial = find(job_id).trials.get(number)
            return jsonify(trial) if trial else abort(404)

    def plot(job: FakeJob, number: int | None, name: str) -> Response:
        trial = job.trials.get(number) if number is not None else None
        if trial is None or name not in ((trial.get("metrics") or {}).get("plots") or []):
            abort(404)
        seed = zlib.crc32(f"{job.id}/{number}/{name}".encode())
        return Response(canned_png(seed), mimetype="image/png")

    @app.get("/api/v1/jobs/<job_id>/trials/<int:number>/artifacts/plots/<name>.png")
    def trial_plot(job_id: str, number: int, name: str) -> Response:
        return plot(find(job_id), number, name)

    def best_of(job_id: str) -> FakeJob:
        job = find(job_id)
        if job.status not in ("completed", "cancelled", "failed") \
                or job.best_trial_number is None:
            abort(404)
        return job

    @app.get("/api/v1/jobs/<job_id>/best")
    def best(job_id: str) -> Any:
        job = best_of(job_id)
        trial = job.trials[job.best_trial_number]  # type: ignore[index]
        return jsonify(trial=trial["number"], params=trial["params"], metrics=trial["metrics"],
                       health=trial["health"], total_score=trial["total_score"],
                       val_accuracy=trial["val_accuracy"],
                       architecture=job.architectures[trial["number"]])

    @app.get("/api/v1/jobs/<job_id>/best/artifacts/plots/<name>.png")
    def best_plot(job_id: str, name: str) -> Response:
        job = best_of(job_id)
        return plot(job, job.best_trial_number, name)

    def best_yaml(job: FakeJob) -> bytes:
        trial = job.trials[job.best_trial_number]  # type: ignore[index]
        return yaml.safe_dump({"job_id": job.id, "trial": trial["number"],
                               "total_score": trial["total_score"],
                               "hyperparameters": trial["params"]}, sort_keys=False).encode()

    @app.get("/api/v1/jobs/<job_id>/best/model.keras")
    def best_model(job_id: str) -> Response:
        best_of(job_id)
        body = b"FAKE KERAS MODEL (fake back end)\n" * 32
        return Response(body, mimetype="application/octet-stream",
                        headers={"Content-Disposition": "attachment; filename=model.keras"})

    @app.get("/api/v1/jobs/<job_id>/best/best_hyperparameters.yaml")
    def best_params(job_id: str) -> Response:
        return Response(best_yaml(best_of(job_id)), mimetype="application/yaml",
                        headers={"Content-Disposition":
                                 "attachment; filename=best_hyperparameters.yaml"})

    @app.get("/api/v1/jobs/<job_id>/best/bundle.zip")
    def best_bundle(job_id: str) -> Response:
        job = best_of(job_id)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as bundle:
            bundle.writestr("model.keras", b"FAKE KERAS MODEL\n")
            bundle.writestr("best_hyperparameters.yaml", best_yaml(job))
        return Response(buffer.getvalue(), mimetype="application/zip",
                        headers={"Content-Disposition": "attachment; filename=bundle.zip"})

    @app.get("/api/v1/jobs/<job_id>/study")
    def study(job_id: str) -> Any:
        job = find(job_id)
        with lock:
            history = [{"number": t["number"], "value": t["total_score"],
                        "state": {"completed": "COMPLETE", "pruned": "PRUNED"}.get(
                            t["status"], "FAIL" if t["status"] in ("failed", "lost") else
                            "RUNNING")}
                       for _, t in sorted(job.trials.items())
                       if t["status"] not in ("queued", "running")]
        names = space_for(get_spec(job.config["dataset"]).modality).names()
        raw = [1 / (i + 1.5) for i in range(len(names))]
        importances = {n: round(v / sum(raw), 4) for n, v in zip(names, raw, strict=True)}
        return jsonify(history=history, importances=importances,
                       importance_trials=sum(h["state"] == "COMPLETE" for h in history))

    @socketio.on("connect", namespace=SOCKETIO_NAMESPACE)
    def connect(_auth: Any = None) -> bool:
        return user() is not None

    @socketio.on("join", namespace=SOCKETIO_NAMESPACE)
    def join(data: Any) -> None:
        job_id = (data or {}).get("job_id")
        with lock:
            job = jobs.get(job_id) if isinstance(job_id, str) else None
            if job is None:
                emit("error", {"error": f"no job {job_id!r}"})
                return
            join_room(job_room(job.id))
            snapshot = {"job": job.to_dict(),
                        "trials": [dict(t) for _, t in sorted(job.trials.items())]}
        emit("snapshot", snapshot)

    return app, socketio


def main() -> None:
    parser = argparse.ArgumentParser(description="FAKE Onegin back end for dashboard work")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5077)
    parser.add_argument("--auth", action="store_true", help=f"require the token {TOKEN!r}")
    parser.add_argument("--step", type=float, default=0.25, help="seconds per progress step")
    args = parser.parse_args()
    app, socketio = create_fake_app(auth=args.auth, step=args.step)
    print(f"FAKE back end on http://{args.host}:{args.port}/ (not the real Onegin server)")
    socketio.run(app, host=args.host, port=args.port, allow_unsafe_werkzeug=True)


if __name__ == "__main__":
    main()
