"""deploy/k8s against the Kubernetes schemas (kubernetes-validate, strict: unknown fields
fail) and KEDA's CRD schemas (vendored), then the wiring no schema checks: secrets,
settings, GPU scheduling, draining, and the autoscaler reading the real gpu queue."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import kubernetes_validate
import pytest
import yaml

from onegin.celery_app import GPU_QUEUE
from onegin.settings import Role, env_name, load_settings, role_settings
from tests.deploy.helpers import DEPLOY
from tests.deploy.test_compose import entrypoint_roles

K8S = DEPLOY / "k8s"
SCHEMAS = Path(__file__).parent / "schemas"
KEDA_SCHEMAS = {"ScaledObject": "keda-scaledobject-v1alpha1.json",
                "TriggerAuthentication": "keda-triggerauthentication-v1alpha1.json"}
# the oldest Kubernetes these manifests promise to work on, and the newest schemas known
VERSIONS = ("1.28.0", kubernetes_validate.utils.latest_version())
SECRET_TEMPLATE = K8S / "secret.example.yaml"


def documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def manifests() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        out += [(f"{path.name}:{doc['kind']}/{doc['metadata']['name']}", doc)
                for doc in documents(path)]
    return out


MANIFESTS = manifests()
BY_KIND: dict[str, list[dict[str, Any]]] = {}
for _, _doc in MANIFESTS:
    BY_KIND.setdefault(_doc["kind"], []).append(_doc)


def deployment(component: str) -> dict[str, Any]:
    return next(d for d in BY_KIND["Deployment"]
                if d["metadata"]["labels"]["app.kubernetes.io/component"] == component)


def pod(component: str) -> dict[str, Any]:
    spec: dict[str, Any] = deployment(component)["spec"]["template"]["spec"]
    return spec


def secret_template() -> dict[str, str]:
    data: dict[str, str] = documents(SECRET_TEMPLATE)[0]["stringData"]
    return data


def container_env(container: dict[str, Any]) -> dict[str, str]:
    """The container's environment with the ConfigMap and the Secret template filled in."""
    config = next(d for d in BY_KIND["ConfigMap"] if d["metadata"]["name"] == "onegin-config")
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        assert source["configMapRef"]["name"] == "onegin-config"
        env |= config["data"]
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = item["value"]
        else:
            ref = item["valueFrom"]["secretKeyRef"]
            assert ref["name"] == "onegin-secrets", item["name"]
            env[item["name"]] = secret_template()[ref["key"]]
    return env


def all_containers() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for d in BY_KIND["Deployment"]:
        spec = d["spec"]["template"]["spec"]
        for c in spec.get("initContainers", []) + spec["containers"]:
            out.append((f"{d['metadata']['name']}/{c['name']}", c))
    return out


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name,doc", [m for m in MANIFESTS if m[1]["kind"] not in KEDA_SCHEMAS],
                         ids=[m[0] for m in MANIFESTS if m[1]["kind"] not in KEDA_SCHEMAS])
def test_manifest_follows_the_kubernetes_schema(name: str, doc: dict[str, Any],
                                                version: str) -> None:
    kubernetes_validate.validate(doc, version, strict=True)


def test_the_kubernetes_validation_is_strict() -> None:
    broken = json.loads(json.dumps(deployment("web")))
    broken["spec"]["template"]["spec"]["containers"][0]["imagePullPolcy"] = "Always"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, VERSIONS[-1], strict=True)


@pytest.mark.parametrize("kind", sorted(KEDA_SCHEMAS))
def test_keda_resources_follow_the_keda_crd_schema(kind: str) -> None:
    schema = json.loads((SCHEMAS / KEDA_SCHEMAS[kind]).read_text())
    validator = jsonschema.Draft7Validator(schema)
    for doc in BY_KIND[kind]:
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]
        assert not errors, errors
        broken = json.loads(json.dumps(doc)) | {"spec": doc["spec"] | {"minReplicas": 0}}
        assert not validator.is_valid(broken), "unknown fields must fail"


def test_kustomization_lists_every_manifest_but_the_secret_template() -> None:
    kustomization = documents(K8S / "kustomization.yaml")[0]
    files = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml", SECRET_TEMPLATE.name}
    assert set(kustomization["resources"]) == files
    images = {i["name"] for i in kustomization["images"]}
    used = {c["image"] for _, c in all_containers()}
    assert used == images == {"onegin", "onegin-gpu"}


def test_every_secret_reference_exists_in_the_template() -> None:
    keys = set(secret_template())
    for name, container in all_containers():
        for item in container.get("env", []):
            ref = item.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                assert ref["key"] in keys, f"{name}: {ref['key']} not in the Secret template"
    for auth in BY_KIND["TriggerAuthentication"]:
        for ref in auth["spec"]["secretTargetRef"]:
            assert ref["name"] == "onegin-secrets" and ref["key"] in keys
    assert all("CHANGE-ME" in value for value in secret_template().values()), \
        "the template holds placeholders only"


