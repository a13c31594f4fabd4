"""Run names and the choice of trials for `onegin tensorboard` and the logs' zip (pure)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from onegin.errors import ConfigError
from onegin.tensorboard.runs import MAX_NAME_BYTES, run_name, run_names, safe_name
from onegin.tensorboard.selection import (
    NoLogs,
    keep_logged,
    number_ranges,
    parse_numbers,
    select_trials,
    without_logs,
)


def test_runs_are_told_apart_by_the_parameters_that_differ() -> None:
    names = run_names({
        7: {"conv_layers": 3, "learning_rate": 0.0012345, "batch_norm": True, "optimizer": "adam"},
        12: {"conv_layers": 2, "learning_rate": 0.1, "batch_norm": False, "optimizer": "adam"},
    })
    assert names == {
        7: "trial-007 · batch_norm=true conv_layers=3 learning_rate=0.00123",
        12: "trial-012 · batch_norm=false conv_layers=2 learning_rate=0.1",
    }
    assert run_names({1234: {"filters": 32}, 5: {"filters": 32}}) == {
        1234: "trial-1234", 5: "trial-0005"}  # nothing differs; numbers padded alike


def test_a_parameter_some_trials_lack_differs() -> None:
    assert run_names({0: {"a": 1}, 1: {"a": 1, "b": 2}}) == {0: "trial-000",
                                                              1: "trial-001 · b=2"}


def test_names_are_safe_folder_names_of_bounded_length() -> None:
    assert safe_name("trial-001 · path=a/b\\c:d\n") == "trial-001 · path=a_b_c_d_"
    assert safe_name("..hidden") == "_.hidden"
    long = {f"parameter_{i:02d}": 0.123456 for i in range(20)}
    name = run_name(3, long, sorted(long))
    assert len(name.encode()) <= MAX_NAME_BYTES and name.endswith(" …")
    assert name.startswith("trial-003 · parameter_00=0.123 parameter_01=0.123")


@dataclass(frozen=True)
class Trial:
    number: int
    status: str


TRIALS = [Trial(n, s) for n, s in enumerate(
    ["completed", "completed", "failed", "running", "pruned", "failed"])]


def test_trials_are_chosen_by_number_and_unknown_numbers_named() -> None:
    assert select_trials("j", TRIALS, []) == TRIALS
    assert select_trials("j", TRIALS, [4, 1, 4]) == [TRIALS[1], TRIALS[4]]
    with pytest.raises(ConfigError) as refused:
        select_trials("j", TRIALS, [1, 9, 7, 8, 12])
    assert (refused.value.field, refused.value.reason) == (
        "trials", "job j has no trial 7–9, 12 (its trials are 0–5)")
    with pytest.raises(ConfigError, match="it has no trials"):
        select_trials("j", [], [0])


@pytest.mark.parametrize("text", ["", "1,", "1, 2", "-1", "a", "١", "1;2", "12345678901"])
def test_numbers_in_a_query_must_be_digits_and_commas(text: str) -> None:
    with pytest.raises(ConfigError, match="must be trial numbers separated by commas"):
        parse_numbers(text)


def test_numbers_in_a_query_are_read() -> None:
    assert parse_numbers("4,01,9999999999") == [4, 1, 9_999_999_999]


def test_trials_without_logs_are_left_out_or_named() -> None:
    logged = {0, 1, 4}
    kept, note = keep_logged("j", TRIALS, logged, named=False)
    assert kept == [TRIALS[0], TRIALS[1], TRIALS[4]]
    assert note == ("trials 2, 5 (failed); trial 3 (running: its logs are stored when it "
                    "ends)")
    assert keep_logged("j", TRIALS[:2], logged, named=True) == (TRIALS[:2], "")
    with pytest.raises(NoLogs, match=r"^no TensorBoard logs for trial 2 \(failed\)$"):
        keep_logged("j", TRIALS[:3], logged, named=True)
    with pytest.raises(NoLogs, match=r"^job j has no TensorBoard logs yet: trial 3 \(running"):
        keep_logged("j", TRIALS[3:4], logged, named=False)
    with pytest.raises(NoLogs, match=r"^job j has no trials yet$"):
        keep_logged("j", [], logged, named=False)


def test_numbers_read_as_ranges() -> None:
    assert number_ranges([9, 0, 1, 2, 3, 7, 10, 3]) == "0–3, 7, 9–10"
    assert without_logs([]) == ""
