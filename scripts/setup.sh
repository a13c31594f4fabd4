#!/usr/bin/env bash
# Creates .venv (if needed) and installs Onegin with every role's extras.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[worker,orchestrator,web,monitor,tensorboard,dev]"
# The dashboard's third-party browser modules (Socket.IO client, Cytoscape.js, ECharts, three.js):
# installed from the lockfile and copied into webapp/static/vendor (git-ignored).
if command -v npm >/dev/null 2>&1; then
  npm ci --prefix webapp/frontend --no-audit --no-fund --loglevel=error
  npm run --prefix webapp/frontend --silent build
else
  echo "warning: npm not found; the dashboard's vendor files (webapp/static/vendor) are not built" >&2
fi
