#!/usr/bin/env bash
# The command line end to end: exit codes, outputs, errors (CONTRACT.md).
# Usage: cli_test.sh VRINGSIM SOURCE_DIR FAIL_FSYNC_SHIM
set -u
BIN=$1
SRC=$2
SHIM=$3
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

cat >"$T/a.json" <<'J'
{"name": "a", "stop": {"time_s": 0.02}, "measure": {"warmup_s": 0.005}, "policy": {"name": "max-buffer"}}
J
cat >"$T/b.json" <<'J'
{"name": "b", "stop": {"time_s": 0.02}, "measure": {"warmup_s": 0.005}}
J
cat >"$T/dup.json" <<'J'
{"name": "a", "stop": {"time_s": 0.02}, "measure": {"warmup_s": 0.005}}
J
cat >"$T/bad.json" <<'J'
{"name": "bad", "ring": {"size": 300}}
J

run "$BIN" --version
check "--version" [ "$rc" = 0 -a "$out" = "vringsim 0.1.0" ]
# The engine (SimGrid) is a module beside the executable, loaded only to
# simulate: without it the commands that do not simulate still work, and
# those that do fail with one line before writing anything.
mkdir -p "$T/lonely"
cp "$BIN" "$T/lonely/vringsim"
run "$T/lonely/vringsim" --version
check "--version needs no engine" [ "$rc" = 0 -a "$out" = "vringsim 0.1.0" ]
run "$T/lonely/vringsim" validate "$T/a.json"
check "validate needs no engine" [ "$rc" = 0 ]
run "$T/lonely/vringsim" run "$T/a.json" --out "$T/lonely/out"
check "run without the engine: exit 1, one line naming the module, nothing written" \
  [ "$rc" = 1 -a "$(wc -l <"$T/err")" = 1 -a ! -e "$T/lonely/out" ]
check "run without the engine names the module" grep -q "cannot load the simulation engine: .*libvringsim_engine.so" "$T/err"
run "$T/lonely/vringsim" sweep "$SRC/scenarios/sweeps/ci.json" --out "$T/lonely/sweep"
check "sweep without the engine: exit 1, nothing written" [ "$rc" = 1 -a ! -e "$T/lonely/sweep" ]
run "$BIN" --help
check "--help exits 0 and lists run" [ "$rc" = 0 ]
check "--help lists subcommands" grep -q "validate" "$T/out"
run "$BIN"
check "no subcommand is usage error 2" [ "$rc" = 2 ]
run "$BIN" run
check "run without files is usage error 2" [ "$rc" = 2 ]

run "$BIN" policies
check "policies: the 2008 six at least, one line each" [ "$rc" = 0 -a "$(wc -l <"$T/out")" -ge 6 ]
check "policies: every line names and describes one" [ -z "$(grep -vE '^[a-z0-9-]+ +[^ ].*' "$T/out")" ]
check "policies: max-buffer described" grep -q "^max-buffer " "$T/out"
run "$BIN" params
check "params lists ring.size with its source" grep -q "^ring.size .*docs/model.md §2" "$T/out"
check "params lists every cost (20 per-unit, the service distribution, the preset)" [ "$(grep -c '^costs\.' "$T/out")" = 22 ]
check "params lists the topology keys with their ranges" grep -qE "^topology.guests.<name>.queues +integer \[queues\] +1 +1..256" "$T/out"
check "params lists every topology key (9)" [ "$(grep -c '^topology\.' "$T/out")" = 9 ]
run "$BIN" params max-buffer
check "params POLICY shows its own keys" grep -q "policy.max-buffer.recycle_pages" "$T/out"
check "params POLICY hides other policies' keys" [ -z "$(grep 'policy.coalesced' "$T/out")" ]
run "$BIN" params nope
[ "$rc" = 2 ] && grep -q "valid: big-packets, coalesced" "$T/err"
check "params unknown policy: exit 2, lists valid" [ $? = 0 ]

