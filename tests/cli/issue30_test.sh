#!/usr/bin/env bash
# Silent mistakes a new user hit (issue 30), one part per item:
#   diff    vringsim diff compares results by default; --all, --only, --ignore;
#           one definition of change for the column and the tolerance; a floor
#   sweep   a sweep --set that overrides an axis is refused, or (--override-axis)
#           reported as the value run
#   table   the run table has one scope per column group, named in its header
#   steady  the steady-state judge looks at posted memory and throughput too
# Usage: issue30_test.sh VRINGSIM SOURCE_DIR PART
set -u
BIN=$1
SRC=$2
PART=$3
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
cell() {  # cell TITLE : the first row's cell under TITLE in the table in $T/out
  /usr/bin/python3 -c 'import re,sys
lines=open(sys.argv[1]).read().splitlines()
head=re.split(r"  +", lines[0].strip())
row=re.split(r"  +", lines[1].strip())
print(row[head.index(sys.argv[2])] if sys.argv[2] in head else "")' "$T/out" "$1"
}
summary() {  # summary DIR JSON : DIR/summary.json holds JSON
  mkdir -p "$1" && printf '%s\n' "$2" >"$1/summary.json"
}
field() {  # field FILE DOTTED.KEY : prints the value
  /usr/bin/python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): d=d[k]
print(json.dumps(d))' "$1" "$2"
}

cat >"$T/a.json" <<'J'
{"name": "a", "stop": {"time_s": 0.02}, "measure": {"warmup_s": 0.005}, "traffic": {"arrival": "poisson", "rate_gbps": 1}}
J

case $PART in
diff)
  # Only the sampling interval changed: no result moved; the steady-state
  # judge's slopes, R^2 and sample counts did (diagnostics).
  run "$BIN" run "$T/a.json" --out "$T/i1"
  run "$BIN" run "$T/a.json" --out "$T/i2" --set measure.sample_interval_s=0.0005
  run "$BIN" diff "$T/i1" "$T/i2" --tolerance 0.01
  check "diff: a sampling interval moves no result: exit 0 (was 1)" [ "$rc" = 0 ]
  check "diff: the interval is listed as a configuration difference" grep -qE "^a +config\.measure\.sample_interval_s " "$T/out"
  check "diff: no trend figure listed by default" [ -z "$(grep -E '^a +measure\.' "$T/out")" ]
  run "$BIN" diff "$T/i1" "$T/i2" --tolerance 0.01 --all
  check "diff --all: diagnostics compared too: exit 1" [ "$rc" = 1 ]
  check "diff --all: names the sample count" grep -qE "^a +measure\.samples +" "$T/out"
  run "$BIN" diff "$T/i1" "$T/i2" --tolerance 0.01 --only measure.trend
  check "diff --only a diagnostic prefix: compared, exit 1" [ "$rc" = 1 ]
  check "diff --only: only that prefix listed" [ -z "$(grep -E '^a +' "$T/out" | grep -vE '^a +(measure\.trend\.|config\.)')" ]
  run "$BIN" diff "$T/i1" "$T/i2" --tolerance 0.01 --all --ignore 'measure.*'
  check "diff --all --ignore 'measure.*': exit 0" [ "$rc" = 0 ]

  # Another seed: results move; --only and --ignore pick them by glob or prefix.
  run "$BIN" run "$T/a.json" --out "$T/s2" --seed 9
  run "$BIN" diff "$T/i1" "$T/s2" --only throughput --only 'latency_us.p9*'
  check "diff --only (repeatable): exit 1" [ "$rc" = 1 ]
  check "diff --only: throughput listed" grep -qE "^a +throughput\.delivered_gbps " "$T/out"
  check "diff --only: a glob" grep -qE "^a +latency_us\.p99 " "$T/out"
  check "diff --only: nothing else" [ -z "$(grep -E '^a +' "$T/out" | grep -vE '^a +(throughput\.|latency_us\.p9|config\.)')" ]
  run "$BIN" diff "$T/i1" "$T/s2" --ignore packets --ignore bytes --ignore 'drops' --ignore throughput \
    --ignore latency_us --ignore notifications --ignore cpu --ignore buffers_per_packet --ignore memory \
    --ignore ring --ignore host --ignore guest --ignore traffic --ignore measure
  check "diff --ignore every moved group: exit 0" [ "$rc" = 0 ]
  run "$BIN" diff "$T/i1" "$T/s2" --only 'no.such.*'
  check "diff --only matching nothing: bad input, exit 2" [ "$rc" = 2 ] && grep -q -- "--only no.such.\*: matches no figure" "$T/err"

  # One definition of change: the column and the tolerance agree.
  summary "$T/c1/r" '{"throughput": {"delivered_gbps": 50}}'
  summary "$T/c2/r" '{"throughput": {"delivered_gbps": 100}}'
  run "$BIN" diff "$T/c1" "$T/c2" --tolerance 0.6
  check "diff: +100% is beyond a tolerance of 0.6: exit 1 (was 0)" [ "$rc" = 1 ]
  check "diff: the column says +100%" grep -qE "^r +throughput\.delivered_gbps +50 +100 +\+100%$" "$T/out"
  run "$BIN" diff "$T/c2" "$T/c1" --tolerance 0.6
  check "diff: -50% is within 0.6: exit 0" [ "$rc" = 0 ]
  run "$BIN" diff "$T/c2" "$T/c1" --tolerance 0.4
  check "diff: -50% is beyond 0.4: exit 1" [ "$rc" = 1 ]
  # An absolute floor: rounding noise around 0 is no change.
  summary "$T/z1/r" '{"throughput": {"delivered_gbps": 1e-17}}'
  summary "$T/z2/r" '{"throughput": {"delivered_gbps": -7e-18}}'
  run "$BIN" diff "$T/z1" "$T/z2" --tolerance 0.01
  check "diff: 1e-17 vs -7e-18 is within the floor: exit 0 (was 1)" [ "$rc" = 0 ]
  run "$BIN" diff "$T/z1" "$T/z2" --tolerance 0.01 --floor 0
  check "diff --floor 0: a change again: exit 1" [ "$rc" = 1 ]
  summary "$T/z3/r" '{"throughput": {"delivered_gbps": 0}}'
  summary "$T/z4/r" '{"throughput": {"delivered_gbps": 3}}'
  run "$BIN" diff "$T/z3" "$T/z4" --tolerance 0.5
  check "diff: 0 -> 3 moved: exit 1" [ "$rc" = 1 ] && grep -qE "^r +throughput\.delivered_gbps +0 +3 +\(was 0\)$" "$T/out"
  run "$BIN" diff "$T/z3" "$T/z4" --floor -1
  check "diff --floor -1: bad input" [ "$rc" = 2 ]
  ;;

