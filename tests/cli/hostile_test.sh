#!/usr/bin/env bash
# Hostile inputs, round two: each case a finding that once crashed, hung,
# ate memory or exited 0 with a wrong or partial answer. Every bad input
# exits 2 with one line on stderr that names the file and where.
# Usage: hostile_test.sh VRINGSIM SOURCE_DIR
set -u
BIN=$(realpath "$1")
SRC=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
pass=0
check() {  # check NAME 'CONDITION' (a shell condition, evaluated whole)
  if eval "$2"; then pass=$((pass + 1)); else echo "FAIL: $1 (rc=$rc, stderr: $(head -c 300 "$T/err"))"; fails=$((fails + 1)); fi
}
run() {  # run CMD... : sets rc, out, err; 60 s at most, 4 GB of memory at most
  # (AddressSanitizer reserves terabytes of address space: no limit under it.)
  (if [ -z "${ASAN_OPTIONS:-}" ]; then ulimit -v 4000000; fi; timeout 60 "$@") >"$T/out" 2>"$T/err" </dev/null
  rc=$?
  out=$(head -c 100000 "$T/out")
  err=$(head -c 100000 "$T/err")
}
one_line() { [ "$(grep -c '' "$T/err")" = 1 ]; }
short_line() { [ "$(wc -c <"$T/err")" -le 400 ]; }
MERG=$SRC/scenarios/seed-2008/mergeable.json

# 1. Deeply nested JSON: refused while parsing, the value quoted in at most ~80 characters.
deep=$(/usr/bin/python3 -c 'print("["*60000+"]"*60000)')
run "$BIN" validate "$MERG" --set "description=$deep"
check "--set with 60000 nested lists: exit 2, one short line" '[ "$rc" = 2 ] && one_line && short_line'
check "--set deep: says how deep is allowed" 'grep -q "nested deeper than 64 levels" "$T/err"'
/usr/bin/python3 -c '
import sys
n = 100000
sys.stdout.write("{\"name\": \"deep\", \"ring\": {\"size\": " + "["*n + "]"*n + "}}")' >"$T/deep.json"
run "$BIN" validate "$T/deep.json"
check "a file with 100000 levels under ring.size: exit 2, one short line" '[ "$rc" = 2 ] && one_line && short_line'
check "a deep file: names the file and the pointer" 'grep -q "^$T/deep.json: /ring/size" "$T/err"'
cat >"$T/base.json" <<'J'
{"name": "b", "stop": {"time_s": 0.01}, "measure": {"warmup_s": 0.002}}
J
/usr/bin/python3 -c '
import sys
n = 100000
sys.stdout.write("{\"name\": \"s\", \"base\": \"base.json\", \"axes\": [{\"key\": \"ring.size\", \"values\": [" + "["*n + "]"*n + "]}]}")' >"$T/deepsweep.json"
run "$BIN" sweep "$T/deepsweep.json" --dry-run
check "a sweep axis value 100000 levels deep: exit 2, one short line" '[ "$rc" = 2 ] && one_line && short_line'
big=$(head -c 100000 /dev/zero | tr '\0' a)
run "$BIN" validate "$MERG" --set "policy.name=$big"
check "a 100 kB policy.name: exit 2, one short line" '[ "$rc" = 2 ] && one_line && short_line'
check "a long value is quoted with its size" 'grep -q "(100000 bytes)" "$T/err"'
run "$BIN" validate "$MERG" --set "ring.${big}=1"
check "a 100 kB unknown key: refused at once, one short line" '[ "$rc" = 2 ] && one_line && short_line'

# 3. A grid of 10^9 points is counted, not expanded.
/usr/bin/python3 -c '
import json
vals = list(range(1, 1001))
print(json.dumps({"name": "huge", "base": "base.json", "axes": [
  {"key": "traffic.rate_gbps", "values": vals}, {"key": "seed", "values": vals}, {"key": "stop.packets", "values": vals}]}))' >"$T/huge.json"
sed -i 's/"seed"/"guest.napi_budget"/' "$T/huge.json"
run "$BIN" sweep "$T/huge.json" --dry-run
check "a 10^9-point grid: exit 2 within the limits, naming the count" '[ "$rc" = 2 ] && one_line && grep -q "1000000000 points" "$T/err"'

