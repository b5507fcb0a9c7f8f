#!/usr/bin/env bash
# The sharded-sweep steps of .github/workflows/sweep-example.yml as a plain
# script, for any CI or a cluster: run shard K of N, or merge. Paths are the
# caller's (relative to the directory it runs in); arguments after the
# required ones go to vringsim (--jobs N, --set KEY=VALUE, --partial).
#   scripts/sweep-sharded.sh run SWEEP.json OUT K N [ARGS...]   # one shard into OUT/shard-K
#   scripts/sweep-sharded.sh merge OUT [ARGS...]                # OUT/shard-* -> OUT/merged
# On Slurm, one array task per shard (--jobs defaults to the task's CPUs):
#   sbatch --array=1-8 --wrap 'scripts/sweep-sharded.sh run sweep.json out $SLURM_ARRAY_TASK_ID $SLURM_ARRAY_TASK_COUNT'
# VRINGSIM names the binary (default: build/vringsim beside this script).
set -euo pipefail
bin=${VRINGSIM:-"$(cd "$(dirname "$0")/.." && pwd)/build/vringsim"}
case "${1:-}" in
  run)
    [ $# -ge 5 ] || { echo "usage: $0 run SWEEP OUT K N [ARGS...]" >&2; exit 2; }
    sweep=$2 out=$3 k=$4 n=$5
    shift 5
    "$bin" sweep "$sweep" --out "$out/shard-$k" --shard "$k/$n" "$@" ;;
  merge)
    [ $# -ge 2 ] || { echo "usage: $0 merge OUT [ARGS...]" >&2; exit 2; }
    out=$2
    shift 2
    "$bin" merge "$out"/shard-* --out "$out/merged" "$@" ;;
  *)
    echo "usage: $0 run SWEEP OUT K N [ARGS...] | merge OUT [ARGS...]" >&2; exit 2 ;;
esac
