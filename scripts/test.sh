#!/usr/bin/env bash
# The test command: the Python suite, then the Max for Live device's Node tests.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pytest -q "$@"
if [ -f max_for_live/package.json ]; then
  (cd max_for_live && npm ci --no-audit --no-fund --silent && npm test)
fi