# 4. Special files are refused, never read forever.
run "$BIN" run /dev/zero
check "run /dev/zero: exit 2, not a regular file" '[ "$rc" = 2 ] && one_line && grep -q "^/dev/zero: /: is not a regular file" "$T/err"'
run "$BIN" validate /dev/null
check "validate /dev/null: exit 2" '[ "$rc" = 2 ] && one_line'
run "$BIN" trace-info /dev/zero
check "trace-info /dev/zero: exit 2, not a regular file" '[ "$rc" = 2 ] && one_line && grep -q "not a regular file" "$T/err"'
# /proc/self/mem is a "regular file" of size 0 whose reads fail: say why,
# not "invalid JSON" (the message once was "unexpected end of input").
run "$BIN" validate /proc/self/mem
check "/proc/self/mem: exit 2, the read error named" '[ "$rc" = 2 ] && one_line && grep -q "^/proc/self/mem: /: cannot read file: Input/output error$" "$T/err"'
mkfifo "$T/fifo.json"
run "$BIN" validate "$T/fifo.json"
check "a FIFO as scenario: exit 2 without blocking" '[ "$rc" = 2 ] && one_line && grep -q "not a regular file" "$T/err"'
run "$BIN" trace-info "$T/fifo.json"
check "a FIFO as trace: exit 2 without blocking" '[ "$rc" = 2 ] && one_line'
run "$BIN" validate "$T"
check "a directory as scenario: exit 2, says it is a directory" '[ "$rc" = 2 ] && one_line && grep -q "is a directory" "$T/err"'
head -c 20000000 /dev/zero | tr '\0' ' ' >"$T/huge-file.json"
run "$BIN" validate "$T/huge-file.json"
check "a 20 MB scenario file: exit 2, names the size limit" '[ "$rc" = 2 ] && one_line && grep -q "larger than" "$T/err"'

# 5. --set seed on a sweep would give every replication one seed.
cat >"$T/sw.json" <<'J'
{"name": "s", "base": "base.json", "axes": [{"key": "ring.size", "values": [256, 512]}], "replications": 2}
J
run "$BIN" sweep "$T/sw.json" --dry-run --set seed=5
check "sweep --set seed: exit 2" '[ "$rc" = 2 ] && one_line && grep -q "seed" "$T/err"'
run "$BIN" sweep "$T/sw.json" --dry-run --seed 5
check "sweep --seed: exit 2" '[ "$rc" = 2 ] && one_line'

# A sweep killed with SIGKILL leaves FILE.tmp.PID temporaries: a resume removes
# those of processes that are gone (and only those).
"$BIN" sweep "$T/sw.json" --out "$T/stale" >/dev/null 2>&1
echo partial >"$T/stale/results.csv.tmp.999999999"
echo partial >"$T/stale/sweep.json.tmp.999999998"
echo mine >"$T/stale/results.csv.tmp.$$"
run "$BIN" sweep "$T/sw.json" --out "$T/stale"
check "a resumed sweep removes stale temporaries of dead processes" '[ "$rc" = 0 ] && [ ! -e "$T/stale/results.csv.tmp.999999999" ] && [ ! -e "$T/stale/sweep.json.tmp.999999998" ]'
check "a resumed sweep leaves a live process's temporaries" '[ -e "$T/stale/results.csv.tmp.$$" ]'