sweep)
  # An axis overridden by --set: refused, naming the axis; nothing written.
  # (With the warm-up lowered too, the points are valid: it used to run 0.4 s
  # and report stop.time_s 3; --dry-run listed 3.)
  run "$BIN" sweep "$SRC/scenarios/sweeps/capacity.json" --set stop.time_s=0.4 --set measure.warmup_s=0.2 --dry-run
  check "sweep --dry-run --set on an axis: exit 2 (was 0, listing stop.time_s 3)" [ "$rc" = 2 ]
  check "sweep --set on an axis: one line naming the axis" [ "$(wc -l <"$T/err")" = 1 ] &&
    grep -q -- "--set stop.time_s=0.4: /stop/time_s: overrides the sweep's axis stop.time_s (/axes/4)" "$T/err"
  run "$BIN" sweep "$SRC/scenarios/sweeps/capacity.json" --set stop.time_s=0.4 --set measure.warmup_s=0.2 --out "$T/cap"
  check "sweep --set on an axis: exit 2, nothing written" [ "$rc" = 2 -a ! -e "$T/cap" ]
  run "$BIN" sweep "$SRC/scenarios/sweeps/capacity.json" --set 'topology.guests.vm={"count": 2}' --dry-run
  check "sweep --set on an axis's parent: exit 2" [ "$rc" = 2 ] && grep -q "overrides the sweep's axis topology.guests.vm.count" "$T/err"
  run "$BIN" validate "$SRC/scenarios/sweeps/capacity.json" --set stop.time_s=0.4
  check "validate a sweep with --set on an axis: exit 2" [ "$rc" = 2 ]
  # With --override-axis it runs, and every report says the value run.
  cat >"$T/sw.json" <<J
{"name": "ov", "base": "a.json", "axes": [{"key": "stop.time_s", "values": [0.02, 0.03]},
 {"key": "ring.size", "values": [128, 256]}]}