run "$BIN" features
check "features: every feature the model knows, by its spec bit" grep -qE "^MRG_RXBUF +15 " "$T/out"
check "features: the packed ring runs, offered only when asked" grep -qE "^RING_PACKED +34 +VERSION_1 +the packed ring: .*not in host.features' default \(QEMU: packed=on\)$" "$T/out"
run "$BIN" profiles
check "profiles: both driver profiles, one line each" [ "$rc" = 0 -a "$(grep -cE '^linux-(2\.6\.26|6\.x) ' "$T/out")" = 2 ]
run "$BIN" params
check "params lists what linux-6.x sets, with a source" grep -q 'driver.profile "linux-6.x"' "$T/out"

run "$BIN" validate "$T/a.json" "$T/b.json"
check "validate good files" [ "$rc" = 0 -a "$(wc -l <"$T/out")" = 2 ]
run "$BIN" validate "$T/bad.json"
check "validate bad: exit 2, one line with file and pointer" [ "$rc" = 2 -a "$err" = "$T/bad.json: /ring/size: 300 is not a power of two (1..32768); a split ring needs one, RING_PACKED takes any size" ]
run "$BIN" validate "$T/missing.json"
check "missing file" [ "$rc" = 2 -a "$err" = "$T/missing.json: /: cannot open file" ]

run "$BIN" run "$T/a.json" "$T/b.json" --out "$T/o1"
check "run: exit 0" [ "$rc" = 0 ]
check "run: table has a header, two rows and the caption naming the scopes" [ "$(wc -l <"$T/out")" = 4 ]
check "run: table names policies" grep -q "max-buffer" "$T/out"
for f in a/summary.json a/timeseries.csv b/summary.json b/timeseries.csv runs.csv; do
  check "run: wrote $f" [ -s "$T/o1/$f" ]
done
check "timeseries columns" [ "$(head -1 "$T/o1/a/timeseries.csv")" = "time_s,free_descriptors,posted_bytes,tap_queue_packets,delivered_packets,dropped_packets,arrived_packets,avail_chains" ]
check "timeseries has 20 rows" [ "$(wc -l <"$T/o1/a/timeseries.csv")" = 21 ]
check "runs.csv: header + 2 rows" [ "$(wc -l <"$T/o1/runs.csv")" = 3 ]
check "runs.csv: dotted contract columns" grep -q "ring.size" "$T/o1/runs.csv"
check "runs.csv: throughput column" grep -q "throughput.delivered_gbps" "$T/o1/runs.csv"
check "no temporary files left" [ -z "$(find "$T/o1" -name '*.tmp.*')" ]
check "summary has provenance" grep -q '"scenario_sha256"' "$T/o1/a/summary.json"

# Determinism end to end: same scenario, same seed, same bytes.
run "$BIN" run "$T/a.json" "$T/b.json" --out "$T/o2"
for f in a/summary.json a/timeseries.csv b/summary.json runs.csv; do
  check "deterministic $f" cmp -s "$T/o1/$f" "$T/o2/$f"
done
run "$BIN" run "$T/a.json" --seed 7 --out "$T/o3"
check "--seed changes the seed" grep -q '"seed": 7' "$T/o3/a/summary.json"

# Provenance says which costs were fitted and which are estimates, and
# which the run changed.
cost_origin() {  # cost_origin FILE KEY -> its origin
  /usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["provenance"]["costs"][sys.argv[2]]["origin"])' "$1" "$2"
}
check "provenance: a calibrated cost" [ "$(cost_origin "$T/o1/a/summary.json" costs.guest.per_packet_ns)" = calibrated ]
check "provenance: an estimated cost" [ "$(cost_origin "$T/o1/a/summary.json" costs.host.per_packet_ns)" = estimate ]
check "provenance: a cost from the 2008 lguest commit" [ "$(cost_origin "$T/o1/a/summary.json" costs.guest.per_page_free_ns)" = lguest-2008 ]
run "$BIN" run "$T/a.json" --out "$T/o6" --set costs.guest.per_packet_ns=4000
check "provenance: a cost the run set is given" [ "$(cost_origin "$T/o6/a/summary.json" costs.guest.per_packet_ns)" = given ]

