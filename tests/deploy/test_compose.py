"""docker-compose.yml against the Compose specification's schema, and what the spec
cannot say: who publishes ports, which service holds which secret, health checks,
restart policies and limits, and settings that Onegin itself accepts."""

from __future__ import annotations

import fnmatch
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from onegin.settings import Role, env_name, load_settings, role_settings
from tests.deploy.helpers import (
    COMPOSE_FILE,
    DEPLOY,
    ENV_EXAMPLE,
    REPO,
    MissingVariable,
    compose,
    dockerfile_env,
    load_ops,
    raw_compose,
    read_env_file,
    service_env,
    variables,
)

SCHEMA = Path(__file__).parent / "schemas" / "compose-spec.json"
PUBLISHERS = {"web", "flower"}
SECRET_KEY = re.compile(r"PASSWORD|SECRET|BASIC_AUTH|ACCESS_KEY", re.I)
ROLES_WITH_DB = {"migrate", "web", "orchestrator", "optuna-dashboard"}


def entrypoint_roles() -> set[str]:
    """The role names of deploy/entrypoint.sh's case statement."""
    text = (DEPLOY / "entrypoint.sh").read_text()
    body = text.split('case "$role" in', 1)[1]
    return set(re.findall(r"^  ([a-z][a-z-]*)\)", body, flags=re.M))


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return compose()


@pytest.fixture(scope="module")
def services(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = spec["services"]
    return found


def long_running(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in services.items() if s.get("restart") != "no"}


def test_compose_file_follows_the_compose_specification(spec: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.Draft7Validator(schema)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in validator.iter_errors(spec)]
    assert not errors, "\n".join(errors)
    # the schema is not vacuous: a misspelt key fails it
    broken = json.loads(json.dumps(spec))
    broken["services"]["web"]["helthcheck"] = broken["services"]["web"].pop("healthcheck")
    assert not validator.is_valid(broken)


def test_every_variable_is_documented_in_env_example() -> None:
    used = variables(COMPOSE_FILE.read_text())
    text = ENV_EXAMPLE.read_text()
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", text, flags=re.M))
    assert used - documented == set(), "variables compose reads but .env.example never names"


def test_secrets_are_required_from_env_and_nothing_else_is() -> None:
    """Compose refuses to start without a secret; every secret of .env.example is needed."""
    required = set(re.findall(r"\$\{([A-Z0-9_]+):\?", COMPOSE_FILE.read_text()))
    example = read_env_file()
    assert required == set(example), (
        "the uncommented lines of .env.example are exactly the secrets compose requires")
    for name in required:
        with pytest.raises(MissingVariable, match=name):
            compose({k: v for k, v in example.items() if k != name})
        if SECRET_KEY.search(name):
            assert "change-me" in example[name], f"{name}: the example must be a placeholder"


def test_no_secret_is_written_in_the_compose_file() -> None:
    raw = raw_compose()
    for name, service in raw["services"].items():
        for key, value in service_env(service).items():
            if SECRET_KEY.search(key):
                assert value.startswith("${") and value.endswith("}"), (
                    f"{name}: {key} must come from .env (${{VAR:?…}}), not a literal")
            for password in re.findall(r"://[^:/@]*:([^@]*)@", value):
                assert password.startswith("${"), f"{name}: {key} has a literal password"


def test_env_file_is_ignored_and_the_example_is_not() -> None:
    def ignored(path: str, ignore_file: Path) -> bool:
        hit = False
        for raw in ignore_file.read_text().splitlines():
            pattern = raw.strip()
            if not pattern or pattern.startswith("#"):
                continue
            negate = pattern.startswith("!")
            pattern = pattern.lstrip("!").rstrip("/")
            if fnmatch.fnmatch(path, pattern):
                hit = not negate
        return hit

    assert ignored(".env", REPO / ".gitignore")
    assert not ignored(".env.example", REPO / ".gitignore")
    assert ignored(".env", REPO / ".dockerignore"), "a build context must never hold .env"
    assert ENV_EXAMPLE.is_file()


def test_only_the_web_app_and_flower_are_published(services: dict[str, Any]) -> None:
    published = {name for name, s in services.items() if s.get("ports")}
    assert published == PUBLISHERS
    for name, service in services.items():
        assert service.get("network_mode") != "host", name
    # Flower (basic auth over plain HTTP) stays on the host's loopback unless asked
    flower_ports = services["flower"]["ports"]
    assert all(str(p).startswith("127.0.0.1:") for p in flower_ports), flower_ports


def test_long_running_services_have_healthcheck_restart_and_limits(
        services: dict[str, Any]) -> None:
    running = long_running(services)
    assert set(services) - set(running) == {"migrate"}, "one-shots: migrate only"
    for name, service in running.items():
        assert service["restart"] in ("unless-stopped", "always"), name
        check = service.get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), f"{name}: no healthcheck"
        limits = service.get("deploy", {}).get("resources", {}).get("limits", {})
        assert limits.get("cpus") and limits.get("memory"), f"{name}: no cpu/memory limits"
    limits = services["migrate"]["deploy"]["resources"]["limits"]
    assert limits.get("cpus") and limits.get("memory")