# 6. merge checks every input before writing anything.
"$BIN" sweep "$T/sw.json" --out "$T/s1" --shard 1/2 >/dev/null 2>&1
"$BIN" sweep "$T/sw.json" --out "$T/s2" --shard 2/2 >/dev/null 2>&1
run "$BIN" merge "$T/s1" "$T/s2" --out "$T/m-ok"
check "merge of both shards: exit 0" '[ "$rc" = 0 ] && [ "$(wc -l <"$T/m-ok/results.csv")" = 5 ]'
cp -r "$T/s1" "$T/s1-missing"
rm "$(find "$T/s1-missing/points" -name summary.json | sort | head -1)"
run "$BIN" merge "$T/s1-missing" "$T/s2" --out "$T/m1"
check "merge with a summary.json missing: exit 2, nothing written" '[ "$rc" = 2 ] && one_line && [ ! -e "$T/m1" ]'
check "merge with a summary.json missing: names it" 'grep -q "s1-missing/points/.*summary.json" "$T/err"'
cp -r "$T/s2" "$T/s2-corrupt"
f=$(find "$T/s2-corrupt/points" -name summary.json | sort | tail -1)
echo '{"throughput": ' >"$f"
run "$BIN" merge "$T/s1" "$T/s2-corrupt" --out "$T/m2"
check "merge with a corrupt summary.json: exit 2, nothing written" '[ "$rc" = 2 ] && one_line && [ ! -e "$T/m2" ]'
check "merge with a corrupt summary.json: names the input" 'grep -q "^$f: " "$T/err"'
run "$BIN" merge "$T/s1" --out "$T/m-half"
check "merge of shard 1 of 2: exit 2 naming the missing shard, nothing written" '[ "$rc" = 2 ] && one_line && grep -q "shard 2/2 missing" "$T/err" && [ ! -e "$T/m-half" ]'
run "$BIN" merge "$T/s1" --out "$T/m-partial" --partial
check "merge --partial of shard 1 of 2: exit 0, says PARTIAL" '[ "$rc" = 0 ] && grep -q "PARTIAL" "$T/err"'
check "merge --partial: sweep.json and aggregate.csv are marked" '/usr/bin/python3 -c "import json,sys; j=json.load(open(sys.argv[1])); assert j[\"partial\"] is True and j[\"missing_shards\"] == [\"2/2\"]" "$T/m-partial/sweep.json" && head -1 "$T/m-partial/aggregate.csv" | grep -q ",partial$" && [ "$(wc -l <"$T/m-partial/results.csv")" = 3 ]'
cp -r "$T/s1" "$T/s1-longid"
/usr/bin/python3 -c '
import json, sys
f = sys.argv[1]; j = json.load(open(f)); j["points"][0]["id"] = "p" + "a" * 300; json.dump(j, open(f, "w"))' "$T/s1-longid/sweep.json"
run "$BIN" merge "$T/s1-longid" "$T/s2" --out "$T/m-longid"
check "merge of a sweep.json with a 301-character point id: exit 2, one short line, nothing written" '[ "$rc" = 2 ] && one_line && short_line && grep -q "/points/0/id: .* is not a point id" "$T/err" && [ ! -e "$T/m-longid" ]'
mkdir -p "$T/s3"
echo '{"name":"x"}' >"$T/s3/sweep.json"
run "$BIN" merge "$T/s3" --out "$T/m3"
check "merge of a sweep.json without points: exit 2, one line" '[ "$rc" = 2 ] && one_line && [ ! -e "$T/m3" ]'
check "merge of a bad sweep.json: names it" 'grep -q "^$T/s3/sweep.json: " "$T/err"'

# Numbers on the command line: decimal only, range-checked, quoted as given.
for args in "--seed 0x10" "--seed -1" "--seed 18446744073709551616" "--seed 1e3" "--trace-limit -1" "--trace-limit 10abc"; do
  run "$BIN" run "$MERG" $args --set stop.time_s=0.01 --set measure.warmup_s=0.001
  check "run $args: exit 2, one line quoting the text" '[ "$rc" = 2 ] && one_line && grep -q -- "${args#* }: expected a decimal integer" "$T/err" && [ ! -s "$T/out" ]'
done
run "$BIN" run "$MERG" --seed "" --set stop.time_s=0.01 --set measure.warmup_s=0.001
check "run --seed \"\": exit 2" '[ "$rc" = 2 ] && one_line && grep -q "expected a decimal integer" "$T/err"'
run "$BIN" run "$MERG" --seed 7 --set stop.time_s=0.01 --set measure.warmup_s=0.001 --out "$T/seed7"
check "run --seed 7: runs with seed 7" '[ "$rc" = 0 ] && grep -q "\"seed\": 7" "$T/seed7/2008-mergeable/summary.json"'
run "$BIN" validate "$MERG" --set ring.size=18446744073709551615
check "ring.size 2^64-1: reported as written, not as -1" '[ "$rc" = 2 ] && grep -q "/ring/size: 18446744073709551615 is out of range" "$T/err"'
run "$BIN" validate "$MERG" --set seed=9223372036854775808
check "seed 2^63: reported as written" '[ "$rc" = 2 ] && grep -q "/seed: 9223372036854775808 is out of range" "$T/err"'
run "$BIN" sweep "$T/sw.json" --dry-run --jobs 0
check "sweep --jobs 0: exit 2" '[ "$rc" = 2 ] && one_line && grep -q "^--jobs 0: expected a decimal integer in 1..4096" "$T/err"'

