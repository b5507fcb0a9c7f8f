#!/usr/bin/env bash
# Fuzzing in two builds. Each libFuzzer target grows its corpus for
# FUZZ_SECONDS (default 30) from the committed seed corpus in the fast build
# (preset "fuzz": clang-14 -O2, coverage and UBSan, no ASan), as many targets
# at a time as there are cores (FUZZ_JOBS), printing executions per second and
# total executions; then every input it kept, and the seeds, run once more in
# the sanitizer build (preset "asan": ASan + UBSan), which finds the memory
# errors the fast build cannot see. A crash in either stops with the failing
# input saved as fuzz/crash-* (make it a regression test: README, "Fuzzing").
# Longer runs: FUZZ_SECONDS=3600 bash scripts/fuzz.sh (FUZZ_WORK=DIR keeps the
# corpora); FUZZ_TARGETS="scenario sweep" runs some of the targets.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-30}
targets=${FUZZ_TARGETS:-scenario sweep pcap pcap_diff csv}
jobs=${FUZZ_JOBS:-$(nproc)}
build_log="${TMPDIR:-/tmp}/vringsim-fuzz-build.log"
: >"$build_log"
for preset in fuzz asan; do
  cmake --preset "$preset" >>"$build_log" 2>&1 || { tail -30 "$build_log"; exit 1; }
  # shellcheck disable=SC2086  # one target per word
  cmake --build --preset "$preset" -j "$(nproc)" --target $(printf 'fuzz_%s ' $targets) >>"$build_log" 2>&1 ||
    { tail -30 "$build_log"; exit 1; }
done
# Corpora grow, and the targets (all but sweep, which reads its input from
# memory) rewrite their input file on every run, in
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
figure() { grep -o "stat::$1: *[0-9]*" "$2" | grep -o '[0-9]*$'; }

grow() {  # grow TARGET: the fast build, FUZZ_SECONDS; its exit status in $work/TARGET.rc
  local t=$1 rc=0
  mkdir -p "$work/$t" "$work/input-$t"
  # Each target its own input files (targets run side by side). -close_fd_mask=2:
  # the targets' own warnings (a scenario's ignored keys, a trace's short
  # frames) are not written for every input; libFuzzer's and the sanitizers'
  # reports still are. glibc's per-thread cache keeps up to 4,000 freed
  # blocks of a size instead of 7: a run allocates and frees thousands of
  # small blocks (JSON trees, strings), and past 7 each went through
  # malloc's bins (the scenario target ran 13 % more inputs per CPU second).
  GLIBC_TUNABLES=glibc.malloc.tcache_count=4000 VRINGSIM_FUZZ_DIR="$work/input-$t" ./build-fuzz/fuzz_$t -max_total_time="$seconds" -print_final_stats=1 \
    -close_fd_mask=2 -artifact_prefix=fuzz/crash-$t- "$work/$t" "fuzz/corpus/$t" >"$work/$t.log" 2>&1 || rc=$?
  echo "$rc" >"$work/$t.rc"
}
running=0
for t in $targets; do
  grow "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n
    running=$((running - 1))
  fi
done
wait

for t in $targets; do
  log="$work/$t.log"
  if [ "$(cat "$work/$t.rc")" != 0 ]; then
    tail -40 "$log"
    echo "fuzz_$t: FAILED in the fast build (input saved as fuzz/crash-$t-*)"
    exit 1
  fi
  execs=$(figure number_of_executed_units "$log")
  rate=$(figure average_exec_per_sec "$log")
  # -runs=0: each input of both directories once, nothing new.
  if ! VRINGSIM_FUZZ_DIR="$work/input-$t" ./build-asan/fuzz_$t -runs=0 -print_final_stats=1 -close_fd_mask=2 \
      -artifact_prefix=fuzz/crash-$t-asan- "$work/$t" "fuzz/corpus/$t" >"$log.asan" 2>&1; then
    tail -40 "$log.asan"
    echo "fuzz_$t: FAILED replaying the corpus under ASan+UBSan (input saved as fuzz/crash-$t-asan-*)"
    exit 1
  fi
  replayed=$(figure number_of_executed_units "$log.asan")
  echo "fuzz_$t: ${execs} executions in ${seconds} s (${rate}/s), then ${replayed} inputs under ASan+UBSan, no crash"
done
