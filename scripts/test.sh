#!/usr/bin/env bash
# Every test: install, build, then ctest: unit tests, whole simulations,
# the command line end to end, and every shipped scenario.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh release
ctest --preset release -j "$(nproc)"