run "$BIN" run "$MERG" --out ""
check "run --out \"\": exit 2, not a silent success" '[ "$rc" = 2 ] && one_line && [ ! -s "$T/out" ]'
printf '\xef\xbb\xbftime_s,len_bytes\n0.0,1514\n0.001,1514\n' >"$T/bom.csv"
run "$BIN" trace-info "$T/bom.csv"
check "a CSV trace with a byte-order mark: time_s is found" '[ "$rc" = 0 ] && grep -q "csv (len_bytes, time_s)" "$T/out"'

touch "$T/regular-file"
run "$BIN" plot "$T/seed7" --out "$T/regular-file/fig"
check "plot --out under a regular file: exit 2, one line" '[ "$rc" = 2 ] && one_line && grep -q "is not a directory" "$T/err"'
run "$BIN" plot "$T/no-such-dir" --out "$T/figs"
check "plot of a missing input: exit 2, one line" '[ "$rc" = 2 ] && one_line && grep -q "does not exist" "$T/err"'

# validate checks sweep and calibration files as what they are (it refused sweeps).
run "$BIN" validate "$SRC/scenarios/sweeps/ci.json" "$SRC/scenarios/calibration/2008-netperf.json" "$MERG"
check "validate a sweep, a calibration file and a scenario: exit 0, a line each" '[ "$rc" = 0 ] && grep -q "ci.json: ok (sweep ci, 8 points x 2 replications = 16 runs)" "$T/out" && grep -q "2008-netperf.json: ok (calibration, 2 parameters, 2 points)" "$T/out" && [ "$(wc -l <"$T/out")" = 3 ]'
run "$BIN" validate "$SRC/tests/bad-inputs/sweep-unknown-axis.json"
check "validate a bad sweep: exit 2 naming its pointer" '[ "$rc" = 2 ] && one_line && grep -q "/axes/0/key: unknown key path" "$T/err"'

# --jobs defaults to the CPUs granted: a Slurm task's, else the affinity mask.
SLURM_CPUS_PER_TASK=3 "$BIN" sweep "$T/sw.json" --dry-run >"$T/out" 2>"$T/err"
rc=$?
check "sweep under Slurm: --jobs defaults to SLURM_CPUS_PER_TASK" '[ "$rc" = 0 ] && grep -q "^jobs: 3 (from SLURM_CPUS_PER_TASK)$" "$T/out"'
if command -v taskset >/dev/null; then
  env -u SLURM_CPUS_PER_TASK taskset -c 0 "$BIN" sweep "$T/sw.json" --dry-run >"$T/out" 2>"$T/err"
  rc=$?
  check "sweep under taskset -c 0: --jobs defaults to the 1 CPU granted" '[ "$rc" = 0 ] && grep -q "^jobs: 1 (from the CPU affinity mask)$" "$T/out"'
fi
run "$BIN" sweep "$T/sw.json" --dry-run --jobs 5
check "sweep --jobs 5: said" '[ "$rc" = 0 ] && grep -q "^jobs: 5 (from --jobs)$" "$T/out"'


# scripts/sweep-sharded.sh keeps the caller's relative paths and forwards arguments.
mkdir -p "$T/callerdir" && cp "$T/sw.json" "$T/base.json" "$T/callerdir/"
(cd "$T/callerdir" && VRINGSIM="$BIN" bash "$SRC/scripts/sweep-sharded.sh" run sw.json out 1 2 --jobs 1 && \
   VRINGSIM="$BIN" bash "$SRC/scripts/sweep-sharded.sh" run sw.json out 2 2 --jobs 1 && \
   VRINGSIM="$BIN" bash "$SRC/scripts/sweep-sharded.sh" merge out) >"$T/out" 2>"$T/err"
rc=$?
check "sweep-sharded.sh from another directory: relative paths land there, merge complete" '[ "$rc" = 0 ] && [ "$(wc -l <"$T/callerdir/out/merged/results.csv")" = 5 ] && [ ! -e "$SRC/out/shard-1" ]'

