"""The Dockerfiles, read as instructions: non-root, sources that exist and reach the
build context, the entrypoint, and no TensorFlow in the slim image. (No Docker
engine here: the images themselves are exercised by running their entrypoint.)"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import tomllib
from pathlib import Path

import pytest
import yaml

from tests.deploy.helpers import DEPLOY, ENTRYPOINT, REPO, dockerfile_instructions

SLIM = DEPLOY / "Dockerfile"
GPU = DEPLOY / "Dockerfile.gpu"
ENTRYPOINT_IN_IMAGE = "/opt/onegin/entrypoint.sh"
TENSORFLOW = re.compile(r"^(tensorflow|keras|tensorboard|tf-)", re.I)
DATABASE = re.compile(r"^(psycopg|sqlalchemy|alembic|optuna)", re.I)


def extras(dockerfile: Path) -> set[str]:
    """The extras of the ``pip install -e ".[…]"`` in a Dockerfile."""
    text = " ".join(args for word, args in dockerfile_instructions(dockerfile) if word == "RUN")
    found = re.findall(r'pip install -e "\.\[([a-z,]+)\]"', text)
    assert len(found) == 1, f"{dockerfile.name}: one editable install of the project"
    return set(found[0].split(","))


def requirements(extra_names: set[str]) -> list[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    names = list(project["dependencies"])
    for extra in extra_names:
        names += project["optional-dependencies"][extra]
    return [re.split(r"[<>=!~\[; ]", name, maxsplit=1)[0] for name in names]


def dockerignored(path: str) -> bool:
    hit = False
    for raw in (REPO / ".dockerignore").read_text().splitlines():
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!")
        bare = pattern.removeprefix("**/")
        parts = Path(path).parts
        matched = fnmatch.fnmatch(path, pattern) or any(
            fnmatch.fnmatch("/".join(parts[: i + 1]), bare) for i in range(len(parts)))
        if pattern.startswith("**/"):
            matched = matched or any(fnmatch.fnmatch(part, bare) for part in parts)
        if matched:
            hit = not negate
    return hit


@pytest.mark.parametrize("dockerfile", [SLIM, GPU], ids=["slim", "gpu"])
def test_image_runs_as_a_non_root_user(dockerfile: Path) -> None:
    instructions = dockerfile_instructions(dockerfile)
    users = [args for word, args in instructions if word == "USER"]
    assert users, "no USER: the image would run as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    created = " ".join(args for word, args in instructions if word == "RUN")
    assert re.search(rf"useradd .*--uid 10001 .*{user}", created), "the user is created"
    last_user = max(i for i, (word, _) in enumerate(instructions) if word == "USER")
    assert not [w for w, _ in instructions[last_user:] if w == "RUN"], \
        "nothing runs as root after USER"


def k8s_uids() -> set[int]:
    uids = set()
    for path in (DEPLOY / "k8s").glob("*.yaml"):
        for doc in yaml.safe_load_all(path.read_text()):
            spec = (doc or {}).get("spec", {}).get("template", {}).get("spec", {})
            if "securityContext" in spec:
                uids.add(spec["securityContext"]["runAsUser"])
    return uids


def test_kubernetes_runs_as_the_images_user() -> None:
    assert k8s_uids() == {10001}


@pytest.mark.parametrize("dockerfile", [SLIM, GPU], ids=["slim", "gpu"])
def test_copied_sources_exist_and_reach_the_build_context(dockerfile: Path) -> None:
    copies = [shlex.split(args) for word, args in dockerfile_instructions(dockerfile)
              if word == "COPY"]
    assert copies
    for args in copies:
        if any(a.startswith("--from=") for a in args):
            continue
        *sources, _target = [a for a in args if not a.startswith("--")]
        for source in sources:
            assert (REPO / source).exists(), f"{dockerfile.name}: COPY {source}: missing"
            assert not dockerignored(source), f"{dockerfile.name}: {source} is .dockerignored"


@pytest.mark.parametrize("dockerfile", [SLIM, GPU], ids=["slim", "gpu"])
def test_entrypoint_is_the_role_script(dockerfile: Path) -> None:
    instructions = dockerfile_instructions(dockerfile)
    entry = [json.loads(args) for word, args in instructions if word == "ENTRYPOINT"]
    assert entry == [[ENTRYPOINT_IN_IMAGE]], "exec form: the script is PID 1's child via init"
    copies = [shlex.split(args) for word, args in instructions if word == "COPY"]
    assert ["deploy/entrypoint.sh", "deploy/ops.py", "/opt/onegin/"] in copies
    cmd = [json.loads(args) for word, args in instructions if word == "CMD"]
    assert cmd == [["gpu-worker" if dockerfile == GPU else "web"]]
    assert os.access(ENTRYPOINT, os.X_OK), "deploy/entrypoint.sh must be executable"


def test_slim_image_has_no_tensorflow() -> None:
    chosen = extras(SLIM)
    assert "worker" not in chosen
    assert {"web", "orchestrator", "monitor"} <= chosen
    heavy = [name for name in requirements(chosen) if TENSORFLOW.match(name)]
    assert not heavy, f"the slim image would install {heavy}"
    base = next(args for word, args in reversed(dockerfile_instructions(SLIM))
                if word == "FROM")
    assert base.startswith("python:") and "slim" in base


def test_gpu_image_is_tensorflow_gpu_without_database_drivers() -> None:
    base = next(args for word, args in dockerfile_instructions(GPU) if word == "FROM")
    assert re.fullmatch(r"tensorflow/tensorflow:\$\{TF_VERSION\}-gpu", base), base
    chosen = extras(GPU)
    assert chosen == {"worker"}
    drivers = [name for name in requirements(chosen) if DATABASE.match(name)]
    assert not drivers, f"GPU workers never open the database; the image would get {drivers}"


def test_layers_install_dependencies_before_the_code() -> None:
    """Code changes must not invalidate the dependency layer."""
    for dockerfile in (SLIM, GPU):
        words = [(w, a) for w, a in dockerfile_instructions(dockerfile)]
        install = next(i for i, (w, a) in enumerate(words) if w == "RUN" and "pip install" in a)
        code = next(i for i, (w, a) in enumerate(words) if w == "COPY" and a.startswith("onegin"))
        assert install < code, dockerfile.name
        assert "PIP_NO_CACHE_DIR=1" in " ".join(a for w, a in words if w == "ENV"), \
            f"{dockerfile.name}: pip's cache would stay in a layer"


def test_dockerignore_keeps_secrets_and_local_state_out() -> None:
    for path in (".env", ".env.production", ".git", ".venv", ".onegin", "runs",
                 "webapp/static/vendor", "webapp/frontend/node_modules",
                 "onegin/__pycache__", "onegin.egg-info"):
        assert dockerignored(path), path
    for path in (".env.example", "pyproject.toml", "README.md", "onegin", "migrations",
                 "deploy/entrypoint.sh"):
        assert not dockerignored(path), path
