#!/usr/bin/env bash
# A sweep as a Slurm job array: one array task per shard, then the merge.
#
#   scripts/slurm-sweep.sh [OPTIONS] SWEEP.json OUT [-- VRINGSIM ARGS...]
#
#   --shards N          array size (default 4): task K runs --shard K/N with
#                       --jobs $SLURM_CPUS_PER_TASK into OUT/shard-K
#   --cpus-per-task C   CPUs per array task (default 1)
#   --compare           also run the sweep unsharded into OUT/unsharded and
#                       require the merged results.csv and aggregate.csv to be
#                       byte-identical to it (exit 1 if not)
#   --one-node-cluster  start a private one-node Slurm cluster first (root;
#                       installs Debian's slurmctld, slurmd, slurm-client and
#                       munge if missing), and stop the daemons it started, by
#                       PID, however the script ends. CI uses this; on a real
#                       cluster leave it out and the job goes to your default
#                       partition (sbatch options through SBATCH_* variables,
#                       e.g. SBATCH_PARTITION, SBATCH_TIMELIMIT).
#
# Paths are the caller's. The merged sweep is OUT/merged; each task's log is
# OUT/slurm-JOB_TASK.out. Exit 0 when every task and the merge succeeded (and
# --compare matched), 1 otherwise, 2 on a usage error.
# VRINGSIM names the binary (default: build/vringsim beside this script).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${VRINGSIM:-"$here/../build/vringsim"}
usage() { echo "usage: $0 [--shards N] [--cpus-per-task C] [--compare] [--one-node-cluster] SWEEP OUT [-- ARGS...]" >&2; exit 2; }

shards=4 cpus=1 compare=0 cluster=0 pos=()
while [ $# -gt 0 ]; do
  case "$1" in
    --shards) [ $# -ge 2 ] || usage; shards=$2; shift 2 ;;
    --cpus-per-task) [ $# -ge 2 ] || usage; cpus=$2; shift 2 ;;
    --compare) compare=1; shift ;;
    --one-node-cluster) cluster=1; shift ;;
    --) shift; break ;;
    -*) usage ;;
    *) pos+=("$1"); shift ;;
  esac
