"""The scaler's memory: idle clocks from worker answers, kept in a file across runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gpu_worker.scaling.tracking import ListedPod, PodMemory, load_memory, observe, save_memory

A = ListedPod("id-a", "onegin-gpu-aaaaaaaaaa", "RUNNING")
B = ListedPod("id-b", "onegin-gpu-bbbbbbbbbb", "RUNNING")


def test_a_new_pod_starts_its_clocks_when_first_seen() -> None:
    views, memory = observe({}, [A], {}, now=50.0)
    assert memory == {"id-a": PodMemory(first_seen=50.0, last_busy=50.0, last_answer=None)}
    assert (views[0].busy, views[0].first_seen, views[0].last_answer) == (None, 50.0, None)


def test_busy_resets_the_idle_clock_and_idle_keeps_it() -> None:
    memory = {"id-a": PodMemory(10.0, 10.0), "id-b": PodMemory(10.0, 10.0)}
    views, memory = observe(memory, [A, B], {A.name: True, B.name: False}, now=100.0)
    assert memory["id-a"] == PodMemory(10.0, 100.0, 100.0)
    assert memory["id-b"] == PodMemory(10.0, 10.0, 100.0)
    assert [v.busy for v in views] == [True, False]
    assert views[1].idle_for(160.0) == 150.0


def test_silence_keeps_the_last_answer() -> None:
    memory = {"id-a": PodMemory(10.0, 40.0, 40.0)}
    views, memory = observe(memory, [A], {"someone-else": True}, now=100.0)
    assert memory["id-a"] == PodMemory(10.0, 40.0, 40.0)
    assert views[0].busy is None and views[0].silent_for(100.0) == 60.0


def test_pods_no_longer_listed_are_forgotten() -> None:
    memory = {"id-a": PodMemory(1.0, 1.0), "gone": PodMemory(1.0, 1.0)}
    _, memory = observe(memory, [A], {}, now=2.0)
    assert set(memory) == {"id-a"}


def test_memory_survives_a_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "state.json"
    memory = {"id-a": PodMemory(1.0, 2.5, None), "id-b": PodMemory(3.0, 4.0, 5.0)}
    save_memory(path, memory)
    assert load_memory(path) == memory
    assert [p.name for p in path.parent.iterdir()] == ["state.json"]  # no temporary left


@pytest.mark.parametrize("text", ["not json", "[]", '{"version": 99, "pods": {}}',
                                  '{"version": 1, "pods": {"a": {"bogus": 1}}}'])
def test_an_unreadable_state_means_fresh_clocks(tmp_path: Path, text: str,
                                                caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "state.json"
    path.write_text(text)
    assert load_memory(path) == {}
    assert "idle clocks restart now" in caplog.text


def test_a_missing_state_is_simply_empty(tmp_path: Path) -> None:
    assert load_memory(tmp_path / "absent.json") == {}
    save_memory(tmp_path / "s.json", {})
    assert json.loads((tmp_path / "s.json").read_text()) == {"version": 1, "pods": {}}