# sensitivity: bad arguments are one line, exit 2.
run "$BIN" sensitivity "$T/a.json" --params costs.guest.per_pakcet_ns
check "sensitivity unknown cost: exit 2, named" [ "$rc" = 2 ] && grep -q '"costs.guest.per_pakcet_ns" is not a cost parameter' "$T/err"
run "$BIN" sensitivity "$T/a.json" --rel 2
check "sensitivity --rel out of range: exit 2" [ "$rc" = 2 ] && grep -q -- "--rel 2: expected a share in (0, 0.9]" "$T/err"

# diff: figure by figure; exit 1 when one moved beyond --tolerance or a run
# is on one side only, 2 for a directory that is not there.
run "$BIN" diff "$T/o1" "$T/o2"
check "diff identical runs: exit 0" [ "$rc" = 0 ] && check "diff identical runs: says so" grep -q "compared 2 runs, .* figures: 0 moved by more than 0 (relative)$" "$T/out"
run "$BIN" run "$T/a.json" "$T/b.json" --out "$T/d4" --set traffic.arrival=poisson --set traffic.rate_gbps=1
run "$BIN" run "$T/a.json" "$T/b.json" --out "$T/d5" --set traffic.arrival=poisson --set traffic.rate_gbps=1 --seed 9
run "$BIN" diff "$T/d4" "$T/d5"
check "diff another seed: exit 1" [ "$rc" = 1 ]
check "diff another seed: names a figure that moved, with its change" grep -qE "^a +packets\.arrived +[0-9]+ +[0-9]+ +[-+][0-9.]+%$" "$T/out"
check "diff another seed: the seed is a configuration difference" grep -qE "^a +config\.seed +1 +9$" "$T/out"
# The change is relative to A, unbounded (issue 30): ring.knee_* moves by
# +5872% and packets.in_flight from 0, beyond 2 (the old max(|A|,|B|)
# measure capped every change at 1, so --tolerance 2 passed anything).
run "$BIN" diff "$T/d4" "$T/d5" --tolerance 2
check "diff beyond --tolerance 2: exit 1" [ "$rc" = 1 ]
run "$BIN" diff "$T/d4" "$T/d5" --tolerance 2 --only throughput --only latency_us --only drops
check "diff within --tolerance: exit 0" [ "$rc" = 0 ]
run "$BIN" diff "$T/o1" "$T/o3"
check "diff a run on one side only: exit 1" [ "$rc" = 1 ] && check "diff: names it" grep -q "^run b (only in A)$" "$T/out"
run "$BIN" diff "$T/o1" "$T/nothing"
check "diff missing directory: exit 2, one line" [ "$rc" = 2 -a "$(wc -l <"$T/err")" = 1 ] && grep -q "nothing: B: not a directory" "$T/err"

# Bad input: exit 2, nothing run, nothing written, earlier results intact.
before=$(cat "$T/o1/a/summary.json" "$T/o1/runs.csv" | md5sum)
run "$BIN" run "$T/a.json" "$T/bad.json" --out "$T/o1"
check "bad file among good: exit 2" [ "$rc" = 2 ]
check "bad file: stdout empty (nothing ran)" [ -z "$out" ]
check "bad file: results intact" [ "$(cat "$T/o1/a/summary.json" "$T/o1/runs.csv" | md5sum)" = "$before" ]
run "$BIN" run "$T/a.json" "$T/dup.json" --out "$T/o4"
check "duplicate names: exit 2, nothing written" [ "$rc" = 2 -a ! -e "$T/o4" ]
check "duplicate names: message names both" grep -q "is also the name of" "$T/err"
touch "$T/file"
run "$BIN" run "$T/a.json" --out "$T/file"
check "--out is a file: exit 2" [ "$rc" = 2 ]
run "$BIN" run "$T/a.json" --out "$T/file/sub"
[ "$rc" = 2 -a -z "$out" ] && grep -q "is not a directory" "$T/err"
check "--out under a file: exit 2 before running" [ $? = 0 ]
run "$BIN" run "$T/a.json" --trace "$T/file/trace.csv"
check "--trace under a file: exit 2 before running" [ "$rc" = 2 -a -z "$out" ]
run "$BIN" run "$T/a.json" --set ring.siz=4
check "--set unknown key: exit 2 with suggestion" [ "$rc" = 2 -a "$err" = "--set ring.siz=4: /ring/siz: unknown key (did you mean ring.size?)" ]
run "$BIN" run "$T/a.json" --set policy.name=huge
check "--set unknown policy: exit 2" [ "$rc" = 2 ]
printf '{"name": "x",\n "ring": }' >"$T/broken.json"
run "$BIN" run "$T/broken.json"
[ "$rc" = 2 ] && grep -q "broken.json: /: invalid JSON: parse error at line 2" "$T/err"
check "malformed JSON: line and column" [ $? = 0 ]

