#!/usr/bin/env bash
# Configures and builds a preset (default: release, into build/).
# VRINGSIM_WERROR=ON in the environment makes warnings errors (CI does this).
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-release}
cmake --preset "$preset" ${VRINGSIM_WERROR:+-DVRINGSIM_WERROR=$VRINGSIM_WERROR} >/dev/null
shift || true
# Any further arguments are targets to build (default: all).
cmake --build --preset "$preset" -j "$(nproc)" ${1:+--target "$@"}
