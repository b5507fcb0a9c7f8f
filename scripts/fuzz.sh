#!/usr/bin/env bash
# Builds the libFuzzer targets (in the sanitizer build, preset "asan": clang-14, ASan + UBSan) and
# runs each for FUZZ_SECONDS (default 30) from the committed seed corpus,
# printing executions per second and total executions. A crash stops with
# the failing input saved as fuzz/crash-* (make it a regression test).
# Longer runs: FUZZ_SECONDS=3600 bash scripts/fuzz.sh (FUZZ_WORK=DIR keeps the corpora)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-30}
cmake --preset asan >/dev/null
cmake --build --preset asan -j "$(nproc)" --target fuzz_scenario fuzz_sweep fuzz_pcap fuzz_pcap_diff fuzz_csv >"${TMPDIR:-/tmp}/vringsim-fuzz-build.log" || { tail -30 "${TMPDIR:-/tmp}/vringsim-fuzz-build.log"; exit 1; }
# Corpora grow, and the targets rewrite their input file on every run, in
# memory when /dev/shm exists (on ext4, creating and truncating files cost
# more than parsing them). FUZZ_WORK=DIR keeps them in DIR instead of a
# temporary directory removed at the end (to copy new finds into fuzz/corpus/).
if [ -n "${FUZZ_WORK:-}" ]; then
  work=$FUZZ_WORK
  mkdir -p "$work"
else
  work=$(mktemp -d -p /dev/shm vringsim-fuzz.XXXXXX 2>/dev/null || mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi
export VRINGSIM_FUZZ_DIR="$work/input"
mkdir -p "$VRINGSIM_FUZZ_DIR"
for t in scenario sweep pcap pcap_diff csv; do
  mkdir -p "$work/$t"
  log="$work/$t.log"
  if ! ./build-asan/fuzz_$t -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix=fuzz/crash-$t- \
      "$work/$t" "fuzz/corpus/$t" >"$log" 2>&1; then
    tail -40 "$log"
    echo "fuzz_$t: FAILED (input saved as fuzz/crash-$t-*)"
    exit 1
  fi
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$')
  echo "fuzz_$t: ${execs} executions in ${seconds} s (${rate}/s), no crash"
done
