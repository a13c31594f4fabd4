"""The scaling decision: a table of situations, then invariants over every small combination."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest

from gpu_worker.scaling.policy import Bounds, PodView, decide

NOW = 100_000.0
IDLE, STUCK = 600.0, 900.0


def pod(pod_id: str, kind: str, *, idle: float = 0.0, silent: float = 0.0) -> PodView:
    """``kind``: busy | idle (answered, no trial for ``idle`` s) | starting (never answered,
    created ``silent`` s ago) | silent (answered ``silent`` s ago, not now) | a RunPod status."""
    name = f"onegin-gpu-{pod_id}"
    if kind == "busy":
        return PodView(pod_id, name, "RUNNING", busy=True, first_seen=NOW - 5000, last_busy=NOW,
                       last_answer=NOW)
    if kind == "idle":
        return PodView(pod_id, name, "RUNNING", busy=False, first_seen=NOW - 5000 - idle,
                       last_busy=NOW - idle, last_answer=NOW)
    if kind == "starting":
        return PodView(pod_id, name, "RUNNING", busy=None, first_seen=NOW - silent,
                       last_busy=NOW - silent)
    if kind == "silent":
        return PodView(pod_id, name, "RUNNING", busy=None, first_seen=NOW - 9000,
                       last_busy=NOW - 9000, last_answer=NOW - silent)
    return PodView(pod_id, name, kind, busy=None, first_seen=NOW - 100, last_busy=NOW - 100)


@dataclass
class Case:
    name: str
    pods: list[PodView]
    waiting: int
    create: int
    terminate: list[str]
    min_pods: int = 0
    max_pods: int = 4


CASES = [
    Case("nothing to do", [], 0, 0, []),
    Case("waiting trials get one pod each", [], 3, 3, []),
    Case("never above max", [], 10, 4, []),
    Case("min pods with nothing to do", [], 0, 2, [], min_pods=2),
    Case("min pods kept however long idle",
         [pod("a", "idle", idle=99_999), pod("b", "idle", idle=99_999)], 0, 0, [], min_pods=2),
    Case("starting pods cover waiting trials",
         [pod("a", "starting", silent=60), pod("b", "starting", silent=60)], 2, 0, []),
    Case("busy pods plus waiting trials", [pod("a", "busy"), pod("b", "busy")], 1, 1, []),
    Case("busy plus waiting capped at max",
         [pod("a", "busy"), pod("b", "busy"), pod("c", "busy")], 5, 1, []),
    Case("idle past the timeout goes when the queue is empty",
         [pod("a", "idle", idle=IDLE + 1)], 0, 0, ["a"]),
    Case("idle within the timeout stays", [pod("a", "idle", idle=IDLE - 1)], 0, 0, []),
    Case("idle exactly at the timeout stays", [pod("a", "idle", idle=IDLE)], 0, 0, []),
    Case("busy pods stay even above a lowered max",
         [pod(x, "busy") for x in "abcde"], 0, 0, []),
    Case("above max only expired idle pods go",
         [*(pod(x, "busy") for x in "abcd"), pod("e", "idle", idle=700),
          pod("f", "idle", idle=800)], 0, 0, ["f", "e"]),
    Case("an idle pod stays while trials wait", [pod("a", "idle", idle=99_999)], 1, 0, []),
    Case("the longest idle go first",
         [pod("a", "idle", idle=700), pod("b", "idle", idle=1000), pod("c", "idle", idle=800)],
         0, 0, ["b", "c"], min_pods=1),
    Case("idle pods go, the busy one stays",
         [pod("a", "busy"), pod("b", "idle", idle=700), pod("c", "idle", idle=700)],
         0, 0, ["b", "c"]),
    Case("an exited pod is replaced", [pod("a", "EXITED")], 1, 1, ["a"]),
    Case("an exited pod is replaced to keep min", [pod("a", "EXITED")], 0, 1, ["a"], min_pods=1),
    Case("an exited pod is not replaced without work", [pod("a", "EXITED")], 0, 0, ["a"]),
    Case("a pod that never answered is replaced after the stuck timeout",
         [pod("a", "starting", silent=STUCK + 1)], 1, 1, ["a"]),
    Case("a pod that stopped answering is replaced after the stuck timeout",
         [pod("a", "silent", silent=STUCK + 1)], 1, 1, ["a"]),
    Case("a slow start within the stuck timeout is left alone",
         [pod("a", "starting", silent=STUCK - 1)], 0, 0, []),
    Case("a pod that does not answer is never taken for idle",
         [pod("a", "silent", silent=60)], 0, 0, []),
    Case("terminated pods are gone already", [pod("a", "TERMINATED")], 1, 1, []),
    Case("replacing stuck pods never exceeds max",
         [pod("a", "starting", silent=STUCK + 1), *(pod(x, "busy") for x in "bcd")],
         5, 1, ["a"]),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_decision_table(case: Case) -> None:
    bounds = Bounds(case.min_pods, case.max_pods, IDLE, STUCK)
    decision = decide(case.pods, case.waiting, bounds, NOW)
    assert decision.create == case.create
    assert [t.pod_id for t in decision.terminate] == case.terminate


def test_reasons_and_summary_say_why() -> None:
    pods = [pod("a", "EXITED"), pod("b", "starting", silent=1000), pod("c", "silent", silent=950),
            pod("d", "idle", idle=700), pod("e", "busy")]
    decision = decide(pods, 0, Bounds(0, 4, IDLE, STUCK), NOW)
    reasons = {t.pod_id: t.reason for t in decision.terminate}
    assert reasons == {
        "a": "pod is exited",
        "b": "worker never answered for 1000s (stuck timeout 900s)",
        "c": "worker stopped answering for 950s (stuck timeout 900s)",
        "d": "idle for 700s (idle timeout 600s)",
    }
    assert (decision.busy, decision.idle, decision.starting, decision.target) == (1, 1, 0, 1)
    assert decision.summary() == ("waiting=0 pods=2 (busy=1 idle=1 starting=0) target=1 -> "
                                  "create 0, terminate 4")


@pytest.mark.parametrize("bounds", [(3, 2, 1.0, 1.0), (0, 0, 1.0, 1.0), (-1, 2, 1.0, 1.0),
                                    (0, 2, 0.0, 1.0), (0, 2, 1.0, -1.0)])
def test_impossible_bounds_are_refused(bounds: tuple[int, int, float, float]) -> None:
    with pytest.raises(ValueError):
        Bounds(*bounds)


def test_negative_queue_depth_is_refused() -> None:
    with pytest.raises(ValueError):
        decide([], -1, Bounds(0, 1, IDLE, STUCK), NOW)


KINDS = {
    "busy": lambda i: pod(i, "busy"),
    "expired": lambda i: pod(i, "idle", idle=IDLE + 50),
    "fresh": lambda i: pod(i, "idle", idle=IDLE - 50),
    "starting": lambda i: pod(i, "starting", silent=STUCK - 50),
    "stuck": lambda i: pod(i, "starting", silent=STUCK + 50),
    "exited": lambda i: pod(i, "EXITED"),
}


def _situations() -> list[tuple[tuple[str, ...], int, int, int]]:
    out = []
    for size in range(5):
        for kinds in itertools.combinations_with_replacement(sorted(KINDS), size):
            for waiting, lo, hi in itertools.product(range(7), range(3), range(1, 5)):
                if lo <= hi:
                    out.append((kinds, waiting, lo, hi))
    return out


def test_invariants_hold_in_every_small_situation() -> None:
    """Every multiset of up to 4 pods x queue depth 0-6 x every min <= max up to 4."""
    situations = _situations()
    assert len(situations) > 10_000
    for kinds, waiting, lo, hi in situations:
        pods = [KINDS[kind](str(i)) for i, kind in enumerate(kinds)]
        kind_of = {p.id: kind for p, kind in zip(pods, kinds, strict=True)}
        decision = decide(pods, waiting, Bounds(lo, hi, IDLE, STUCK), NOW)
        gone = {t.pod_id for t in decision.terminate}
        what = f"{kinds} waiting={waiting} min={lo} max={hi}: {decision}"
        # never a pod mid-trial, still starting, or idle for less than the timeout
        assert not {kind_of[i] for i in gone} & {"busy", "starting", "fresh"}, what
        # dead pods always go
        assert {i for i, k in kind_of.items() if k in ("stuck", "exited")} <= gone, what
        alive = [p for p in pods if kind_of[p.id] not in ("stuck", "exited")]
        after = len(alive) - len(gone & {p.id for p in alive}) + decision.create
        busy = kinds.count("busy")
        assert after >= lo, what  # never below min
        assert decision.create == 0 or after <= hi, what  # never create past max
        assert after >= min(hi, busy + waiting), what  # waiting trials are covered
        assert not (decision.create and gone & {p.id for p in alive}), what  # no churn
        # surplus capacity goes as far as expired idle pods allow, and no further
        target = min(hi, max(lo, busy + waiting))
        expired = {i for i, k in kind_of.items() if k == "expired"}
        assert len(gone & expired) == min(len(expired), max(0, len(alive) - target)), what
