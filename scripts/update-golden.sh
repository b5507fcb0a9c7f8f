#!/usr/bin/env bash
# Regenerates tests/golden/ from the current build: every shipped scenario's
# summary.json (provenance removed) and timeseries.csv hash, and the 2008
# tables. Run it when a change is meant to move a figure; the diff of
# tests/golden/ in that commit then shows which ones moved.
set -euo pipefail
cd "$(dirname "$0")/.."
exec /usr/bin/python3 tests/golden/golden.py update "${1:-build/vringsim}"