def test_our_services_use_the_entrypoint_roles_and_its_probes(services: dict[str, Any]) -> None:
    health = load_ops().HEALTH
    roles = entrypoint_roles()
    ours = {name: s for name, s in services.items() if "build" in s}
    assert set(ours) == {"migrate", "web", "orchestrator", "gpu-worker", "flower",
                         "optuna-dashboard"}
    for name, service in ours.items():
        assert service["command"][0] in roles, f"{name}: unknown role"
        assert service.get("init") is True, f"{name}: init reaps zombies, forwards signals"
        test = service.get("healthcheck", {}).get("test")
        if test:
            assert test[:3] == ["CMD", "/opt/onegin/entrypoint.sh", "health"], name
            assert test[3] in health, f"{name}: probe for an unknown role {test[3]}"


def test_images_are_built_from_deploy(services: dict[str, Any]) -> None:
    images: dict[str, set[str]] = {}
    for name, service in services.items():
        build = service.get("build")
        if not build:
            continue
        assert build["context"] == ".", name
        dockerfile = REPO / build["dockerfile"]
        assert dockerfile.is_file() and dockerfile.parent == DEPLOY, name
        images.setdefault(build["dockerfile"], set()).add(service["image"])
    assert {k: len(v) for k, v in images.items()} == {"deploy/Dockerfile": 1,
                                                       "deploy/Dockerfile.gpu": 1}
    assert services["gpu-worker"]["build"]["dockerfile"] == "deploy/Dockerfile.gpu"


def test_gpu_workers_reserve_nvidia_gpus_and_scale(services: dict[str, Any]) -> None:
    worker = services["gpu-worker"]
    devices = worker["deploy"]["resources"]["reservations"]["devices"]
    assert any(d["driver"] == "nvidia" and "gpu" in d["capabilities"] for d in devices)
    assert "container_name" not in worker, "a fixed name would forbid --scale"
    assert not worker.get("ports"), "replicas cannot share a host port"
    assert worker["environment"]["GPU_LOCK_DIR"], "replicas must not all train on GPU 0"
    mounted = {v.split(":")[1] for v in worker["volumes"]}
    assert worker["environment"]["GPU_LOCK_DIR"] in mounted, "the locks live in a shared volume"


def test_each_service_gets_only_the_credentials_it_uses(services: dict[str, Any]) -> None:
    for name, service in services.items():
        env = service_env(service)
        has_db = "ONEGIN_DATABASE_URL" in env
        if name in ROLES_WITH_DB:
            assert has_db, name
        elif "build" in service:
            assert not has_db, f"{name} must not hold database credentials"
            assert not any("POSTGRES" in key for key in env), name
    assert "AWS_ACCESS_KEY_ID" not in service_env(services["flower"])
    assert "FLOWER_BASIC_AUTH" in service_env(services["flower"])


@pytest.mark.parametrize("name", ["web", "orchestrator", "gpu-worker"])
def test_each_role_gets_only_the_settings_it_reads(services: dict[str, Any], name: str) -> None:
    """The allow-list of `onegin.settings` (what a local worker gets) holds here too."""
    service = services[name]
    env = dockerfile_env(REPO / service["build"]["dockerfile"]) | service_env(service)
    given = {k for k in env if k.startswith("ONEGIN_")}
    assert given <= {env_name(n) for n in role_settings(Role(name))}, name


@pytest.mark.parametrize("name", ["migrate", "web", "orchestrator", "gpu-worker", "flower",
                                  "optuna-dashboard"])
def test_service_environment_loads_as_onegin_settings(services: dict[str, Any],
                                                      name: str) -> None:
    """What a container would load: the image's ENV, then the service's environment.
    Unknown ONEGIN_* variables and bad values are rejected by `load_settings`."""
    service = services[name]
    image_env = dockerfile_env(REPO / service["build"]["dockerfile"])
    env = {k: v for k, v in (image_env | service_env(service)).items()
           if k.startswith("ONEGIN_")}
    settings = load_settings(env=env)
    if name in ("web", "orchestrator", "gpu-worker", "flower"):
        assert not settings.embedded
        assert settings.broker_url.startswith("redis://") and "@redis:6379/" in \
            settings.broker_url
    if name in ("web", "orchestrator", "gpu-worker"):
        assert settings.events_url.startswith("redis://")
        assert settings.artifacts_url.startswith("s3://")
        assert settings.s3_endpoint_url == "http://minio:9000"
    if name in ROLES_WITH_DB:
        assert settings.database_url.startswith("postgresql+psycopg2://")
        assert "@postgres:5432/" in settings.database_url
    if name == "web":
        assert settings.auth == "required" and settings.secret_key
    assert str(settings.home) == "/var/lib/onegin"


def test_dependencies_wait_for_migration_and_health(services: dict[str, Any]) -> None:
    for name in ("web", "orchestrator", "optuna-dashboard"):
        assert services[name]["depends_on"]["migrate"]["condition"] == \
            "service_completed_successfully", name
    for name, service in services.items():
        for dependency, rule in (service.get("depends_on") or {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            if dependency != "migrate":
                assert rule["condition"] == "service_healthy", (name, dependency)


def test_stateful_services_keep_their_data_in_named_volumes(spec: dict[str, Any]) -> None:
    services = spec["services"]
    for name, path in (("postgres", "/var/lib/postgresql/data"), ("minio", "/data"),
                       ("redis", "/data")):
        volume, _, target = services[name]["volumes"][0].partition(":")
        assert target == path and volume in spec["volumes"], name


def test_optuna_dashboard_is_on_demand_and_not_published(services: dict[str, Any]) -> None:
    dashboard = services["optuna-dashboard"]
    assert dashboard["profiles"] == ["tools"]
    assert "ports" not in dashboard
    assert dashboard["environment"]["ONEGIN_DATABASE_URL"] == \
        services["orchestrator"]["environment"]["ONEGIN_DATABASE_URL"], "the same studies"
