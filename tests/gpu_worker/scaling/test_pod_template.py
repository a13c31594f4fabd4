"""The pod template: what a pod gets (cluster URLs, S3 keys, its worker name) and never gets."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest

from gpu_worker.scaling.pod_template import check_template, load_template
from onegin.cli import build_parser
from onegin.errors import ConfigError
from onegin.settings import Settings, load_settings

SHIPPED = Path(__file__).resolve().parents[3] / "deploy" / "runpod" / "pod-template.json"
AWS = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "s3cr3t", "HOME": "/root"}


def cluster_settings(tmp_path: Path, **overrides: str) -> Settings:
    return load_settings(env={}, overrides={
        "home": str(tmp_path), "database_url": "postgresql+psycopg2://u:pw@db:5432/onegin",
        "broker_url": "redis://:pw@broker.example:6379/0",
        "events_url": "redis://:pw@broker.example:6379/1",
        "artifacts_url": "s3://onegin-artifacts/prod",
        "s3_endpoint_url": "https://minio.example:9000", "heartbeat_timeout": "45",
        **overrides})


def minimal(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"imageName": "onegin/gpu:1",
                            "dockerStartCmd": ["worker", "gpu", "--name", "{pod_name}"]}
    return {k: v for k, v in (data | changes).items() if v is not None}


def test_the_shipped_template_runs_a_named_worker_against_the_cluster(tmp_path: Path) -> None:
    template = load_template(str(SHIPPED), cluster_settings(tmp_path), AWS)
    body = template.render("onegin-gpu-0123456789")
    assert body["name"] == "onegin-gpu-0123456789"
    assert body["dockerStartCmd"] == ["gpu-worker", "--name", "onegin-gpu-0123456789"]
    assert "dockerEntrypoint" not in body  # the image's entrypoint.sh runs the role
    env = body["env"]
    assert env["ONEGIN_BROKER_URL"] == "redis://:pw@broker.example:6379/0"
    assert env["ONEGIN_EVENTS_URL"] == "redis://:pw@broker.example:6379/1"
    assert env["ONEGIN_ARTIFACTS_URL"] == "s3://onegin-artifacts/prod"
    assert env["ONEGIN_S3_ENDPOINT_URL"] == "https://minio.example:9000"
    assert env["ONEGIN_HEARTBEAT_TIMEOUT"] == "45.0"
    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) == ("AKIDEXAMPLE", "s3cr3t")
    assert "HOME" not in env
    assert not any("DATABASE" in k or "RUNPOD_API" in k for k in env)
    assert "pw@db" not in json.dumps(body)  # the database password never leaves the cluster
    # what the worker on the pod will load
    pod = load_settings(env={k: v for k, v in env.items() if k.startswith("ONEGIN_")})
    assert (pod.broker_url, pod.heartbeat_timeout) == (env["ONEGIN_BROKER_URL"], 45.0)
    # rendering one pod leaves the template as it was
    assert template.render("onegin-gpu-ffffffffff")["dockerStartCmd"][2] == "onegin-gpu-ffffffffff"


def test_the_image_role_names_its_worker_after_the_pod(tmp_path: Path) -> None:
    """deploy/entrypoint.sh's gpu-worker role runs `onegin worker gpu --name gpu "$@"`:
    the pod's start command appends its own --name, which must be the one that counts."""
    script = (SHIPPED.parents[1] / "entrypoint.sh").read_text()
    role = re.search(r"^\s*gpu-worker\)\n(?:.*\n)*?\s*exec (onegin worker gpu[^\n]*) \"\$@\"",
                     script, re.MULTILINE)
    assert role, "deploy/entrypoint.sh has no gpu-worker role running `onegin worker gpu`"
    template = load_template(str(SHIPPED), cluster_settings(tmp_path), AWS)
    body = template.render("onegin-gpu-0123456789")
    assert body["dockerStartCmd"][0] == "gpu-worker"
    argv = shlex.split(role.group(1))[1:] + body["dockerStartCmd"][1:]
    assert build_parser().parse_args(argv).name == "onegin-gpu-0123456789"


