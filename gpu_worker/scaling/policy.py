"""The scaling decision, pure: waiting trials and our pods in, pods to create and terminate out.

One GPU worker per pod, so a pod is one unit of capacity. The work to cover is
the trials running (busy pods) plus the trials waiting in the queue; the target
is that, clamped to [min, max]. Pods that can never work again (exited, or
whose worker has not answered for ``stuck_timeout``) are terminated and so
replaced by the count. Surplus capacity goes only as idle pods whose worker
answered "no trial" and has had none for longer than ``idle_timeout``: a busy
pod, or one whose worker did not answer, is never taken for idle.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

RUNNING = "RUNNING"  # RunPod's desiredStatus values
EXITED = "EXITED"
TERMINATED = "TERMINATED"


@dataclass(frozen=True)
class Bounds:
    min_pods: int
    max_pods: int
    idle_timeout: float
    stuck_timeout: float

    def __post_init__(self) -> None:
        if not 0 <= self.min_pods <= self.max_pods or self.max_pods < 1:
            raise ValueError(f"need 0 <= min_pods <= max_pods and max_pods >= 1, got {self}")
        if self.idle_timeout <= 0 or self.stuck_timeout <= 0:
            raise ValueError(f"timeouts must be positive, got {self}")


@dataclass(frozen=True)
class PodView:
    """One pod we own, as RunPod lists it and as its worker last answered.

    ``busy`` is this step's answer: True (a trial active or reserved), False
    (answered, no trial) or None (no answer: booting, hung or gone).
    ``first_seen`` is when we created it (or first listed it), ``last_busy`` the
    last time it was seen busy (``first_seen`` until then), ``last_answer`` the
    last time its worker answered at all (None: never).
    """

    id: str
    name: str
    status: str
    busy: bool | None
    first_seen: float
    last_busy: float
    last_answer: float | None = None

    def idle_for(self, now: float) -> float:
        return now - self.last_busy

    def silent_for(self, now: float) -> float:
        return now - (self.last_answer if self.last_answer is not None else self.first_seen)


@dataclass(frozen=True)
class Termination:
    pod_id: str
    name: str
    reason: str


@dataclass(frozen=True)
class Decision:
    create: int
    terminate: tuple[Termination, ...]
    waiting: int
    target: int
    busy: int
    idle: int
    starting: int

    @property
    def changes(self) -> bool:
        return bool(self.create or self.terminate)

    def summary(self) -> str:
        pods = self.busy + self.idle + self.starting
        return (f"waiting={self.waiting} pods={pods} (busy={self.busy} idle={self.idle} "
                f"starting={self.starting}) target={self.target} -> create {self.create}, "
                f"terminate {len(self.terminate)}")


def decide(pods: Iterable[PodView], waiting: int, bounds: Bounds, now: float) -> Decision:
    """Which pods to create (a count) and which to terminate (with a reason), and why."""
    if waiting < 0:
        raise ValueError(f"waiting must be >= 0, got {waiting}")
    terminate: list[Termination] = []
    alive: list[PodView] = []
    for pod in sorted(pods, key=lambda p: (p.first_seen, p.id)):
        if pod.status == TERMINATED:
            continue  # already gone; RunPod may list it for a moment
        if pod.status != RUNNING:
            terminate.append(Termination(pod.id, pod.name, f"pod is {pod.status.lower()}"))
        elif pod.busy is None and pod.silent_for(now) > bounds.stuck_timeout:
            never = pod.last_answer is None
            what = "never answered" if never else "stopped answering"
            terminate.append(Termination(
                pod.id, pod.name, f"worker {what} for {pod.silent_for(now):.0f}s "
                f"(stuck timeout {bounds.stuck_timeout:g}s)"))
        else:
            alive.append(pod)

    busy = [p for p in alive if p.busy]
    idle = [p for p in alive if p.busy is False]
    starting = len(alive) - len(busy) - len(idle)
    target = min(bounds.max_pods, max(bounds.min_pods, len(busy) + waiting))

    create = max(0, target - len(alive))
    surplus = len(alive) - target
    if surplus > 0:
        expired = [p for p in idle if p.idle_for(now) > bounds.idle_timeout]
        expired.sort(key=lambda p: (p.last_busy, p.id))  # idle longest goes first
        terminate += [
            Termination(p.id, p.name, f"idle for {p.idle_for(now):.0f}s "
                        f"(idle timeout {bounds.idle_timeout:g}s)")
            for p in expired[:surplus]]
    return Decision(create=create, terminate=tuple(terminate), waiting=waiting, target=target,
                    busy=len(busy), idle=len(idle), starting=starting)
