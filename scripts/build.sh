#!/usr/bin/env bash
# Configures and builds a preset (default: release, into build/).
# VRINGSIM_WERROR=ON in the environment makes warnings errors (CI does this);
# VRINGSIM_BUILD_TESTS=OFF configures without the tests (the main job: no
# GoogleTest needed), ON with them (the default, and what the test command sets).
# VRINGSIM_UNITY_BUILD=OFF compiles file by file where the preset (release)
# builds unity sources: quicker rebuilds after editing one file.
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-release}
cmake --preset "$preset" ${VRINGSIM_WERROR:+-DVRINGSIM_WERROR=$VRINGSIM_WERROR} \
  ${VRINGSIM_UNITY_BUILD:+-DVRINGSIM_UNITY_BUILD=$VRINGSIM_UNITY_BUILD} \
  -DVRINGSIM_BUILD_TESTS="${VRINGSIM_BUILD_TESTS:-ON}" >/dev/null
shift || true
# Any further arguments are targets to build (default: all).
cmake --build --preset "$preset" -j "$(nproc)" ${1:+--target "$@"}
