#!/usr/bin/env bash
# The main job: install what a run needs, build vringsim, and run the 2008
# virtio-net comparison (scenarios/seed-2008/), printing one table with a row
# per policy. Results land in out/seed-2008/ (summary.json and timeseries.csv
# per run, runs.csv). The tests, benches, fuzz targets and plotting packages
# are the test command's (scripts/test.sh), not this job's.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh run
VRINGSIM_BUILD_TESTS=OFF bash scripts/build.sh release vringsim
./build/vringsim run scenarios/seed-2008/*.json --out out/seed-2008
