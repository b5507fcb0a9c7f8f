#!/usr/bin/env bash
# The main job: install, build, and run the 2008 virtio-net comparison
# (scenarios/seed-2008/), printing one table with a row per policy. Results
# land in out/seed-2008/ (summary.json and timeseries.csv per run, runs.csv).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh release
./build/vringsim run scenarios/seed-2008/*.json --out out/seed-2008
