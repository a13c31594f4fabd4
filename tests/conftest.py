"""Fixtures for the real services: PostgreSQL, Redis and an S3-protocol endpoint.

`.ci/run` starts PostgreSQL and Redis (scripts/services.sh) and sets
ONEGIN_REQUIRE_SERVICES=1, so there a missing service fails the run instead of
skipping; on a laptop without them the integration tests skip with a reason.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["tests.fixtures.services", "tests.fixtures.reaping", "tests.fixtures.isolation"]

# pytest-xdist hands out whole files in collection order: the long cluster, fault and
# browser files start first, so the short unit files fill both processes' ends evenly.
HEAVY_FIRST = (
    "tests/faults/", "tests/integration/", "tests/deploy/", "tests/browser/",
    "tests/webapp/test_fuzz.py")


def _weight(item: pytest.Item) -> int:
    return next((rank for rank, folder in enumerate(HEAVY_FIRST)
                 if item.nodeid.startswith(folder)), len(HEAVY_FIRST))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=_weight)  # stable: a file's tests stay together and in order
