#!/usr/bin/env bash
# Sets up and runs Onegin's main job on the embedded default (no servers, no downloads).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/onegin optimize --dataset digits --trials 8 --concurrency 2 "$@"