def test_the_template_env_wins_for_public_addresses_and_runpod_secrets(tmp_path: Path) -> None:
    env = {"ONEGIN_BROKER_URL": "rediss://public.example:6380/0",
           "AWS_SECRET_ACCESS_KEY": "{{ RUNPOD_SECRET_s3_secret }}",
           "ONEGIN_EVENTS_URL": "{{ RUNPOD_SECRET_events_url }}"}
    body = check_template(minimal(env=env), cluster_settings(tmp_path), AWS).render("p")
    assert body["env"]["ONEGIN_BROKER_URL"] == "rediss://public.example:6380/0"
    assert body["env"]["AWS_SECRET_ACCESS_KEY"] == "{{ RUNPOD_SECRET_s3_secret }}"
    assert body["env"]["ONEGIN_EVENTS_URL"] == "{{ RUNPOD_SECRET_events_url }}"


def test_local_artifacts_pass_no_s3_keys(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        check_template(minimal(), cluster_settings(tmp_path, artifacts_url="file:///srv/a"), AWS)
    assert caught.value.field == "artifacts_url" and "file://" in caught.value.reason


BAD = [
    ("not an object", ["x"], "runpod_pod_template", "must be a JSON object"),
    ("no image", minimal(imageName=None), "runpod_pod_template", "imageName"),
    ("names the pod", minimal(name="mine"), "runpod_pod_template", "must not set name"),
    ("two GPUs", minimal(gpuCount=2), "runpod_pod_template", "one GPU worker per pod"),
    ("a CPU pod", minimal(computeType="CPU"), "runpod_pod_template", "one GPU worker per pod"),
    ("worker not named", minimal(dockerStartCmd=["worker", "gpu"]), "runpod_pod_template",
     "{pod_name}"),
    ("command not a list", minimal(dockerStartCmd="worker gpu --name {pod_name}"),
     "runpod_pod_template", "dockerStartCmd must be a list of strings"),
    ("env not strings", minimal(env={"ONEGIN_OFFLINE": 1}), "runpod_pod_template",
     "env must map variable names to strings"),
    ("database URL", minimal(env={"ONEGIN_DATABASE_URL": "sqlite:///x.db"}),
     "runpod_pod_template", "must not carry ONEGIN_DATABASE_URL"),
    ("API key", minimal(env={"ONEGIN_RUNPOD_API_KEY": "k"}), "runpod_pod_template",
     "must not carry ONEGIN_RUNPOD_API_KEY"),
    ("bad worker setting", minimal(env={"ONEGIN_HEARTBEAT_TIMEOUT": "soon"}),
     "runpod_pod_template (the template env ONEGIN_HEARTBEAT_TIMEOUT)", "positive number"),
    ("unknown worker setting", minimal(env={"ONEGIN_BROKR_URL": "redis://x"}),
     "runpod_pod_template (the template env ONEGIN_BROKR_URL)", "did you mean"),
    ("embedded artifacts from the template", minimal(env={"ONEGIN_ARTIFACTS_URL": "file:///a"}),
     "runpod_pod_template (the template env ONEGIN_ARTIFACTS_URL)", "cannot reach a file://"),
]


@pytest.mark.parametrize(("data", "field", "words"), [b[1:] for b in BAD],
                         ids=[b[0] for b in BAD])
def test_a_bad_template_is_refused_naming_the_setting(tmp_path: Path, data: Any, field: str,
                                                      words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        check_template(data, cluster_settings(tmp_path), AWS)
    assert caught.value.field == field
    assert words in caught.value.reason


def test_an_embedded_broker_cannot_reach_a_pod(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        check_template(minimal(), cluster_settings(tmp_path, broker_url="filesystem://"), AWS)
    assert caught.value.field == "broker_url" and "filesystem://" in caught.value.reason


@pytest.mark.parametrize(("path", "words"), [(None, "required"), ("/no/such.json", "cannot read"),
                                             ("bad.json", "not valid JSON")])
def test_the_template_file_must_be_there_and_json(tmp_path: Path, path: str | None,
                                                  words: str) -> None:
    (tmp_path / "bad.json").write_text("{nope")
    full = str(tmp_path / path) if path == "bad.json" else path
    with pytest.raises(ConfigError) as caught:
        load_template(full, cluster_settings(tmp_path), AWS)
    assert caught.value.field == "runpod_pod_template" and words in caught.value.reason
