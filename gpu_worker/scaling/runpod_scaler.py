"""One reconcile step of the RunPod scaler: observe, decide, act, remember.

Observe: the pods we own (named ``<prefix>-<10 hex>``; nothing else on the
account is ever touched), the ``gpu`` queue's depth, and which workers are busy.
Decide with `policy.decide`. Act: terminate, then create, each call on its own
so one failure does not stop the rest. When the broker or RunPod cannot be read
the step changes nothing: acting on half a picture could kill a busy pod.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from celery import Celery

from gpu_worker.scaling.activity import worker_activity
from gpu_worker.scaling.pod_template import PodTemplate
from gpu_worker.scaling.policy import Bounds, Decision, decide
from gpu_worker.scaling.runpod_api import RunPodAuthError, RunPodError
from gpu_worker.scaling.tracking import ListedPod, PodMemory, load_memory, observe, save_memory
from onegin.celery_app import GPU_QUEUE
from onegin.errors import ConfigError
from onegin.queue_depth import BrokerUnavailable, queue_depth

log = logging.getLogger("gpu_worker.scaling.runpod")
_PREFIX = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
_SUFFIX_HEX = 10


class PodApi(Protocol):
    def list_pods(self) -> list[ListedPod]: ...

    def create_pod(self, body: dict[str, object]) -> ListedPod: ...

    def terminate_pod(self, pod_id: str) -> None: ...


def check_prefix(prefix: str) -> str:
    if not _PREFIX.match(prefix):
        raise ConfigError("runpod_name_prefix", (
            "must be 1-40 lowercase letters, digits or dashes, starting with a letter or "
            f"digit, got {prefix!r}"))
    return prefix


@dataclass
class StepResult:
    decision: Decision | None = None
    created: list[ListedPod] = field(default_factory=list)
    terminated: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class RunPodScaler:
    """Keeps the pods we own in line with the queue; `step` is one reconcile."""

    def __init__(self, *, api: PodApi, template: PodTemplate, app: Celery, bounds: Bounds,
                 prefix: str, clock: Callable[[], float], state_path: Path | None = None,
                 dry_run: bool = False, queue: str = GPU_QUEUE,
                 inspect_timeout: float = 1.0) -> None:
        self.api, self.template, self.app, self.bounds = api, template, app, bounds
        self.prefix = check_prefix(prefix)
        self.clock, self.state_path, self.dry_run = clock, state_path, dry_run
        self.queue, self.inspect_timeout = queue, inspect_timeout
        self._owned = re.compile(rf"^{re.escape(prefix)}-[0-9a-f]{{{_SUFFIX_HEX}}}$")
        self.memory: dict[str, PodMemory] = load_memory(state_path) if state_path else {}

    def owns(self, pod: ListedPod) -> bool:
        return bool(self._owned.match(pod.name))

    def new_name(self) -> str:
        return f"{self.prefix}-{secrets.token_hex(_SUFFIX_HEX // 2)}"

    def step(self) -> StepResult:
        """Observe, decide, act; RunPodAuthError propagates (a wrong key never heals)."""
        result = StepResult()
        now = self.clock()
        try:
            pods = [p for p in self.api.list_pods() if self.owns(p)]
            waiting = queue_depth(self.app, self.queue)
            activity = worker_activity(self.app, timeout=self.inspect_timeout)
        except RunPodAuthError:
            raise
        except (BrokerUnavailable, RunPodError) as exc:
            result.errors.append(str(exc))
            log.error("step skipped, nothing changed: %s", exc)
            return result

        views, memory = observe(self.memory, pods, activity, now)
        decision = result.decision = decide(views, waiting, self.bounds, now)
        log.info("%sdecision: %s", "[dry run] " if self.dry_run else "", decision.summary())
        for view in views:
            state = {True: "busy", False: "idle", None: "no answer"}[view.busy]
            log.debug("pod %s (%s) %s: %s, idle %.0fs", view.name, view.id, view.status,
                      state, view.idle_for(now))
        if self.dry_run:
            for t in decision.terminate:
                log.info("[dry run] would terminate %s (%s): %s", t.name, t.pod_id, t.reason)
            if decision.create:
                log.info("[dry run] would create %d pod(s)", decision.create)
            self.memory = memory
            return result

        for t in decision.terminate:
            try:
                self.api.terminate_pod(t.pod_id)
            except RunPodAuthError:
                raise
            except RunPodError as exc:
                result.errors.append(str(exc))
                log.error("could not terminate %s (%s): %s", t.name, t.pod_id, exc)
                continue
            memory.pop(t.pod_id, None)
            result.terminated.append(t.pod_id)
            log.info("terminated %s (%s): %s", t.name, t.pod_id, t.reason)
        for _ in range(decision.create):
            name = self.new_name()
            try:
                pod = self.api.create_pod(self.template.render(name))
            except RunPodAuthError:
                raise
            except RunPodError as exc:
                result.errors.append(str(exc))
                log.error("could not create pod %s, trying again next step: %s", name, exc)
                break  # no capacity or a refusal: the rest of this step's creates would fail too
            memory[pod.id] = PodMemory(first_seen=now, last_busy=now)
            result.created.append(pod)
            log.info("created %s (%s) for %d waiting trial(s)", name, pod.id, waiting)
        self.memory = memory
        if self.state_path:
            save_memory(self.state_path, memory)
        return result
