#!/usr/bin/env bash
# Sets up, starts PostgreSQL and Redis, lints, type-checks, checks the import layers and runs
# the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if services=$(bash scripts/services.sh); then
  eval "$services"
else
  echo "warning: PostgreSQL/Redis could not be started; integration tests will skip" >&2
fi
bash scripts/browser.sh >/dev/null || echo "warning: chromium is missing; browser tests will skip" >&2
.venv/bin/ruff check .
.venv/bin/mypy
.venv/bin/lint-imports  # the layers: the roles import onegin, never the reverse or each other
if command -v node >/dev/null 2>&1; then
  node --test webapp/static/js/   # the dashboard's pure JavaScript (weight rebalancing)
fi
# Two processes, each taking whole files: most tests wait on workers, servers or a browser,
# so two share the cores well; a module's fixtures stay in one process.
exec .venv/bin/python -m pytest -n "${ONEGIN_TEST_PROCESSES:-2}" --dist loadfile "$@"
