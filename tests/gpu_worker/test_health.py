"""Health components: the pure formulas, the skill gate, the loss recorder, and one broken
model per component.

Every model test trains a tiny real network on 8×8 digits and compares a model
broken in exactly one way with the same healthy control; two more have no skill at
all (stuck at chance, predicting one class) and must score low on every component.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from gpu_worker.runtime import configure_tensorflow

configure_tensorflow(threads=1)

import json  # noqa: E402
import math  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

from gpu_worker.health import BatchLossRecorder, HealthReport, compute_health  # noqa: E402
from gpu_worker.health import formulas as f  # noqa: E402
from onegin.scoring import HEALTH_COMPONENTS, ScoringWeights, health_score  # noqa: E402

MARGIN = 0.2  # a broken model must score at least this much below the healthy control
HEALTHY_FLOOR = 0.6  # the healthy control must score at least this on every component
# the components that, measured alone, called a digits model stuck at chance healthy
FLATTERED = ("neuron_utilization", "training_stability", "gradient_health")

@dataclass(frozen=True)
class Digits:
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray


def _digits() -> Digits:
    data = load_digits()
    x = (data.data / 16.0).astype("float32")
    y = data.target.astype("int64")
    order = np.random.default_rng(0).permutation(len(x))
    train, val = order[:600], order[600:900]
    return Digits(x[train], y[train], x[val], y[val])


DIGITS = _digits()


# --------------------------------------------------------------------------- formulas


def test_neuron_utilization_counts_varying_units_and_weights_by_unit_count() -> None:
    rng = np.random.default_rng(0)
    alive = rng.random((64, 10))
    dead = np.zeros((64, 30))
    assert f.neuron_utilization({"a": alive}) == 1.0
    assert f.neuron_utilization({"a": dead}) == 0.0
    assert f.neuron_utilization({"a": alive, "b": dead}) == pytest.approx(10 / 40)
    assert f.unit_activity({"a": alive, "b": dead}) == {"a": (10, 10), "b": (0, 30)}


def test_neuron_utilization_edge_cases() -> None:
    rng = np.random.default_rng(1)
    assert f.neuron_utilization({}) == 1.0  # nothing measurable, nothing dead
    assert f.neuron_utilization({"one_sample": rng.random((1, 8))}) == 1.0
    saturated = 1.0 - 1e-7 * rng.random((64, 4))  # a sigmoid pinned at 1
    mixed = np.concatenate([rng.random((64, 4)), saturated], axis=1)
    assert f.neuron_utilization({"a": mixed}) == pytest.approx(0.5)
    poisoned = rng.random((64, 4))
    poisoned[3, 1] = np.nan
    assert f.neuron_utilization({"a": poisoned}) == pytest.approx(0.75)
    assert f.neuron_utilization({"a": np.full((8, 4), np.inf)}) == 0.0


def test_neuron_utilization_is_per_channel_for_conv_maps_and_per_unit_for_sequences() -> None:
    rng = np.random.default_rng(2)
    conv = rng.random((32, 6, 6, 8))
    conv[..., :2] = 0.0  # two dead channels
    conv[..., 2] = rng.random((6, 6))  # varies in space but not across samples: uninformative
    assert f.unit_activity({"conv": conv}) == {"conv": (5, 8)}
    seq = rng.random((32, 7, 5))
    seq[..., 4] = 0.3
    assert f.neuron_utilization({"lstm": seq}) == pytest.approx(4 / 5)


def test_skill_is_the_share_of_the_way_from_the_majority_class_to_perfect() -> None:
    assert f.skill(0.1, 0.1) == 0.0  # at chance
    assert f.skill(0.05, 0.1) == 0.0  # below chance clips to 0
    assert f.skill(1.0, 0.1) == 1.0
    assert f.skill(0.55, 0.1) == pytest.approx(0.5)
    assert f.skill(0.866, 0.866) == 0.0  # always "ham" on SMS spam: no skill, not 0.73
    assert f.skill(0.933, 0.866) == pytest.approx(0.5)
    assert f.skill(math.nan, 0.1) == 0.0
    assert f.skill(math.inf, 0.1) == 0.0
    assert f.skill(1.0, 1.0) == 0.0  # one class only: no skill can be shown
    for chance in (math.nan, -0.1, 1.5):
        with pytest.raises(ValueError, match="chance"):
            f.skill(0.9, chance)


def test_skill_gate_closes_at_chance_and_leaves_real_skill_alone() -> None:
    assert f.skill_gate(f.skill(0.1, 0.1)) == 0.0  # at chance: every component scores 0
    assert f.skill_gate(f.skill(1.0, 0.1)) == 1.0  # perfect: components unchanged
    assert f.skill_gate(f.skill(math.nan, 0.1)) == 0.0
    assert f.skill_gate(math.nan) == 0.0
    assert f.skill_gate(-0.5) == 0.0
    assert f.skill_gate(f.GATE_FULL_SKILL) == 1.0  # from here on, components count in full
    assert f.skill_gate(f.GATE_FULL_SKILL / 2) == pytest.approx(0.5)
    gates = [f.skill_gate(s) for s in np.linspace(0.0, 1.0, 41)]
    assert gates == sorted(gates)


def test_parameter_efficiency_rewards_skill_and_small_models() -> None:
    assert f.parameter_efficiency(0.0, 1_000) == 0.0  # chance
    assert f.parameter_efficiency(1.0, 5_000) == 1.0
    assert f.parameter_efficiency(1.0, 100_000) == pytest.approx(0.5)
    assert f.size_factor(1_000_000) == pytest.approx(1 / 3)
    sizes = [f.parameter_efficiency(0.9, p) for p in (10_000, 50_000, 10**6, 10**8)]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] > sizes[-1]
    skills = [f.parameter_efficiency(f.skill(a, 0.1), 200_000) for a in (0.2, 0.5, 0.8, 0.99)]
    assert skills == sorted(skills) and skills[0] < skills[-1]
    assert f.parameter_efficiency(math.nan, 1_000) == 0.0
    assert f.parameter_efficiency(0.9, math.inf) == 0.0  # type: ignore[arg-type]


def test_training_stability_edge_cases() -> None:
    assert f.training_stability([]) == 1.0
    assert f.training_stability([2.3, 2.2]) == 1.0  # too short to show a trend
    assert f.training_stability([2.3] * 50) == pytest.approx(1.0)
    assert f.training_stability([2.3, 1.0, math.nan, 0.5]) == 0.0
    assert f.training_stability([2.3, math.inf, 0.5, 0.4]) == 0.0
    assert f.training_stability([*np.linspace(2.3, 0.1, 100), math.nan]) == 0.0


def test_training_stability_falls_with_noise_and_with_a_climbing_loss() -> None:
    rng = np.random.default_rng(3)
    curve = 2.3 * np.exp(-np.linspace(0, 3, 200))
    noise = rng.standard_normal(200)
    scores = [f.training_stability(np.abs(curve + s * noise)) for s in (0.0, 0.05, 0.2, 0.6)]
    assert scores[0] > 0.95
    assert scores == sorted(scores, reverse=True) and scores[-1] < 0.3
    climbing = np.linspace(0.5, 2.5, 200)
    assert f.training_stability(climbing) < 0.35
    assert f.training_stability(climbing[::-1]) > 0.95


def test_gradient_health_flags_vanishing_and_exploding_layers() -> None:
    even = {"d1": 1e-3, "d2": 2e-3, "d3": 5e-4, "out": 3e-3}
    assert f.gradient_health(even) == 1.0
    assert f.gradient_health({}) == 1.0
    assert f.gradient_health({"only": 1e-3}) == 1.0
    assert f.gradient_health({"only": 1e-12}) == 0.0  # below the absolute floor
    assert f.gradient_health({"only": 1e5}) == 0.0  # above the ceiling
    assert f.gradient_health({"a": 1e-3, "b": math.nan}) == 0.5
    assert f.gradient_health({"a": 1e-3, "b": math.inf}) == 0.5
    assert f.gradient_health({"a": 0.0, "b": 0.0}) == 0.0
    # a layer starved by 2 and then 4 decades relative to the median
    two = f.layer_gradient_scores({**even, "d1": 1e-5})
    four = f.layer_gradient_scores({**even, "d1": 1e-7})
    assert two["d1"] == pytest.approx(0.5, abs=0.05) and four["d1"] == 0.0
    assert f.gradient_health({**even, "d1": 1e-7}) == pytest.approx(0.75)


def test_convergence_quality_progress_and_kept_gain() -> None:
    k = 10
    chance = math.log(k)
    assert f.convergence_quality([chance], k) == 0.0
    assert f.convergence_quality([0.0], k) == 1.0
    assert f.convergence_quality([chance / 2], k) == pytest.approx(0.5)  # single epoch
    assert f.convergence_quality([], k) == 0.0
    assert f.convergence_quality([1.0, 0.5, math.nan], k) == 0.0
    assert f.convergence_quality([1.0, 0.2, 5.0], k) == 0.0  # diverged past chance
    assert f.convergence_quality([3.0, 4.0], k) == 0.0  # never beat chance
    finals = [f.convergence_quality([1.0, 0.2, end], k) for end in (0.2, 0.5, 1.0, 2.0)]
    assert finals == sorted(finals, reverse=True) and finals[0] > finals[-1]
    with pytest.raises(ValueError):
        f.convergence_quality([0.5], 1)


def test_accuracy_consistency_is_one_minus_twice_the_std_of_per_class_recall() -> None:
    y = np.repeat(np.arange(4), 10)
    assert f.accuracy_consistency(y, y, 4) == 1.0
    half = np.where(y < 2, y, np.where(y == 2, 3, 2))  # classes 0-1 right, 2-3 always wrong
    assert f.per_class_accuracy(y, half, 4) == [1.0, 1.0, 0.0, 0.0]
    assert f.accuracy_consistency(y, half, 4) == 0.0
    even_half = y.copy()
    even_half[::2] = (y[::2] + 1) % 4  # every class at 50 %
    assert f.accuracy_consistency(y, even_half, 4) == 1.0
    assert f.per_class_accuracy(y[y < 3], y[y < 3], 5) == [1.0, 1.0, 1.0, None, None]
    assert f.accuracy_consistency(np.array([], int), np.array([], int), 3) == 1.0
    assert f.accuracy_consistency(np.zeros(5, int), np.zeros(5, int), 3) == 1.0
    with pytest.raises(ValueError):
        f.accuracy_consistency(y, y[:-1], 4)
    with pytest.raises(ValueError):
        f.accuracy_consistency(y, y, 3)  # label 3 is out of range


def test_every_formula_stays_in_unit_interval_on_hostile_inputs() -> None:
    rng = np.random.default_rng(4)
    specials = [math.nan, math.inf, -math.inf, 0.0, -1.0, 1e30, -1e30]
    for _ in range(50):
        values = rng.standard_normal(20) * 10 ** rng.uniform(-6, 6)
        values[rng.integers(0, 20, 3)] = rng.choice(specials, 3)
        scores = [
            f.neuron_utilization({"a": values.reshape(5, 4)}),
            f.parameter_efficiency(float(values[0]), int(np.nan_to_num(abs(values[1])) % 1e9)),
            f.skill_gate(float(values[0])),
            f.skill(float(values[0]), 0.1),
            f.training_stability(values),
            f.training_stability(np.abs(values)),
            f.gradient_health({str(i): float(v) for i, v in enumerate(values)}),
            f.gradient_health({str(i): abs(float(v)) for i, v in enumerate(values)}),
            f.convergence_quality(values, 3),
            f.convergence_quality(np.abs(values), 3),
        ]
        for score in scores:
            assert isinstance(score, float) and 0.0 <= score <= 1.0, scores


# --------------------------------------------------------------------------- recorder


def _fixed_model() -> keras.Model:
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((64,)), keras.layers.Dense(16, activation="relu"),
         keras.layers.Dense(10, activation="softmax")]
    )
    model.compile(keras.optimizers.SGD(0.0), "sparse_categorical_crossentropy")
    return model


@pytest.mark.parametrize("samples", [96, 100])
def test_recorder_recovers_each_batch_loss_from_keras_running_means(samples: int) -> None:
    x, y = DIGITS.x_train[:samples], DIGITS.y_train[:samples]
    model = _fixed_model()  # a zero learning rate keeps every batch's loss known in advance
    probs = np.clip(model.predict(x, verbose=0), 1e-7, 1.0)
    per_sample = -np.log(probs[np.arange(samples), y])
    expected = [float(per_sample[i : i + 32].mean()) for i in range(0, samples, 32)]
    exact = BatchLossRecorder(samples=samples, batch_size=32)
    equal = BatchLossRecorder()
    model.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0, callbacks=[exact, equal])
    assert exact.losses == pytest.approx(expected * 2, rel=1e-3)
    running_means = np.cumsum(expected) / np.arange(1, len(expected) + 1)
    assert not np.allclose(running_means, expected, rtol=1e-3)  # the logs are not batch losses
    if samples % 32 == 0:
        assert equal.losses == pytest.approx(expected * 2, rel=1e-3)
    else:  # a short last batch is damped towards the epoch mean, the rest exact
        assert equal.losses[:3] == pytest.approx(expected[:3], rel=1e-3)
        assert abs(equal.losses[3] - running_means[-2]) < abs(expected[3] - running_means[-2])


def test_recorder_orders_batches_dispatched_out_of_order_and_keeps_raw_values() -> None:
    recorder = BatchLossRecorder()
    recorder.on_epoch_begin(0)
    for batch, mean in [(1, np.float32(1.5)), (0, np.float32(2.0)), (2, np.float32(1.0))]:
        recorder.on_train_batch_end(batch, {"loss": mean})
    assert recorder.losses == []  # converted at epoch end, not per batch
    recorder.on_epoch_end(0)
    assert recorder.losses == pytest.approx([2.0, 1.0, 0.0])
    recorder.on_epoch_begin(1)
    recorder.on_train_batch_end(0, {"loss": math.nan})
    recorder.on_train_end()
    assert math.isnan(recorder.losses[-1]) and f.training_stability(recorder.losses) == 0.0
    with pytest.raises(ValueError):
        BatchLossRecorder(samples=10)


# --------------------------------------------------------------------------- real models




@dataclass(frozen=True)
class Trained:
    model: keras.Model
    accuracy: float
    report: HealthReport

    def __getitem__(self, component: str) -> float:
        return self.report.components[component]


def _mlp(
    hidden: Sequence[int] = (32,), activation: str = "relu", learning_rate: float = 3e-3
) -> keras.Model:
    """Same naming as `gpu_worker.builder`: ``dense_N`` + ``dense_N_act``, then ``output``."""
    inputs = keras.Input((64,), name="image")
    x = inputs
    for i, units in enumerate(hidden, 1):
        x = keras.layers.Dense(units, name=f"dense_{i}")(x)
        x = keras.layers.Activation(activation, name=f"dense_{i}_act")(x)
    outputs = keras.layers.Dense(10, activation="softmax", name="output")(x)
    model = keras.Model(inputs, outputs)
    model.compile(
        keras.optimizers.Adam(learning_rate), "sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def _train(
    build: Callable[[], keras.Model],
    *,
    epochs: int = 8,
    y_train: np.ndarray | None = None,
    prepare: Callable[[keras.Model], Any] | None = None,
) -> Trained:
    keras.utils.set_random_seed(0)
    model = build()
    if prepare is not None:
        prepare(model)
    recorder = BatchLossRecorder()
    d = DIGITS
    fit = model.fit(
        d.x_train, d.y_train if y_train is None else y_train, validation_data=(d.x_val, d.y_val),
        epochs=epochs, batch_size=32, verbose=0, callbacks=[recorder],
    )
    y_pred = model.predict(d.x_val, verbose=0).argmax(axis=1)
    accuracy = float(np.mean(y_pred == d.y_val))
    report = compute_health(
        model, x_probe=d.x_val[:256], y_probe=d.y_val[:256], y_val=d.y_val, y_val_pred=y_pred,
        val_losses=fit.history["val_loss"], batch_losses=recorder.losses,
        val_accuracy=accuracy, num_classes=10,
    )
    return Trained(model, accuracy, report)


@pytest.fixture(scope="module")
def healthy() -> Trained:
    return _train(_mlp)


def _assert_broken(name: str, healthy: Trained, broken: Trained) -> None:
    """The measurement itself catches the break, not only the skill gate."""
    measured = broken.report.details["ungated"][name]
    print(f"{name}: healthy {healthy[name]:.3f} vs broken {measured:.3f} "
          f"(gated {broken[name]:.3f})")
    assert healthy[name] >= HEALTHY_FLOOR
    assert broken[name] <= measured <= healthy[name] - MARGIN


def _health(trained: Trained, ungated: bool = False) -> float:
    report = trained.report
    components = report.details["ungated"] if ungated else report.components
    return health_score(components, ScoringWeights())


@pytest.fixture(scope="module")
def stuck() -> Trained:
    """A learning rate of 1e-7: three epochs leave the weights where they started."""
    return _train(lambda: _mlp(learning_rate=1e-7), epochs=3)


def test_healthy_model_report_has_all_components_and_json_details(healthy: Trained) -> None:
    report = healthy.report
    assert healthy.accuracy > 0.85
    assert tuple(report.components) == HEALTH_COMPONENTS
    for name, value in report.components.items():
        assert isinstance(value, float) and 0.0 <= value <= 1.0, name
        assert value >= HEALTHY_FLOOR, name
    details = json.loads(json.dumps(report.details, allow_nan=False))
    assert list(details["gradient_norms"]) == ["dense_1", "output"]  # input to output
    assert set(details["active_fraction"]) == {"dense_1_act"}
    assert len(details["per_class_accuracy"]) == 10
    assert details["param_count"] == healthy.model.count_params()
    assert details["batch_count"] == 8 * math.ceil(600 / 32)
    assert details["probe_samples"] == 256
    assert details["skill_gate"] == 1.0  # real skill: the gate leaves every component alone
    assert details["ungated"] == report.components
    assert details["chance"] == pytest.approx(np.bincount(DIGITS.y_val).max() / len(DIGITS.y_val))


def test_dead_relus_lower_neuron_utilization(healthy: Trained) -> None:
    def kill_three_quarters(model: keras.Model) -> None:
        bias = np.zeros(32, "float32")
        bias[8:] = -50.0  # far below any pre-activation an input in [0, 1] can reach
        model.get_layer("dense_1").bias.assign(bias)

    broken = _train(_mlp, prepare=kill_three_quarters)
    _assert_broken("neuron_utilization", healthy, broken)
    assert broken.report.details["active_fraction"]["dense_1_act"] <= 0.25


def test_bloated_model_lowers_parameter_efficiency(healthy: Trained) -> None:
    broken = _train(lambda: _mlp(hidden=(1024, 1024), learning_rate=1e-3), epochs=5)
    assert broken.model.count_params() > 100 * healthy.model.count_params()
    assert broken.accuracy >= healthy.accuracy - 0.05  # as accurate, far bigger
    _assert_broken("parameter_efficiency", healthy, broken)


def test_huge_learning_rate_lowers_training_stability(healthy: Trained) -> None:
    broken = _train(lambda: _mlp(learning_rate=1.0))
    assert all(math.isfinite(v) for v in broken.report.details["val_losses"])
    _assert_broken("training_stability", healthy, broken)


def test_deep_sigmoid_stack_lowers_gradient_health(healthy: Trained) -> None:
    broken = _train(lambda: _mlp(hidden=(32,) * 10, activation="sigmoid"), epochs=3)
    _assert_broken("gradient_health", healthy, broken)
    norms = broken.report.details["gradient_norms"]
    assert norms["dense_1"] < 1e-3 * norms["output"]  # vanished towards the input


def test_tiny_learning_rate_lowers_convergence_quality(healthy: Trained, stuck: Trained) -> None:
    assert stuck.accuracy < 0.3
    _assert_broken("convergence_quality", healthy, stuck)


def test_half_shuffled_labels_lower_accuracy_consistency(healthy: Trained) -> None:
    y = DIGITS.y_train.copy()
    upper = y >= 5
    y[upper] = np.random.default_rng(0).permutation(y[upper])  # classes 5-9 become noise
    broken = _train(_mlp, y_train=y)
    recall = broken.report.details["per_class_accuracy"]
    assert min(recall[:5]) > max(recall[5:])  # good on the clean half, bad on the rest
    _assert_broken("accuracy_consistency", healthy, broken)


# --------------------------------------------------------------------------- no skill


def _assert_unhealthy_for_want_of_skill(healthy: Trained, broken: Trained) -> None:
    details = broken.report.details
    print(f"skill {details['skill']:.3f}, gate {details['skill_gate']:.3f}, health "
          f"{_health(broken):.3f} (ungated {_health(broken, ungated=True):.3f}) "
          f"vs healthy {_health(healthy):.3f}")
    assert details["skill_gate"] <= 0.2
    for name in HEALTH_COMPONENTS:  # no green bar: every component is gated down
        assert broken[name] <= 0.2, name
    assert _health(broken) <= 0.15
    assert _health(broken) <= _health(healthy) - 0.6


def test_model_stuck_at_chance_scores_low_health(healthy: Trained, stuck: Trained) -> None:
    assert stuck.accuracy <= stuck.report.details["chance"] + 0.05
    _assert_unhealthy_for_want_of_skill(healthy, stuck)
    # what the gate is for: measured alone, a model that never moved looks alive and sound
    ungated = stuck.report.details["ungated"]
    assert min(ungated[name] for name in FLATTERED) >= 0.8


def test_model_that_predicts_one_class_scores_zero_health(healthy: Trained) -> None:
    broken = _train(_mlp, y_train=np.full_like(DIGITS.y_train, 3))
    assert (broken.model.predict(DIGITS.x_val, verbose=0).argmax(axis=1) == 3).all()
    _assert_unhealthy_for_want_of_skill(healthy, broken)
    assert broken.report.details["skill"] == 0.0  # the share of 3s is not above chance
    assert all(value == 0.0 for value in broken.report.components.values())
    assert broken.report.details["ungated"]["gradient_health"] >= 0.8  # measured alone: fine
