"""The RunPod client against the stand-in HTTP server: calls, auth, retries and their limits."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gpu_worker.scaling.runpod_api import RunPodAuthError, RunPodClient, RunPodError
from tests.fixtures.services import free_port
from tests.gpu_worker.scaling.runpod_standin import RunPodStandIn

KEY = "rp-test-key-123"
BODY = {"imageName": "onegin/gpu:1", "name": "onegin-gpu-0123456789", "gpuCount": 1,
        "env": {"ONEGIN_BROKER_URL": "redis://broker:6379/0"},
        "dockerStartCmd": ["worker", "gpu", "--name", "onegin-gpu-0123456789"]}


@pytest.fixture
def standin() -> Iterator[RunPodStandIn]:
    with RunPodStandIn(KEY) as server:
        yield server


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def client(url: str, sleeps: Sleeps, key: str = KEY, **kw: float) -> RunPodClient:
    return RunPodClient(url, key, sleep=sleeps, **kw)  # type: ignore[arg-type]


def test_create_list_terminate(standin: RunPodStandIn, sleeps: Sleeps) -> None:
    other = standin.add_pod("my-notebook")
    api = client(standin.url, sleeps)
    created = api.create_pod(BODY)
    assert created.name == BODY["name"] and created.status == "RUNNING"
    assert {p.id for p in api.list_pods()} == {created.id, other}
    stored = next(p for p in standin.pods() if p["id"] == created.id)
    assert stored["env"] == BODY["env"] and stored["dockerStartCmd"] == BODY["dockerStartCmd"]
    api.terminate_pod(created.id)
    assert [p.id for p in api.list_pods()] == [other]
    assert all(r.authorized for r in standin.requests())
    assert [r.method for r in standin.requests()] == ["POST", "GET", "DELETE", "GET"]
    assert sleeps == []


def test_the_status_is_runpods_desired_status(standin: RunPodStandIn, sleeps: Sleeps) -> None:
    pod_id = standin.add_pod("x", status="EXITED")
    assert client(standin.url, sleeps).list_pods()[0].status == "EXITED"
    standin.set_status(pod_id, "TERMINATED")
    assert client(standin.url, sleeps).list_pods()[0].status == "TERMINATED"


def test_a_wrong_key_fails_at_once_and_never_shows_the_key(standin: RunPodStandIn,
                                                           sleeps: Sleeps) -> None:
    with pytest.raises(RunPodAuthError) as caught:
        client(standin.url, sleeps, key="wrong-secret").list_pods()
    assert caught.value.status == 401
    assert "runpod_api_key" in str(caught.value) and "wrong-secret" not in str(caught.value)
    assert len(standin.requests()) == 1 and sleeps == []
    assert "wrong-secret" not in repr(client(standin.url, sleeps, key="wrong-secret"))


def test_rate_limits_are_retried_after_retry_after(standin: RunPodStandIn,
                                                   sleeps: Sleeps) -> None:
    standin.fail("GET", 429, times=2, retry_after="7")
    assert client(standin.url, sleeps).list_pods() == []
    assert sleeps == [7.0, 7.0] and len(standin.requests("GET")) == 3


def test_server_errors_are_retried_with_growing_backoff(standin: RunPodStandIn,
                                                        sleeps: Sleeps) -> None:
    standin.fail("GET", 503, times=2)
    standin.add_pod("x")
    assert len(client(standin.url, sleeps, backoff=0.5).list_pods()) == 1
    assert sleeps == [0.5, 1.0]


def test_retries_end_with_a_clear_error(standin: RunPodStandIn, sleeps: Sleeps) -> None:
    standin.fail("GET", 502, times=10)
    with pytest.raises(RunPodError) as caught:
        client(standin.url, sleeps, attempts=3).list_pods()
    assert caught.value.status == 502
    assert str(caught.value) == "GET /pods: HTTP 502: injected failure (after 3 attempts)"
    assert len(sleeps) == 2


def test_a_failed_create_is_not_repeated(standin: RunPodStandIn, sleeps: Sleeps) -> None:
    """A 500 may mean the pod exists: creating again could double it."""
    standin.fail("POST", 500)
    with pytest.raises(RunPodError, match="POST /pods: HTTP 500"):
        client(standin.url, sleeps).create_pod(BODY)
    assert len(standin.requests("POST")) == 1 and sleeps == []


def test_a_rate_limited_create_is_repeated_once_allowed(standin: RunPodStandIn,
                                                        sleeps: Sleeps) -> None:
    standin.fail("POST", 429)
    client(standin.url, sleeps).create_pod(BODY)
    assert len(standin.pods()) == 1 and len(standin.requests("POST")) == 2


def test_a_create_that_timed_out_is_not_repeated(standin: RunPodStandIn,
                                                 sleeps: Sleeps) -> None:
    standin.fail("POST", stall=30)
    with pytest.raises(RunPodError, match=r"POST /pods: .*timed out"):
        client(standin.url, sleeps, timeout=0.3).create_pod(BODY)
    assert len(standin.requests("POST")) == 1 and sleeps == []


def test_a_list_that_timed_out_is_retried(standin: RunPodStandIn, sleeps: Sleeps) -> None:
    standin.fail("GET", stall=30)
    assert client(standin.url, sleeps, timeout=0.3).list_pods() == []
    assert len(standin.requests("GET")) == 2 and len(sleeps) == 1


def test_terminating_a_pod_that_is_gone_is_fine(standin: RunPodStandIn, sleeps: Sleeps) -> None:
    client(standin.url, sleeps).terminate_pod("no-such-pod")
    assert standin.requests("DELETE")[0].path == "/v1/pods/no-such-pod"


def test_an_invalid_body_is_reported_with_runpods_words(standin: RunPodStandIn,
                                                        sleeps: Sleeps) -> None:
    with pytest.raises(RunPodError, match="HTTP 400: imageName is required"):
        client(standin.url, sleeps).create_pod({"name": "x"})


def test_an_unreachable_api_is_retried_then_reported(sleeps: Sleeps) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    with pytest.raises(RunPodError, match=r"GET /pods: .*refused.*\(after 4 attempts\)"):
        client(url, sleeps).list_pods()
    assert sleeps == [1.0, 2.0, 4.0]