run "$BIN" validate "$MERG" --set policy.name=mergable
check "policy.name=mergable: suggests mergeable" '[ "$rc" = 2 ] && one_line && grep -q "(did you mean mergeable?)" "$T/err"'

# Nonsense accepted, now said: keys the arrival process ignores, a rate above the link.
run "$BIN" validate "$MERG" --set traffic.arrival=constant --set traffic.rate_gbps=50
check "rate_gbps above the link: a warning, exit 0" '[ "$rc" = 0 ] && grep -q "/traffic/rate_gbps: warning: 50 Gb/s is above traffic.link_gbps (10 Gb/s)" "$T/err"'
run "$BIN" validate "$MERG" --set traffic.speed=2
check "traffic.speed without trace arrivals: a warning" '[ "$rc" = 0 ] && grep -q "/traffic/speed: warning: ignored with traffic.arrival \"line-rate\" (only trace arrivals use it)" "$T/err"'
run "$BIN" validate "$MERG" --set traffic.arrival=poisson --set traffic.burst_frames=8
check "burst_frames with Poisson arrivals: a warning" '[ "$rc" = 0 ] && grep -q "/traffic/burst_frames: warning: ignored" "$T/err"'

# Trust (issue 14, item 1): a run that measures nothing says so.
printf 'time_s,len_bytes\n0.000,1514\n0.001,1514\n0.002,1514\n' >"$T/short.csv"
cat >"$T/short.json" <<'J'
{"name": "short", "stop": {"time_s": 1}, "measure": {"warmup_s": 0.1},
 "traffic": {"kind": "csv", "arrival": "trace", "csv": {"file": "short.csv"}}}
J
run "$BIN" run "$T/short.json" --out "$T/short-out"
check "a trace that ends before the warm-up: warns on stderr, one line naming the run" '[ "$rc" = 0 ] && one_line && grep -q "^vringsim: short: warning: nothing measured" "$T/err"'
check "nothing measured: the warning says what to change" 'grep -q "measure.warmup_s" "$T/err"'
check "nothing measured: summary.json measure.valid is false" '/usr/bin/python3 -c "import json,sys; m=json.load(open(sys.argv[1]))[\"measure\"]; assert m[\"valid\"] is False and m[\"window_s\"] == 0" "$T/short-out/short/summary.json"'
check "nothing measured: the table marks the row" 'grep -q "^short \*" "$T/out" && grep -q "^\* nothing measured" "$T/out"'
printf 'time_s,len_bytes\n0.0,60\n0.5,60\n1.0,60\n1.5,60\n' >"$T/slow.csv"
cat >"$T/slow.json" <<'J'
{"name": "slow", "stop": {"time_s": 2}, "measure": {"warmup_s": 0.1},
 "traffic": {"kind": "csv", "arrival": "trace", "csv": {"file": "slow.csv"}}}
J
run "$BIN" run "$T/slow.json"
check "a low-rate capture: the table shows its Gb/s, not 0.000, and no steady-state false alarm" '[ "$rc" = 0 ] && grep -qE "^slow +mergeable .* 1.03e-06 " "$T/out" && [ ! -s "$T/err" ]'
run "$BIN" run "$T/short.json" --set measure.warmup_s=0.0005
check "a warm-up inside the trace: no warning" '[ "$rc" = 0 ] && [ ! -s "$T/err" ]'

# Trust (issue 14, item 3): runs.csv lists every run folder in DIR, whichever call made it.
"$BIN" run "$SRC/scenarios/seed-2008/mergeable.json" --set stop.time_s=0.02 --set measure.warmup_s=0.005 --out "$T/many" >/dev/null 2>&1
"$BIN" run "$SRC/scenarios/seed-2008/max-buffer.json" --set stop.time_s=0.02 --set measure.warmup_s=0.005 --out "$T/many" >/dev/null 2>&1
run "$BIN" run "$SRC/scenarios/seed-2008/small.json" --set stop.time_s=0.02 --set measure.warmup_s=0.005 --out "$T/many"
check "three run calls into one DIR: runs.csv has a row for each run folder" '[ "$rc" = 0 ] && [ "$(wc -l <"$T/many/runs.csv")" = 4 ] && [ "$(ls -d "$T"/many/*/ | wc -l)" = 3 ]'
check "runs.csv rows are the runs by name" '[ "$(/usr/bin/python3 -c "import csv,sys; print(\" \".join(r[\"policy.name\"] for r in csv.DictReader(open(sys.argv[1]))))" "$T/many/runs.csv")" = "max-buffer mergeable small" ]'