# A write that fails midway (the 4th fsync: b's summary.json, after a's two
# files and runs.csv): clear error, exit
# non-zero, the files written before intact, nothing half-written.
ASAN_OPTIONS=verify_asan_link_order=0 LD_PRELOAD="$SHIM" FAIL_FSYNC_AFTER=3 \
  "$BIN" run "$T/a.json" "$T/b.json" --out "$T/wf" >"$T/out" 2>"$T/err"
rc=$?
check "failed write: exit 1" [ "$rc" = 1 ]
check "failed write: the message names the file" grep -q "$T/wf/b/summary.json: write failed: Input/output error" "$T/err"
check "failed write: earlier results intact" cmp -s "$T/wf/a/summary.json" "$T/o1/a/summary.json"
check "failed write: earlier time series intact" cmp -s "$T/wf/a/timeseries.csv" "$T/o1/a/timeseries.csv"
check "failed write: nothing half-written" [ ! -e "$T/wf/b/summary.json" -a -z "$(find "$T/wf" -name '*.tmp.*')" ]

# Whichever write fails (the N-th fsync, N = 0..6), a run's files appear
# together or not at all: every run folder holds summary.json and
# timeseries.csv, runs.csv lists exactly the folders there, nothing hidden
# or temporary is left, and the exit code says whether all landed.
for n in 0 1 2 3 4 5 6; do
  rm -rf "$T/wa"
  ASAN_OPTIONS=verify_asan_link_order=0 LD_PRELOAD="$SHIM" FAIL_FSYNC_AFTER=$n \
    "$BIN" run "$T/a.json" "$T/b.json" --out "$T/wa" >"$T/out" 2>"$T/err"
  rc=$?
  folders=$(cd "$T/wa" 2>/dev/null && find . -mindepth 1 -maxdepth 1 | sed 's|^\./||' | sort | tr '\n' ' ')
  whole=yes
  for d in $folders; do
    [ -d "$T/wa/$d" ] || continue
    [ -s "$T/wa/$d/summary.json" ] && [ -s "$T/wa/$d/timeseries.csv" ] || whole=no
  done
  listed=$( [ -e "$T/wa/runs.csv" ] && /usr/bin/python3 -c "import csv,sys; print(' '.join(sorted(r['config.name'] for r in csv.DictReader(open(sys.argv[1])))))" "$T/wa/runs.csv")
  dirs=$(cd "$T/wa" 2>/dev/null && find . -mindepth 1 -maxdepth 1 -type d | sed 's|^\./||' | sort | tr '\n' ' ' | sed 's/ $//')
  check "fsync $n fails: every run folder whole ($folders)" [ "$whole" = yes ]
  check "fsync $n fails: runs.csv lists exactly the folders ('$listed' vs '$dirs')" [ "$listed" = "$dirs" ]
  check "fsync $n fails: no hidden or temporary file left" [ -z "$(find "$T/wa" -name '.*' -o -name '*.tmp.*' 2>/dev/null)" ]
  [ "$dirs" = "a b" ] && [ "$rc" = 0 ] || { [ "$dirs" != "a b" ] && [ "$rc" = 1 ]; }
  check "fsync $n fails: exit $rc matches what landed ($dirs)" [ $? = 0 ]
