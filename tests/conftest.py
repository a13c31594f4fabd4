"""Fixtures for the real services: PostgreSQL, Redis and an S3-protocol endpoint.

`.ci/run` starts PostgreSQL and Redis (scripts/services.sh) and sets
ONEGIN_REQUIRE_SERVICES=1, so there a missing service fails the run instead of
skipping; on a laptop without them the integration tests skip with a reason.
"""

from __future__ import annotations

pytest_plugins = ["tests.fixtures.services"]
