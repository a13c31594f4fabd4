"""One reconcile step against the stand-in and real Redis: failures, replacements, memory."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from gpu_worker.scaling.pod_template import check_template
from gpu_worker.scaling.policy import Bounds
from gpu_worker.scaling.runpod_api import RunPodAuthError, RunPodClient
from gpu_worker.scaling.runpod_scaler import RunPodScaler
from gpu_worker.scaling.tracking import load_memory
from onegin.celery_app import GPU_QUEUE, TRAIN_TRIAL, create_celery
from onegin.errors import ConfigError
from onegin.settings import Settings
from tests.gpu_worker.scaling.conftest import API_KEY
from tests.gpu_worker.scaling.runpod_standin import RunPodStandIn

OURS = "onegin-gpu-"
TEMPLATE = {"imageName": "onegin/gpu:1", "dockerStartCmd": ["worker", "gpu", "--name",
                                                            "{pod_name}"]}


class Clock:
    now = 5_000.0

    def __call__(self) -> float:
        return self.now


def make(cluster: Settings, standin: RunPodStandIn, clock: Clock, tmp_path: Path,
         *, min_pods: int = 0, max_pods: int = 3, dry_run: bool = False,
         key: str = API_KEY) -> RunPodScaler:
    api = RunPodClient(standin.url, key, sleep=lambda s: None, attempts=2)
    return RunPodScaler(api=api, template=check_template(TEMPLATE, cluster, {}),
                        app=create_celery(cluster), prefix="onegin-gpu",
                        bounds=Bounds(min_pods, max_pods, idle_timeout=60, stuck_timeout=300),
                        clock=clock, state_path=tmp_path / "state.json", dry_run=dry_run,
                        inspect_timeout=0.3)


def wait(cluster: Settings, count: int) -> None:
    app = create_celery(cluster)
    for n in range(count):
        app.send_task(TRAIN_TRIAL, args=["job", n, {}], queue=GPU_QUEUE)


def ours(standin: RunPodStandIn) -> list[dict[str, object]]:
    return [p for p in standin.pods() if str(p["name"]).startswith(OURS)]


def test_a_refused_create_stops_this_steps_creates_and_the_next_step_retries(
        cluster: Settings, standin: RunPodStandIn, tmp_path: Path) -> None:
    wait(cluster, 3)
    clock = Clock()
    scaler = make(cluster, standin, clock, tmp_path)
    standin.fail("POST", 500)  # e.g. no GPU of the requested types is free
    result = scaler.step()
    assert not result.ok and "POST /pods: HTTP 500" in result.errors[0]
    assert len(standin.requests("POST")) == 1 and ours(standin) == []
    result = scaler.step()
    assert result.ok and len(result.created) == 3 and len(ours(standin)) == 3
    assert set(load_memory(tmp_path / "state.json")) == {p.id for p in result.created}


def test_when_runpod_cannot_list_nothing_changes(cluster: Settings, standin: RunPodStandIn,
                                                 tmp_path: Path) -> None:
    wait(cluster, 2)
    standin.add_pod(OURS + "0123456789", status="EXITED")
    standin.fail("GET", 503, times=2)
    result = make(cluster, standin, Clock(), tmp_path).step()
    assert not result.ok and result.decision is None
    assert "HTTP 503" in result.errors[0] and "after 2 attempts" in result.errors[0]
    assert [r.method for r in standin.requests()] == ["GET", "GET"]


def test_exited_and_silent_pods_are_replaced(cluster: Settings, standin: RunPodStandIn,
                                             tmp_path: Path,
                                             caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="gpu_worker.scaling")
    wait(cluster, 2)
    exited = standin.add_pod(OURS + "00000000aa", status="EXITED")
    silent = standin.add_pod(OURS + "00000000bb")
    clock = Clock()
    scaler = make(cluster, standin, clock, tmp_path)
    first = scaler.step()  # the silent pod is booting: it covers one trial; one more is made
    assert first.terminated == [exited] and len(first.created) == 1
    clock.now += 301  # no worker ever answered on either pod
    second = scaler.step()
    assert set(second.terminated) == {silent, first.created[0].id}
    assert len(second.created) == 2 and len(ours(standin)) == 2
    assert f"terminated {OURS}00000000bb ({silent}): worker never answered for 301s" \
        in caplog.text


def test_a_failed_terminate_is_reported_and_remembered(cluster: Settings,
                                                       standin: RunPodStandIn,
                                                       tmp_path: Path) -> None:
    pod = standin.add_pod(OURS + "00000000cc", status="EXITED")
    standin.fail("DELETE", 500, times=2)
    result = make(cluster, standin, Clock(), tmp_path).step()
    assert not result.ok and f"DELETE /pods/{pod}: HTTP 500" in result.errors[0]
    assert pod in load_memory(tmp_path / "state.json")
    assert make(cluster, standin, Clock(), tmp_path).step().terminated == [pod]


def test_idle_clocks_survive_a_restart(cluster: Settings, standin: RunPodStandIn,
                                      tmp_path: Path) -> None:
    pod = standin.add_pod(OURS + "00000000dd")
    clock = Clock()
    make(cluster, standin, clock, tmp_path).step()
    clock.now += 1000
    again = make(cluster, standin, clock, tmp_path)
    assert again.memory[pod].first_seen == 5_000.0  # not restarted at 6 000
    assert again.step().terminated == [pod]  # silent for 1000s > the stuck timeout


def test_min_pods_are_created_and_other_pods_left_alone(cluster: Settings,
                                                        standin: RunPodStandIn,
                                                        tmp_path: Path) -> None:
    foreign = {standin.add_pod("onegin-gpu-notmine", status="EXITED"),
               standin.add_pod("training-box", status="EXITED"),
               standin.add_pod("onegin-gpu-00000000ee-copy", status="EXITED")}
    result = make(cluster, standin, Clock(), tmp_path, min_pods=2).step()
    assert len(result.created) == 2 and result.terminated == []
    assert foreign <= {p["id"] for p in standin.pods()}
    names = [p.name for p in result.created]
    assert all(n.startswith(OURS) and len(n) == len(OURS) + 10 for n in names)
    assert len(set(names)) == 2


def test_dry_run_decides_but_does_not_act(cluster: Settings, standin: RunPodStandIn,
                                          tmp_path: Path) -> None:
    wait(cluster, 1)
    standin.add_pod(OURS + "00000000ff", status="EXITED")
    result = make(cluster, standin, Clock(), tmp_path, dry_run=True).step()
    assert result.decision is not None and result.decision.create == 1
    assert len(result.decision.terminate) == 1
    assert [r.method for r in standin.requests()] == ["GET"]
    assert not (tmp_path / "state.json").exists()


def test_a_rejected_key_propagates(cluster: Settings, standin: RunPodStandIn,
                                   tmp_path: Path) -> None:
    with pytest.raises(RunPodAuthError):
        make(cluster, standin, Clock(), tmp_path, key="nope").step()


def test_a_bad_prefix_is_refused(cluster: Settings, standin: RunPodStandIn,
                                 tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        RunPodScaler(api=RunPodClient(standin.url, API_KEY),
                     template=check_template(TEMPLATE, cluster, {}), app=create_celery(cluster),
                     bounds=Bounds(0, 1, 1, 1), prefix="-bad", clock=Clock())
    assert caught.value.field == "runpod_name_prefix"