J
  run "$BIN" sweep "$T/sw.json" --set stop.time_s=0.01 --override-axis --dry-run
  check "sweep --override-axis --dry-run: exit 0" [ "$rc" = 0 ]
  check "sweep --override-axis: the points list the value run" [ "$(grep -c '"stop.time_s":0.01' "$T/out")" = 2 ]
  check "sweep --override-axis: equal points are one" grep -q "^2 points x 1 replications = 2 runs" "$T/out"
  check "sweep --override-axis: says so on stderr" grep -q "stop.time_s=0.01 overrides the axis stop.time_s" "$T/err"
  run "$BIN" validate "$T/sw.json" --set stop.time_s=0.01
  check "validate a sweep with --set on an axis: exit 2, suggests --override-axis" [ "$rc" = 2 ] && grep -q -- "--override-axis" "$T/err"
  run "$BIN" validate "$T/sw.json" --set stop.time_s=0.01 --override-axis
  check "validate --override-axis: the sweep as it would run" [ "$rc" = 0 ] && grep -q "ok (sweep ov, 2 points x 1 replications = 2 runs)" "$T/out"
  run "$BIN" sweep "$T/sw.json" --set stop.time_s=0.01 --override-axis --out "$T/ov" --jobs 2
  check "sweep --override-axis: exit 0" [ "$rc" = 0 ]
  col=$(/usr/bin/python3 -c 'import csv,sys
rows=list(csv.DictReader(open(sys.argv[1])))
print(" ".join(sorted(set(r["stop.time_s"] for r in rows))))' "$T/ov/aggregate.csv")
  check "sweep --override-axis: aggregate.csv reports 0.01 ($col)" [ "$col" = "0.01" ]
  end=$(field "$(ls "$T"/ov/points/*/rep-0/summary.json | head -1)" run.end_s)
  check "sweep --override-axis: the runs ran 0.01 s ($end)" [ "$end" = 0.01 ]
  ;;

table)
  # A topology run: ring and posted bytes are both per queue; drops are the
  # measured window's, like Gb/s and pkt/s.
  run "$BIN" run "$SRC/scenarios/capacity/two-tenants.json" --set stop.time_s=0.03 --set measure.warmup_s=0.01 \
    --out "$T/tt"
  check "table: run exits 0" [ "$rc" = 0 ]
  head=$(sed -n 1p "$T/out")
  check "table: the header names the per-queue bytes ($head)" grep -q "ring B/q .* posted B/q " <<<"$head"
  check "table: a caption names the measured columns" grep -q "^Gb/s, pkt/s, drops, p99 us: measured window" "$T/out"
  S="$T/tt/two-tenants/summary.json"
  q=$(field "$S" topology.queues)
  full=$(field "$S" memory.posted_bytes_full)
  check "table: posted B/q is one queue's (full $full / $q queues)" [ "$(cell "posted B/q")" = "$((full / q))" ]
  check "table: ring B/q is one ring's" [ "$(cell "ring B/q")" = "$(field "$S" ring.bytes)" ]
  md=$(field "$S" throughput.dropped_packets)
  check "table: drops are the measured window's ($(cell drops) = $md)" [ "$(cell drops)" = "$md" ]
  # One ring: the figures are as before; drops the measured window's.
  cat >"$T/late.json" <<'J'
{"name": "late", "stop": {"time_s": 0.03}, "measure": {"warmup_s": 0.02}, "traffic": {"arrival": "line-rate"}}
J
  run "$BIN" run "$T/late.json" --out "$T/l"
  all=$(field "$T/l/late/summary.json" packets.dropped)
  md=$(field "$T/l/late/summary.json" throughput.dropped_packets)
  check "table: measured drops below the run's ($md < $all)" [ "${md:-0}" -lt "$all" ]
  check "table: the drops column is the measured one ($(cell drops) = $md)" [ "$(cell drops)" = "$md" ]
  # The sweep's table: delivered Gb/s beside the drops of the same window.
  cat >"$T/sw.json" <<J
{"name": "t", "base": "late.json", "axes": [{"key": "ring.size", "values": [128, 256]}]}
J
  run "$BIN" sweep "$T/sw.json" --out "$T/sw" --jobs 2
  check "sweep table: exit 0" [ "$rc" = 0 ]
  check "sweep table: the drops column names its window" grep -q "^point .* delivered Gb/s .* dropped (measured)" "$T/out"
  want=$(/usr/bin/python3 -c 'import csv,sys
r=list(csv.DictReader(open(sys.argv[1])))[0]
print(r["point_id"], int(float(r["throughput.dropped_packets.mean"])))' "$T/sw/aggregate.csv")
  check "sweep table: the measured drops ($want)" grep -qE "^${want% *} .* ${want#* } +\{" "$T/out"
  ;;

steady)
  # Posted memory falls through the window (4.4 MB mean over 0.15 s, 2.7 MB
  # over 0.6 s): not steady, and the problem names the posted memory. (On
  # the 2008 costs before their refit, 5,200 and 150 ns: on today's preset,
  # linux-6.x's own, and on the refitted 2008 ones the run levels off in time.)
  old=(--set costs.preset=2008 --set costs.guest.per_packet_ns=5200 --set costs.guest.per_descriptor_ns=150)
  run "$BIN" run "$SRC/scenarios/linux-6/big-indirect-gso-100g.json" --out "$T/bi" "${old[@]}"
  S="$T/bi/linux6-big-indirect-gso-100g/summary.json"
  check "steady: big-indirect-gso-100g is not steady (was true)" [ "$(field "$S" measure.steady)" = false ]
  check "steady: the problem names the posted memory" grep -q "posted buffer memory" <<<"$(field "$S" measure.steady_problem)"
  check "steady: the trend of posted bytes is reported" [ -n "$(field "$S" measure.trend.posted_bytes_per_s)" ]
  check "steady: the trend of the delivered rate is reported" [ -n "$(field "$S" measure.trend.delivered_pps_per_s)" ]
  check "steady: vringsim run warns" grep -q "warning: not in steady state: .*posted buffer memory" "$T/err"
  # Long enough, it is steady.
  run "$BIN" run "$SRC/scenarios/linux-6/big-indirect-gso-100g.json" --out "$T/bl" --set stop.time_s=0.6 \
    --set measure.warmup_s=0.3 "${old[@]}"
  check "steady: measured after it levelled off, steady" [ "$(field "$T/bl/linux6-big-indirect-gso-100g/summary.json" measure.steady)" = true ]
  ;;

*)
  echo "unknown part $PART"
  exit 2
  ;;
esac

echo "$pass passed, $fails failed"
[ "$fails" = 0 ]