done

# A --trace file that cannot be written is an output failure (exit 1), not a
# broken invariant (it exited 3).
ASAN_OPTIONS=verify_asan_link_order=0 LD_PRELOAD="$SHIM" FAIL_FSYNC_AFTER=0 \
  "$BIN" run "$T/a.json" --trace "$T/wf-trace.csv" >"$T/out" 2>"$T/err"
rc=$?
check "failed --trace write: exit 1" [ "$rc" = 1 ]
check "failed --trace write: names the file, nothing half-written" grep -q "wf-trace.csv: write failed" "$T/err"
check "failed --trace write: no file left" [ ! -e "$T/wf-trace.csv" -a -z "$(find "$T" -maxdepth 1 -name 'wf-trace.csv.tmp.*')" ]

# timeseries.csv streams into --out as a hidden temporary and moves into the
# run's folder at the end; one left by a killed run (its process gone) is
# removed by the next run of that name, one of a live process is not.
mkdir -p "$T/st"
( : ) & dead=$!
wait "$dead"
touch "$T/st/.a.timeseries.csv.tmp.$dead" "$T/st/.a.timeseries.csv.tmp.$$"
run "$BIN" run "$T/a.json" --out "$T/st"
check "streamed time series: the same file" cmp -s "$T/st/a/timeseries.csv" "$T/o1/a/timeseries.csv"
check "streamed time series: a dead run's temporary removed, a live one's kept" \
  [ ! -e "$T/st/.a.timeseries.csv.tmp.$dead" -a -e "$T/st/.a.timeseries.csv.tmp.$$" ]

# --trace: per-event CSV, bounded.
run "$BIN" run "$T/a.json" --trace "$T/trace.csv" --trace-limit 50
check "trace: header" [ "$(head -1 "$T/trace.csv")" = "time_s,actor,event,packet,head,count,len,bytes,detail" ]
[ "$(grep -vc '^#' "$T/trace.csv")" = 51 ] && grep -q "more events not written" "$T/trace.csv"
check "trace: 50 rows and a note" [ $? = 0 ]

# trace-info on the shipped captures (pcap from tcpdump, pcapng from dumpcap)
run "$BIN" trace-info "$SRC/scenarios/traffic/data/loopback-tcp.pcap"
check "trace-info pcap: exit 0" [ "$rc" = 0 ]
check "trace-info pcap: packet count" grep -qE "^packets +5022$" "$T/out"
check "trace-info pcap: format" grep -q "pcap (little-endian, microsecond)" "$T/out"
check "trace-info pcap: length distribution" grep -qE "^len_bytes.p99 +65549$" "$T/out"
run "$BIN" trace-info "$SRC/scenarios/traffic/data/loopback-tcp.pcapng" --json
[ "$rc" = 0 ] && grep -q '"format": "pcapng"' "$T/out"
check "trace-info pcapng --json" [ $? = 0 ]
run "$BIN" trace-info "$T/a.json"
[ "$rc" = 2 ] && grep -q "not a trace any traffic kind reads" "$T/err"
check "trace-info on a non-trace: exit 2" [ $? = 0 ]
head -c 2000 "$SRC/scenarios/traffic/data/loopback-tcp.pcap" > "$T/cut.pcap"
run "$BIN" trace-info "$T/cut.pcap"
[ "$rc" = 2 ] && grep -q "cut.pcap: packet .*: damaged record" "$T/err"
check "trace-info on a truncated capture: exit 2 naming the packet" [ $? = 0 ]