done
[ ${#pos[@]} -eq 2 ] || usage
[[ "$shards" =~ ^[1-9][0-9]*$ && "$cpus" =~ ^[1-9][0-9]*$ ]] || usage
[ -x "$bin" ] || { echo "$0: $bin is not built (bash scripts/build.sh release)" >&2; exit 1; }
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
sweep=$(cd "$(dirname "${pos[0]}")" && pwd)/$(basename "${pos[0]}")
mkdir -p "${pos[1]}"
out=$(cd "${pos[1]}" && pwd)
extra=("$@")

# --- a private one-node cluster ------------------------------------------
pids=()
stop_cluster() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
  [ -z "${cdir:-}" ] || rm -rf "$cdir"
}
pid_of() {  # a daemon's PID from its PID file, waiting for it to appear
  local f=$1
  for _ in $(seq 100); do
    [ -s "$f" ] && { cat "$f"; return 0; }
    sleep 0.1
  done
  echo "$0: $2 did not start; its log:" >&2
  cat "$cdir/$2.log" >&2 2>/dev/null || true
  return 1
}
free_port() {  # a TCP port nothing listens on, from a range Slurm does not use by default
  local p
  for p in $(seq "$1" $(($1 + 200))); do
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
  echo "$1"
}
start_cluster() {
  [ "$(id -u)" = 0 ] || { echo "$0: --one-node-cluster needs root (it starts munged, slurmctld and slurmd)" >&2; exit 1; }
  local need=() p
  for p in slurmctld slurmd slurm-client munge; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
  done
  if [ ${#need[@]} -gt 0 ]; then
    echo "slurm-sweep: installing ${need[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
  cdir=$(mktemp -d /tmp/vringsim-slurm.XXXXXX)
  trap stop_cluster EXIT
  chmod 700 "$cdir"
  mkdir -p "$cdir/state" "$cdir/spool"
  # munge: its own key, socket and files, so a munged already running is left alone.
  dd if=/dev/urandom of="$cdir/munge.key" bs=1024 count=1 status=none
  chmod 400 "$cdir/munge.key"
  munged --force --key-file="$cdir/munge.key" --socket="$cdir/munge.socket" \
         --pid-file="$cdir/munged.pid" --log-file="$cdir/munged.log" --seed-file="$cdir/munged.seed"
  pids+=("$(pid_of "$cdir/munged.pid" munged)")
  local host ncpu ctl_port d_port
  host=$(hostname -s) ncpu=$(nproc)
  ctl_port=$(free_port 16817) d_port=$(free_port 16917)
  cat >"$cdir/slurm.conf" <<EOF
ClusterName=vringsim-ci
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctl_port
SlurmdPort=$d_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$cdir/munge.socket
StateSaveLocation=$cdir/state
SlurmdSpoolDir=$cdir/spool
SlurmctldPidFile=$cdir/slurmctld.pid
SlurmdPidFile=$cdir/slurmd.pid
SlurmctldLogFile=$cdir/slurmctld.log
SlurmdLogFile=$cdir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
NodeName=$host NodeAddr=127.0.0.1 CPUs=$ncpu State=UNKNOWN
PartitionName=ci Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  export SLURM_CONF=$cdir/slurm.conf
  slurmctld -f "$SLURM_CONF"
  pids+=("$(pid_of "$cdir/slurmctld.pid" slurmctld)")
  slurmd -f "$SLURM_CONF"
  pids+=("$(pid_of "$cdir/slurmd.pid" slurmd)")
  for _ in $(seq 100); do
    sinfo -h -N -o '%T' 2>/dev/null | grep -qx idle && { echo "slurm-sweep: one-node cluster up ($host, $ncpu CPUs, ports $ctl_port/$d_port)"; return 0; }
    sleep 0.2
  done
  echo "$0: the node never became idle:" >&2
  sinfo -N >&2 || true
  tail -n 20 "$cdir/slurmctld.log" "$cdir/slurmd.log" >&2 || true
  exit 1
}

[ "$cluster" = 0 ] || start_cluster

# --- the job array -------------------------------------------------------
q() { local s; s=$(printf '%q ' "$@"); printf '%s' "${s% }"; }
task="VRINGSIM=$(q "$bin") bash $(q "$here/sweep-sharded.sh") run $(q "$sweep") $(q "$out") \$SLURM_ARRAY_TASK_ID $shards --jobs \$SLURM_CPUS_PER_TASK"
[ ${#extra[@]} -eq 0 ] || task+=" $(q "${extra[@]}")"
t0=$(date +%s)
echo "slurm-sweep: submitting $shards array tasks of $cpus CPU(s) each, waiting for them"
set +e
job=$(sbatch --parsable --wait --array="1-$shards" --cpus-per-task="$cpus" --job-name=vringsim-sweep \
             --chdir="$out" --output="$out/slurm-%A_%a.out" --wrap "$task")
rc=$?
set -e
echo "slurm-sweep: job array ${job:-?} ended with exit $rc after $(( $(date +%s) - t0 )) s"
if [ $rc != 0 ]; then
  echo "$0: a task failed; the task logs:" >&2
  tail -n 5 "$out"/slurm-*.out >&2 2>/dev/null || true
  exit 1
fi
rm -rf "$out/merged"
bash "$here/sweep-sharded.sh" merge "$out"

if [ "$compare" = 1 ]; then
  rm -rf "$out/unsharded"
  "$bin" sweep "$sweep" --out "$out/unsharded" "${extra[@]}"
  for f in results.csv aggregate.csv; do
    if ! cmp -s "$out/merged/$f" "$out/unsharded/$f"; then
      echo "$0: $out/merged/$f differs from the unsharded run's:" >&2
      diff "$out/merged/$f" "$out/unsharded/$f" | head -n 5 >&2
      exit 1
    fi
  done
  echo "slurm-sweep: merged results.csv and aggregate.csv are byte-identical to the unsharded run ($(($(wc -l <"$out/merged/results.csv") - 1)) runs)"
fi
