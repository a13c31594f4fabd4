"""The pod template: RunPod's create-pod body for a GPU worker, checked before any pod exists.

The JSON file (deploy/runpod/pod-template.json) holds what RunPod needs: image,
GPU types, disk, start command. The scaler adds each pod's name and the
worker's environment: the cluster's broker, events and artifact-store URLs, S3
endpoint and credentials and the heartbeat timing, taken from the scaler's own
settings unless the template's ``env`` sets them (public addresses, or RunPod
secrets as ``{{ RUNPOD_SECRET_name }}``). Never a database URL: workers need
only the broker and the artifact store. ``{pod_name}`` in the start command
names the Celery worker after its pod, which is how the scaler knows whose
worker is busy.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from onegin.errors import ConfigError
from onegin.settings import Settings, env_name, load_settings

POD_NAME = "{pod_name}"
FIELD = "runpod_pod_template"
# the settings a GPU worker reads, passed from the scaler's own unless the template sets them
WORKER_SETTINGS = ("broker_url", "events_url", "artifacts_url", "s3_endpoint_url", "s3_region",
                   "heartbeat_interval", "heartbeat_timeout")
AWS_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
# never on a pod on the public internet: records, study and the keys of the cluster
FORBIDDEN = tuple(env_name(n) for n in ("database_url", "runpod_api_key", "secret_key"))
_REMOTE = {"broker_url": ("redis", "rediss"), "events_url": ("redis", "rediss"),
           "artifacts_url": ("s3",)}


@dataclass(frozen=True)
class PodTemplate:
    """A checked template; `render` gives the create-pod body for one pod."""

    body: dict[str, Any]

    @property
    def env(self) -> dict[str, str]:
        return dict(self.body["env"])

    def render(self, pod_name: str) -> dict[str, Any]:
        body = json.loads(json.dumps(self.body))  # a deep copy
        body["name"] = pod_name
        for key in ("dockerEntrypoint", "dockerStartCmd"):
            if key in body:
                body[key] = [part.replace(POD_NAME, pod_name) for part in body[key]]
        return body


def load_template(path: str | None, settings: Settings,
                  environ: Mapping[str, str]) -> PodTemplate:
    """Read and check the template; a problem is a ConfigError naming the setting."""
    if not path:
        raise ConfigError(FIELD, "required by `onegin scale runpod`: the JSON pod template "
                                 "(e.g. deploy/runpod/pod-template.json)")
    try:
        data = json.loads(Path(path).expanduser().read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(FIELD, f"cannot read {path!r}: {exc.strerror}") from None
    except ValueError as exc:
        raise ConfigError(FIELD, f"{path!r} is not valid JSON: {exc}") from None
    return check_template(data, settings, environ, where=repr(path))


def check_template(data: Any, settings: Settings, environ: Mapping[str, str],
                   *, where: str = "the template") -> PodTemplate:
    def bad(reason: str) -> ConfigError:
        return ConfigError(FIELD, f"{where}: {reason}")

    if not isinstance(data, dict):
        raise bad("must be a JSON object (RunPod's create-pod body)")
    if not isinstance(data.get("imageName"), str) or not data["imageName"].strip():
        raise bad("imageName must name the GPU worker image")
    if "name" in data:
        raise bad("must not set name: the scaler names each pod <runpod_name_prefix>-<id>")
    if data.get("computeType", "GPU") != "GPU" or data.get("gpuCount", 1) != 1:
        raise bad("one GPU worker per pod: computeType must be GPU and gpuCount 1")
    command: list[str] = []
    for key in ("dockerEntrypoint", "dockerStartCmd"):
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise bad(f"{key} must be a list of strings")
        command += value
    if not any(POD_NAME in part for part in command):
        raise bad(f'the start command must name the worker after its pod ("--name", '
                  f'"{POD_NAME}"), or the scaler cannot tell whose worker is busy')
    template_env = data.get("env", {})
    if not isinstance(template_env, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in template_env.items()):
        raise bad("env must map variable names to strings")
    for name in FORBIDDEN:
        if name in template_env:
            raise bad(f"env must not carry {name}: GPU workers need only the broker and "
                      "the artifact store")
    body = dict(data)
    body["env"] = worker_env(settings, environ, template_env)
    _check_worker_settings(body["env"], template_env, where)
    return PodTemplate(body)


def worker_env(settings: Settings, environ: Mapping[str, str],
               template_env: Mapping[str, str]) -> dict[str, str]:
    """The pod's environment: the scaler's worker settings and S3 keys, then the template's."""
    env: dict[str, str] = {}
    for name in WORKER_SETTINGS:
        value = getattr(settings, name)
        if value is not None:
            env[env_name(name)] = str(value)
    if settings.artifacts_url.startswith("s3://"):
        env |= {k: environ[k] for k in AWS_VARIABLES if environ.get(k)}
    return env | dict(template_env)


def _is_secret_reference(value: str) -> bool:
    return "{{" in value and "}}" in value


def _check_worker_settings(env: Mapping[str, str], template_env: Mapping[str, str],
                           where: str) -> None:
    """The pod must load its settings, and reach the cluster: no embedded backends."""
    plain = {k: v for k, v in env.items()
             if k.startswith("ONEGIN_") and not _is_secret_reference(v)}

    def source(name: str) -> str:
        var = env_name(name)
        return f"{FIELD} ({where} env {var})" if var in template_env else name

    try:
        pod_settings = load_settings(env=plain)
    except ConfigError as exc:
        field = f"{FIELD} ({where} env {exc.field})" if exc.field in template_env else exc.field
        raise ConfigError(field, f"{exc.reason} (in the pods' environment)") from None
    for name, schemes in _REMOTE.items():
        if env_name(name) not in plain:
            continue  # a RunPod secret: resolved only on the pod
        scheme = urlsplit(getattr(pod_settings, name)).scheme
        if scheme not in schemes:
            raise ConfigError(source(name), (
                f"a RunPod pod cannot reach a {scheme}:// backend on this machine; "
                f"use {' or '.join(s + '://' for s in schemes)}"))