# sweeps
cat >"$T/sw.json" <<'J'
{"name": "s", "base": "a.json", "axes": [{"key": "ring.size", "values": [256, 512]}, {"key": "traffic.rate_gbps", "values": [1, 2, 3]}]}
J
run "$BIN" sweep "$T/sw.json" --out "$T/file/sub"
[ "$rc" = 2 ] && grep -q "is not a directory" "$T/err"
check "sweep --out under a file: exit 2" [ $? = 0 ]
run "$BIN" sweep "$T/sw.json" --dry-run
check "sweep --dry-run lists 6 points" grep -q "^6 points x 1 replications = 6 runs$" "$T/out"
run "$BIN" sweep "$T/sw.json" --dry-run --shard 2/3
check "sweep --dry-run --shard 2/3" grep -q "^2 points x 1 replications = 2 runs (shard 2/3 of 6 points)$" "$T/out"
run "$BIN" sweep "$T/sw.json"
check "sweep without --out: exit 2" [ "$rc" = 2 ]
run "$BIN" sweep "$T/sw.json" --out "$T/swo" --shard 0/2
[ "$rc" = 2 ] && [ ! -e "$T/swo" ]
check "sweep --shard 0/2: exit 2" [ $? = 0 ]
cat >"$T/swbad.json" <<'J'
{"name": "s", "base": "a.json", "axes": [{"key": "ring.siz", "values": [256]}]}
J
run "$BIN" sweep "$T/swbad.json" --out "$T/swo"
[ "$rc" = 2 -a ! -e "$T/swo" ] && grep -q "/axes/0/key: unknown key path" "$T/err"
check "sweep with a bad axis: exit 2, nothing written" [ $? = 0 ]
run "$BIN" sweep "$T/sw.json" --out "$T/swo" --jobs 2
check "sweep: exit 0, 6 rows" [ "$rc" = 0 -a "$(wc -l <"$T/swo/results.csv")" = 7 ]
check "sweep: aggregate and sweep.json" [ -s "$T/swo/aggregate.csv" -a -s "$T/swo/sweep.json" ]
check "sweep: summary table with a row per point" [ "$(grep -cE '^p[0-9a-f]{12} ' "$T/out")" = 6 ]

# calibrate: a measurement no cost can reach does not converge: exit 1, the best point, nothing written
cat >"$T/cal.json" <<J
{"parameters": {"costs.guest.per_packet_ns": {"initial": 5200, "min": 1000, "max": 20000}},
 "points": [{"scenario": "$T/a.json", "measured": 50.0}], "max_iterations": 2}
J
run "$BIN" calibrate "$T/cal.json" --out "$T/cal/costs.json"
[ "$rc" = 1 -a ! -e "$T/cal/costs.json" ] && grep -q "DID NOT CONVERGE" "$T/out" && grep -q "best found" "$T/out"
check "calibrate that cannot converge: exit 1, says so, writes nothing" [ $? = 0 ]
cat >"$T/cal2.json" <<J
{"parameters": {"costs.guest.per_packet_ns": {"initial": 5200}},
 "points": [{"scenario": "$T/a.json", "measured": 1.2}]}
J
run "$BIN" calibrate "$T/cal2.json" --out "$T/cal/costs.json"
[ "$rc" = 0 -a -s "$T/cal/costs.json" ] && grep -q vringsim-cost-preset "$T/cal/costs.json"
check "calibrate: exit 0 and a cost preset" [ $? = 0 ]
cat >"$T/withpreset.json" <<J
{"name": "wp", "stop": {"time_s": 0.02}, "measure": {"warmup_s": 0.005}, "policy": {"name": "max-buffer"},
 "costs": {"preset": "cal/costs.json"}}
J
run "$BIN" run "$T/withpreset.json" --out "$T/wpo"
fitted=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['costs']['guest']['per_packet_ns'])" "$T/cal/costs.json")
used=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['config']['costs']['guest']['per_packet_ns'])" "$T/wpo/wp/summary.json")
check "a scenario runs with the fitted preset's costs" [ "$rc" = 0 -a "$fitted" = "$used" ]

# calibrate a latency (issue 17): the shipped case fits latency.interrupt_ns
# to the throughput a 100 us latency gives; the preset carries it.
run "$BIN" calibrate "$SRC/scenarios/calibration/latency-ring-knee.json" --out "$T/cal/latency.json"
fitted=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['latency']['interrupt_ns'])" "$T/cal/latency.json" 2>/dev/null)
check "calibrate fits a latency: within 2% of the 100 us that made the measurement" \
  /usr/bin/python3 -c "import sys; v = float(sys.argv[1]); sys.exit(0 if abs(v - 100000) < 2000 else 1)" "${fitted:-0}"
