#!/usr/bin/env bash
# Installs vringsim's build and test dependencies from Debian 12 packages.
# Idempotent: if everything is installed it changes nothing; otherwise it
# runs apt-get update first, then installs what is missing. Needs root.
set -euo pipefail

# What `scripts/run-2008.sh` (the main job) needs: build vringsim and run it.
RUN_PACKAGES=(
  # toolchain pieces a bare machine may lack
  cmake make g++ pkg-config
  # chosen libraries (docs/developer.md, "Dependencies")
  libsimgrid-dev       # simulation kernel (s4u actors); pkg-config only, no CMake config
  libboost-graph-dev   # descriptor-chain checks (--check), topology graphs; Boost.Math
  nlohmann-json3-dev   # scenario files, summary.json
  libeigen3-dev        # sweep statistics, analytic cross-check, calibration
  libcli11-dev         # command line
  libfmt-dev           # formatting
  libssl-dev           # SHA-256 of scenarios (libcrypto)
  libpcap-dev          # pcap replay, BPF filters; the pcapng reader is tested against it (tests/pcap)
)
# What the test command adds: the tests, the fuzz targets, plots and notebooks.
TEST_PACKAGES=(
  libgtest-dev         # unit tests
  clang-14 libfuzzer-14-dev libclang-rt-14-dev  # fuzz targets and the sanitizer build (scripts/fuzz.sh)
  graphviz             # `vringsim topology --dot | dot -Tsvg` (docs/guide/capacity-planning.md), checked by a test
  # plots and notebooks (analysis/, notebooks/), for Debian's /usr/bin/python3
  python3 python3-matplotlib python3-pandas
  python3-jsonschema   # tests/schema: vringsim schema against the shipped files
  jupyter-nbconvert python3-ipykernel python3-nbclient python3-nbformat
)
# `setup.sh run`: only the main job's packages; `setup.sh` (the test command): all.
case "${1:-all}" in
  run) PACKAGES=("${RUN_PACKAGES[@]}") ;;
  all) PACKAGES=("${RUN_PACKAGES[@]}" "${TEST_PACKAGES[@]}") ;;
  *) echo "usage: setup.sh [run|all]" >&2; exit 2 ;;
esac

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "setup: missing packages (${missing[*]}); run as root to install them" >&2
  exit 1
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