@pytest.mark.parametrize("name,container", all_containers(), ids=[n for n, _ in all_containers()])
def test_container_settings_load(name: str, container: dict[str, Any]) -> None:
    """Unknown ONEGIN_* variables and bad values are rejected by `load_settings`."""
    env = {k: v for k, v in container_env(container).items() if k.startswith("ONEGIN_")}
    settings = load_settings(env=env)
    assert container["args"][0] in entrypoint_roles(), name
    role = container["args"][0]
    if role in ("web", "orchestrator", "gpu-worker"):
        assert not settings.embedded and settings.artifacts_url.startswith("s3://")
    if role in ("web", "orchestrator", "migrate", "optuna-dashboard"):
        assert settings.database_url.startswith("postgresql+psycopg2://")


@pytest.mark.parametrize("name,container", all_containers(), ids=[n for n, _ in all_containers()])
def test_each_role_gets_only_the_settings_it_reads(name: str, container: dict[str, Any]) -> None:
    """The allow-list of `onegin.settings` (what a local worker gets) holds here too."""
    role = container["args"][0]
    if role not in set(Role):
        return  # migrate, flower, optuna-dashboard: not one of Onegin's long-running roles
    given = {k for k in container_env(container) if k.startswith("ONEGIN_")}
    assert given <= {env_name(n) for n in role_settings(Role(role))}, name


def test_gpu_workers_request_a_gpu_on_gpu_nodes_and_hold_no_database() -> None:
    spec = pod("gpu-worker")
    container = spec["containers"][0]
    resources = container["resources"]
    assert resources["limits"]["nvidia.com/gpu"] == 1
    assert resources["requests"]["nvidia.com/gpu"] == 1
    assert spec["nodeSelector"], "GPU pods go to GPU nodes"
    assert any(t["key"] == "nvidia.com/gpu" for t in spec["tolerations"])
    env = container_env(container)
    assert "ONEGIN_DATABASE_URL" not in env
    assert not any("database" in str(item) for item in container.get("env", []))
    command = container["lifecycle"]["preStop"]["exec"]["command"]
    assert command[:2] == ["/opt/onegin/entrypoint.sh", "drain"]
    drain_timeout = float(command[command.index("--timeout") + 1])
    grace = spec["terminationGracePeriodSeconds"]
    assert drain_timeout >= 600, "draining waits for a trial"
    assert grace - drain_timeout >= 30, "SIGTERM's hand-back needs time before SIGKILL"
    assert "replicas" not in deployment("gpu-worker")["spec"], "KEDA owns the replica count"


def test_keda_scales_gpu_workers_from_zero_on_the_gpu_queue() -> None:
    scaled = BY_KIND["ScaledObject"][0]["spec"]
    assert scaled["scaleTargetRef"]["name"] == deployment("gpu-worker")["metadata"]["name"]
    assert scaled["minReplicaCount"] == 0 and scaled["maxReplicaCount"] >= 1
    trigger = next(t for t in scaled["triggers"] if t["type"] == "redis")
    meta = trigger["metadata"]
    assert meta["listName"] == GPU_QUEUE
    broker = urlsplit(secret_template()["broker-url"])
    assert meta["address"] == f"{broker.hostname}:{broker.port}", "the broker's Redis"
    assert meta["databaseIndex"] == broker.path.strip("/"), "the broker's database"
    auth_names = {a["metadata"]["name"] for a in BY_KIND["TriggerAuthentication"]}
    assert trigger["authenticationRef"]["name"] in auth_names
    down = scaled["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]["scaleDown"]
    assert down["stabilizationWindowSeconds"] >= 300


def test_pods_run_locked_down() -> None:
    for deploy_doc in BY_KIND["Deployment"]:
        spec = deploy_doc["spec"]["template"]["spec"]
        name = deploy_doc["metadata"]["name"]
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["automountServiceAccountToken"] is False, name
        for container in spec.get("initContainers", []) + spec["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["capabilities"]["drop"] == ["ALL"], name
            assert context["readOnlyRootFilesystem"] is True, name
            mounts = {m["mountPath"] for m in container["volumeMounts"]}
            assert {"/tmp", "/var/lib/onegin"} <= mounts, f"{name}: writable tmp and home"
            assert container["resources"]["limits"]["memory"], name


def test_services_select_deployments_and_only_the_web_is_exposed() -> None:
    for service in BY_KIND["Service"]:
        assert service["spec"].get("type", "ClusterIP") == "ClusterIP"
        selector = service["spec"]["selector"]
        target = next(d for d in BY_KIND["Deployment"]
                      if selector.items() <= d["spec"]["template"]["metadata"]["labels"].items())
        ports = {p["name"] for c in target["spec"]["template"]["spec"]["containers"]
                 for p in c.get("ports", [])}
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in ports, service["metadata"]["name"]
    backends = {path["backend"]["service"]["name"]
                for ingress in BY_KIND["Ingress"] for rule in ingress["spec"]["rules"]
                for path in rule["http"]["paths"]}
    assert backends == {"onegin-web"}


def test_web_probes_use_the_health_routes() -> None:
    web = pod("web")["containers"][0]
    assert web["readinessProbe"]["httpGet"]["path"] == "/api/v1/readyz"
    assert web["livenessProbe"]["httpGet"]["path"] == "/api/v1/healthz"
    assert [c["args"] for c in pod("web")["initContainers"]] == [["migrate"]]