cat >"$T/latpreset.json" <<J
{"name": "lp", "stop": {"time_s": 0.02}, "measure": {"warmup_s": 0.005}, "costs": {"preset": "cal/latency.json"}}
J
run "$BIN" run "$T/latpreset.json" --out "$T/lpo"
used=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['config']['latency']['interrupt_ns'])" "$T/lpo/lp/summary.json" 2>/dev/null)
check "a scenario runs with the preset's latency" [ "$rc" = 0 -a "$fitted" = "$used" ]
printf '{"kind": "vringsim-cost-preset", "costs": {}, "latency": {"interupt_ns": 5}}' >"$T/cal/badlat.json"
cat >"$T/badlat.json" <<J
{"name": "bl", "costs": {"preset": "cal/badlat.json"}}
J
run "$BIN" validate "$T/badlat.json"
[ "$rc" = 2 ] && grep -q "/latency/interupt_ns: not a latency parameter" "$T/err"
check "a preset's unknown latency key: exit 2, named" [ $? = 0 ]

# A rate that the arrival process ignores is said, not silently dropped
run "$BIN" validate "$T/a.json" --set traffic.rate_gbps=3
[ "$rc" = 0 ] && grep -q '/traffic/rate_gbps: warning: ignored with traffic.arrival "line-rate"' "$T/err"
check "rate_gbps with line-rate arrivals: a warning naming the key, exit 0" [ $? = 0 ]
run "$BIN" validate "$T/a.json" --set traffic.rate_gbps=3 --set traffic.arrival=poisson
check "rate_gbps with poisson arrivals: no warning" [ "$rc" = 0 -a ! -s "$T/err" ]

