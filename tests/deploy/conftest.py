"""Fixtures for running the images' roles on this machine: the compose services'
environments re-pointed at the local PostgreSQL, Redis and moto S3 endpoint."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.deploy.helpers import compose, local_env, run_entrypoint, service_env


@dataclass(frozen=True)
class Backends:
    """Where the local services are, standing in for the compose network's hosts."""

    database_url: str
    redis_url: str
    s3_endpoint: str

    def env_of(self, service: str, home: Path, **extra: str) -> dict[str, str]:
        """What ``service``'s container would get: its compose environment (with
        .env.example) with postgres/redis/minio re-pointed here, plus a writable home."""
        env = service_env(compose()["services"][service])
        for key in env:
            if key == "ONEGIN_DATABASE_URL":
                env[key] = self.database_url
            elif key in ("ONEGIN_BROKER_URL", "ONEGIN_EVENTS_URL"):
                env[key] = self.redis_url
            elif key == "ONEGIN_S3_ENDPOINT_URL":
                env[key] = self.s3_endpoint
            elif key == "GPU_LOCK_DIR":
                env[key] = str(home / "gpu-locks")
        # the image's ENV sets ONEGIN_HOME=/var/lib/onegin; here a private folder
        home.mkdir(parents=True, exist_ok=True)
        return local_env(env | {"ONEGIN_HOME": str(home), "HOME": str(home)} | extra)


@pytest.fixture(scope="session")
def database_factory() -> Iterator[Callable[[], str]]:
    """Makes empty PostgreSQL databases (dropped at the end): for the migrate role."""
    admin_url = os.environ.get("ONEGIN_TEST_POSTGRES_URL")
    if not admin_url:
        if os.environ.get("ONEGIN_REQUIRE_SERVICES") == "1":
            pytest.fail("PostgreSQL is not available (ONEGIN_TEST_POSTGRES_URL)")
        pytest.skip("PostgreSQL is not available; run: eval \"$(bash scripts/services.sh)\"")
    import sqlalchemy as sa

    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    made: list[str] = []

    def make() -> str:
        name = f"onegin_deploy_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return admin_url.rsplit("/", 1)[0] + f"/{name}"

    yield make
    with admin.connect() as conn:
        for name in made:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="module")
def backends(postgres_url: str, redis_url: str, s3_endpoint: str,
             tmp_path_factory: pytest.TempPathFactory) -> Backends:
    """The module's database, migrated (and the bucket made) by the migrate role itself."""
    found = Backends(postgres_url, redis_url, s3_endpoint)
    home = tmp_path_factory.mktemp("migrate")
    done = run_entrypoint("migrate", env=found.env_of("migrate", home))
    assert done.returncode == 0, done.stdout + done.stderr
    return found
