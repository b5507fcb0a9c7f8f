#!/usr/bin/env bash
# Installs vringsim's build and test dependencies from Debian 12 packages.
# Idempotent: if everything is installed it changes nothing; otherwise it
# runs apt-get update first, then installs what is missing. Needs root.
set -euo pipefail

PACKAGES=(
  # toolchain pieces a bare machine may lack
  cmake make g++ pkg-config
  # chosen libraries (README "Dependencies")
  libsimgrid-dev       # simulation kernel (s4u actors); pkg-config only, no CMake config
  libboost-graph-dev   # descriptor-chain checks (--check), topology graphs
  nlohmann-json3-dev   # scenario files, summary.json
  libeigen3-dev        # sweep statistics, analytic cross-check, calibration
  libgtest-dev         # unit tests
  libcli11-dev         # command line
  libfmt-dev           # formatting
  libssl-dev           # SHA-256 of scenarios (libcrypto)
  libpcap-dev          # pcap replay, BPF filters; the pcapng reader is tested against it (tests/pcap)
  clang-14 libfuzzer-14-dev libclang-rt-14-dev  # fuzz targets (scripts/fuzz.sh)
  # plots and notebooks (analysis/, notebooks/), for Debian's /usr/bin/python3
  python3 python3-matplotlib python3-pandas
  python3-jsonschema   # tests/schema: vringsim schema against the shipped files
  jupyter-nbconvert python3-ipykernel python3-nbclient python3-nbformat
)

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