# vringsim topology: the resolved graph as text or DOT; a bad one exits 2, writing nothing
run "$BIN" validate "$SRC/scenarios/capacity/two-tenants.json"
check "validate names the guests and queues" grep -q "two-tenants.json: ok (two-tenants, policy mergeable, ring 256, 8 guests, 20 queues)$" "$T/out"
run "$BIN" topology "$SRC/scenarios/capacity/two-tenants.json"
[ "$rc" = 0 ] && grep -q "^topology: 2 source(s), 2 bridge(s), 2 core group(s) with 4 core(s), 2 backend(s), 8 guest(s), 20 receive queue(s)$" "$T/out"
check "topology: exit 0 and the sizes line" [ $? = 0 ]
check "topology: a bridge and its guests" grep -q "^bridge  br-db <- storage -> db-0, db-1$" "$T/out"
run "$BIN" topology "$SRC/scenarios/capacity/two-tenants.json" --dot --out "$T/tt.dot"
[ "$rc" = 0 -a ! -s "$T/out" ] && head -1 "$T/tt.dot" | grep -q "^digraph G {$"
check "topology --dot --out: a DOT file, nothing on stdout" [ $? = 0 ]
[ "$(grep -c '(queue)' "$T/tt.dot")" = 2 ] && grep -q '6 guests: web-0 .. web-5' "$T/tt.dot" && [ "$(grep -c 'pinned to' "$T/tt.dot")" = 2 ]
check "topology --dot: each entry's guests one node, their queues one node, pinned backends" [ $? = 0 ]
run "$BIN" topology "$SRC/scenarios/capacity/two-tenants.json" --dot --expand
[ "$rc" = 0 ] && [ "$(grep -c '(queue)' "$T/out")" = 20 ] && [ "$(grep -c '(guest)' "$T/out")" = 8 ]
check "topology --dot --expand: 8 guests, 20 queues" [ $? = 0 ]
run "$BIN" topology "$SRC/scenarios/capacity/128g-4q-16c-mergeable.json" --dot
[ "$rc" = 0 ] && [ "$(grep -c 'shape=' "$T/out")" = 6 ] && grep -q '128 guests: vm-000 .. vm-127' "$T/out" && grep -q '512 in all' "$T/out"
check "topology --dot of 128 guests x 4 queues: 6 nodes" [ $? = 0 ]
run "$BIN" topology "$SRC/scenarios/capacity/two-tenants.json" --expand
[ "$rc" = 2 ] && [ "$(wc -l <"$T/err")" = 1 ] && grep -q -- "--expand requires --dot" "$T/err"
check "topology --expand without --dot: exit 2, one line" [ $? = 0 ]
run "$BIN" topology "$SRC/scenarios/capacity/two-tenants.json" --set topology.backends.qemu-db.cores=numa9 --out "$T/bad.dot"
[ "$rc" = 2 -a ! -e "$T/bad.dot" ] && [ "$(wc -l <"$T/err")" = 1 ] && grep -q "/topology/backends/qemu-db/cores: backend qemu-db is pinned to \"numa9\", which is no core group" "$T/err"
check "topology: a backend pinned to no core group, exit 2, one line, nothing written" [ $? = 0 ]
run "$BIN" run "$SRC/scenarios/capacity/two-tenants.json" --set stop.time_s=0.02 --set measure.warmup_s=0.01 --out "$T/tt"
[ "$rc" = 0 ] && grep -q "^per guest" "$T/out" && /usr/bin/python3 -c "import json,sys; s=json.load(open(sys.argv[1])); assert 'guests' not in s and s['per_guest']['throughput.delivered_gbps']['min'] <= s['per_guest']['throughput.delivered_gbps']['max']" "$T/tt/two-tenants/summary.json"
check "a topology run: per-guest table, spreads in the summary, no per-guest keys" [ $? = 0 ]
/usr/bin/python3 - "$T/tt/two-tenants" <<'P'
import csv, json, sys
d = sys.argv[1]
g = list(csv.DictReader(open(d + "/guests.csv")))
q = list(csv.DictReader(open(d + "/queues.csv")))
s = json.load(open(d + "/summary.json"))
assert [r["guest"] for r in g] == ["db-0", "db-1", "web-0", "web-1", "web-2", "web-3", "web-4", "web-5"], [r["guest"] for r in g]
assert len(q) == 20 and [r["queue_global"] for r in q] == [str(i) for i in range(20)]
assert [r["queue"] for r in q if r["guest"] == "db-0"] == ["0", "1", "2", "3"]
# The rows add up to the run's totals, exactly (integers).
assert sum(int(r["packets.delivered"]) for r in g) == s["packets"]["delivered"]
assert sum(int(r["packets.delivered"]) for r in q) == s["packets"]["delivered"]
assert sum(int(r["packets.delivered"]) for r in q if r["guest"] == "web-3") == int([r for r in g if r["guest"] == "web-3"][0]["packets.delivered"])
gb = [float(r["throughput.delivered_gbps"]) for r in g]
assert min(gb) == s["per_guest"]["throughput.delivered_gbps"]["min"] and max(gb) == s["per_guest"]["throughput.delivered_gbps"]["max"]
P
check "guests.csv and queues.csv: a row per guest and per queue, adding up to the totals" [ $? = 0 ]
check "runs.csv has no per-guest columns" [ -z "$(head -1 "$T/tt/runs.csv" | tr ',' '\n' | grep '^guests\.')" ]
run "$BIN" run "$SRC/scenarios/seed-2008/mergeable.json" --set stop.time_s=0.02 --set measure.warmup_s=0.01 --out "$T/one"
check "a run without a topology writes no guests.csv" [ "$rc" = 0 ] && [ ! -e "$T/one/2008-mergeable/guests.csv" ]
run "$BIN" run "$SRC/scenarios/capacity/two-tenants.json" --set stop.time_s=0.02 --set measure.warmup_s=0.01 --set topology.guests.web.count=40 --out "$T/big"
check "runs.csv: the same columns for 8 guests and for 42" [ "$rc" = 0 ] && [ "$(head -1 "$T/big/runs.csv")" = "$(head -1 "$T/tt/runs.csv")" ]

echo "$pass passed, $fails failed"
[ "$fails" = 0 ]
