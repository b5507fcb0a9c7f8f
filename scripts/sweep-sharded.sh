#!/usr/bin/env bash
# The sharded-sweep steps of .github/workflows/sweep-example.yml as a plain
# script, for any CI or a cluster: run shard K of N, or merge.
#   scripts/sweep-sharded.sh run SWEEP.json OUT K N   # one shard into OUT/shard-K
#   scripts/sweep-sharded.sh merge OUT                # OUT/shard-* -> OUT/merged
# On Slurm, one array task per shard:
#   sbatch --array=1-8 --wrap 'scripts/sweep-sharded.sh run sweep.json out $SLURM_ARRAY_TASK_ID $SLURM_ARRAY_TASK_COUNT'
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  run)
    [ $# = 5 ] || { echo "usage: $0 run SWEEP OUT K N" >&2; exit 2; }
    ./build/vringsim sweep "$2" --out "$3/shard-$4" --shard "$4/$5" ;;
  merge)
    [ $# = 2 ] || { echo "usage: $0 merge OUT" >&2; exit 2; }
    ./build/vringsim merge "$2"/shard-* --out "$2/merged" ;;
  *)
    echo "usage: $0 run SWEEP OUT K N | merge OUT" >&2; exit 2 ;;
esac
