#!/usr/bin/env bash
# scripts/slurm-sweep.sh against a stand-in sbatch that runs the array's
# tasks one after another with the variables Slurm sets (SLURM_ARRAY_TASK_ID,
# SLURM_CPUS_PER_TASK, ...). The real one-node cluster runs in .ci/run
# (docs/developer.md: scripts/slurm-sweep.sh --one-node-cluster); this checks the
# script's own logic on every change: paths, the merge, --compare, failures.
# Usage: slurm_script_test.sh VRINGSIM SOURCE_DIR
set -u
BIN=$(realpath "$1")
SRC=$(realpath "$2")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0 pass=0
check() {  # check NAME 'CONDITION'
  if eval "$2"; then pass=$((pass + 1)); else echo "FAIL: $1 (rc=$rc, stderr: $(head -c 400 "$T/err"))"; fails=$((fails + 1)); fi
}
mkdir -p "$T/bin" "$T/caller"
cat >"$T/bin/sbatch" <<'SB'
#!/usr/bin/env bash
# stand-in: --array=1-N --cpus-per-task=C --chdir=D --output=F --wrap CMD [--parsable --wait ...]
n= c=1 d=. o= w=
while [ $# -gt 0 ]; do
  case "$1" in
    --array=*) n=${1#--array=1-} ;;
    --cpus-per-task=*) c=${1#*=} ;;
    --chdir=*) d=${1#*=} ;;
    --output=*) o=${1#*=} ;;
    --wrap) w=$2; shift ;;
  esac
  shift
done
echo "$w" >"$SBATCH_LOG"
rc=0
for k in $(seq "$n"); do
  f=${o//%A/77}; f=${f//%a/$k}
  (cd "$d" && SLURM_ARRAY_JOB_ID=77 SLURM_ARRAY_TASK_ID=$k SLURM_ARRAY_TASK_COUNT=$n SLURM_CPUS_PER_TASK=$c \
     bash -c "$w") >"$f" 2>&1 || rc=1
done
echo 77
exit $rc
SB
chmod +x "$T/bin/sbatch"
export PATH="$T/bin:$PATH" SBATCH_LOG="$T/wrap" VRINGSIM="$BIN"
cat >"$T/caller/base.json" <<'J'
{"name": "b", "stop": {"time_s": 0.02}, "measure": {"warmup_s": 0.002}, "traffic": {"arrival": "poisson"}}
J
cat >"$T/caller/sw.json" <<'J'
{"name": "s", "base": "base.json", "axes": [{"key": "ring.size", "values": [64, 128, 256]},
 {"key": "policy.name", "values": ["max-buffer", "mergeable"]}], "replications": 2, "seed": 3}
J

# A sweep of 6 points x 2 replications in 4 array tasks of 2 CPUs, relative paths from the caller's directory.
(cd "$T/caller" && bash "$SRC/scripts/slurm-sweep.sh" --shards 4 --cpus-per-task 2 --compare sw.json out) >"$T/out" 2>"$T/err"
rc=$?
check "4 array tasks, merged, compared: exit 0" '[ "$rc" = 0 ]'
check "the caller's relative OUT: four shards, merged and unsharded there, nothing in the checkout" \
  '[ -d "$T/caller/out/shard-4" ] && [ "$(wc -l <"$T/caller/out/merged/results.csv")" = 13 ] && [ -d "$T/caller/out/unsharded" ] && [ ! -e "$SRC/out/shard-1" ] && [ ! -e "$SRC/out/merged" ]'
check "one log per task" '[ "$(ls "$T/caller/out"/slurm-77_*.out | wc -l)" = 4 ]'
check "each task runs its shard with --jobs from SLURM_CPUS_PER_TASK" \
  'grep -q "run .*sw.json .*out \$SLURM_ARRAY_TASK_ID 4 --jobs \$SLURM_CPUS_PER_TASK$" "$T/wrap"'
check "says the merged files equal the unsharded run's" 'grep -q "byte-identical to the unsharded run (12 runs)" "$T/out"'

# Arguments after -- reach every task and the unsharded run.
(cd "$T/caller" && bash "$SRC/scripts/slurm-sweep.sh" --shards 2 --compare sw.json out2 -- --set "traffic.rate_gbps=0.5") >"$T/out" 2>"$T/err"
rc=$?
check "-- --set reaches the tasks: exit 0, the wrap command carries it" '[ "$rc" = 0 ] && grep -q "traffic.rate_gbps=0.5" "$T/wrap"'
check "-- --set reaches the results" 'grep -q "0.5" "$T/caller/out2/merged/results.csv"'

# A task that fails makes the script fail (exit 1) and show the task's log; nothing is merged.
cat >"$T/caller/bad.json" <<'J'
{"name": "s", "base": "missing.json", "axes": [{"key": "ring.size", "values": [64, 128]}]}
J
(cd "$T/caller" && bash "$SRC/scripts/slurm-sweep.sh" --shards 2 bad.json out3) >"$T/out" 2>"$T/err"
rc=$?
check "a failing task: exit 1, its log shown, no merge" '[ "$rc" = 1 ] && grep -q "a task failed" "$T/err" && grep -q "missing.json" "$T/err" && [ ! -e "$T/caller/out3/merged" ]'

# Usage errors: exit 2.
for args in "" "sw.json" "--shards 0 sw.json o" "--shards x sw.json o" "--bogus sw.json o" "a b c"; do
  # shellcheck disable=SC2086
  (cd "$T/caller" && bash "$SRC/scripts/slurm-sweep.sh" $args) >"$T/out" 2>"$T/err"
  rc=$?
  check "usage error ($args): exit 2" '[ "$rc" = 2 ] && grep -q "^usage:" "$T/err"'
done

echo "slurm_script_test: $pass passed, $fails failed"
[ "$fails" = 0 ]