# Trust (issue 14, "Smaller"): frames shorter than the Ethernet minimum (60
# bytes without FCS) warn once, naming the file and how many; the run goes on.
printf 'time_s,len_bytes\n0.000001,42\n0.000002,1514\n0.000003,42\n0.000004,60\n' >"$T/runts.csv"
cat >"$T/runts.json" <<J
{"name": "runts", "stop": {"time_s": 0.001}, "measure": {"warmup_s": 0},
 "traffic": {"kind": "csv", "arrival": "trace", "csv": {"file": "runts.csv"}}}
J
run "$BIN" run "$T/runts.json"
check "frames under 60 bytes: one warning with the count, exit 0" '[ "$rc" = 0 ] && [ "$(grep -c "shorter than 60 bytes" "$T/err")" = 1 ] && grep -q "runts.csv: warning: 2 frames shorter than 60 bytes" "$T/err"'
/usr/bin/python3 - "$T/runts.pcap" <<'PY'
import struct, sys
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i, n in enumerate([42, 1514, 42, 42]):
        f.write(struct.pack("<IIII", 0, i + 1, n, n) + bytes(n))
PY
sed 's/"kind": "csv", "arrival": "trace", "csv": {"file": "runts.csv"}/"kind": "pcap", "arrival": "trace", "pcap": {"file": "runts.pcap"}/' "$T/runts.json" >"$T/runts-pcap.json"
run "$BIN" run "$T/runts-pcap.json"
check "a capture with runts: one warning with the count, exit 0" '[ "$rc" = 0 ] && [ "$(grep -c "shorter than 60 bytes" "$T/err")" = 1 ] && grep -q "runts.pcap: warning: 3 frames shorter than 60 bytes" "$T/err"'

# Hostile inputs (issue 16): an --out nobody can write is refused before
# anything runs, in our words, exit 2 like a regular file in the way; and
# the probe leaves nothing behind.
run "$BIN" run "$SRC/scenarios/seed-2008/small.json" --out /proc/vringsim-nope
check "--out where no directory can be made: exit 2, our one line" '[ "$rc" = 2 ] && one_line && grep -q "^/proc/vringsim-nope: --out: cannot write there" "$T/err" && ! grep -q "filesystem error" "$T/err"'
run "$BIN" sweep "$SRC/scenarios/sweeps/ci.json" --out /proc/vringsim-nope
check "sweep --out the same: exit 2, our one line" '[ "$rc" = 2 ] && one_line && grep -q "^/proc/vringsim-nope: --out: cannot write there" "$T/err"'
run "$BIN" run "$SRC/scenarios/seed-2008/small.json" --out "$T/probe/a/b" --set ring.size=300
check "a refused scenario leaves no --out directory behind" '[ "$rc" = 2 ] && [ ! -e "$T/probe" ]'

# fuzz_sweep (issue 35): a topology key whose segment is a number indexed a
# list by JSON pointer rules, and a list that was not there was made that
# long: --set topology.guests.99999999999=1 asked for 10^11 nulls
# (std::bad_alloc, exit 1). An index past a list's end is refused.
run "$BIN" validate "$SRC/scenarios/seed-2008/small.json" --set topology.guests.99999999999=1
check "--set a topology key through a list index far past its end: exit 2, one line" '[ "$rc" = 2 ] && one_line && grep -q "^--set topology.guests.99999999999=1: /topology/guests/99999999999: cannot set it: index 99999999999 is past the end of the list there (0 elements)$" "$T/err"'
run "$BIN" validate "$SRC/scenarios/seed-2008/small.json" --set topology.guests.vm.queues.0=1
check "--set index 0 of a new list still makes the list (parse_topology judges it)" '[ "$rc" = 2 ] && one_line && ! grep -q "past the end" "$T/err"'

echo "$pass passed, $fails failed"
[ "$fails" = 0 ]
