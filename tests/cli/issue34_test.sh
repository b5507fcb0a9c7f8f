#!/usr/bin/env bash
# The smaller items of issue 34, one part per item:
#   dot      docs/guide/capacity-planning.md's `topology --dot | dot -Tsvg` recipe draws an SVG
#            (Graphviz is installed by scripts/setup.sh)
#   names    no shipped topology calls a backend "vhost..." that runs QEMU's
#            backend (two-tenants.json did)
#   jobs     run --jobs N runs N at a time and writes the same bytes as one
#            at a time (summaries, time series, runs.csv, the table)
#   command  a mistyped command gets "did you mean" and exit 2
#   digits   the table prints a small figure with 3 significant digits on
#            both sides of 0.0005 (0.000525 printed as 0.001, 0.000425 as
#            0.000425)
# Usage: issue34_test.sh VRINGSIM SOURCE_DIR PART
set -u
BIN=$1
SRC=$2
PART=$3
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

case $PART in
dot)
  "$BIN" topology "$SRC/scenarios/capacity/two-tenants.json" --dot | dot -Tsvg >"$T/t.svg"
  check "topology --dot | dot -Tsvg: exit 0" [ "${PIPESTATUS[0]}${PIPESTATUS[1]}" = 00 ]
  check "the SVG is drawn" grep -q "<svg" "$T/t.svg"
  check "every guest entry is a node" grep -q "db&#45;0 .. db&#45;1" "$T/t.svg"
  ;;

names)
  looked=0
  for f in "$SRC"/scenarios/*/*.json; do
    grep -q '"backends"' "$f" || continue
    looked=$((looked + 1))
    run "$BIN" run "$f" --set stop.time_s=0.000001 --set measure.warmup_s=0 --out "$T/n"
    backend=$(/usr/bin/python3 -c 'import json,sys,glob
print(json.load(open(glob.glob(sys.argv[1] + "/*/summary.json")[0]))["config"]["host"]["backend"])' "$T/n")
    names=$(/usr/bin/python3 -c 'import json,sys
print(" ".join(json.load(open(sys.argv[1]))["topology"]["backends"]))' "$f")
    for n in $names; do
      case $n in vhost*) check "$f: backend node $n runs the $backend backend" [ "$backend" = vhost ] ;; esac
    done
    rm -rf "$T/n"
  done
  check "the topologies with named backends were looked at ($looked)" [ "$looked" -gt 0 ]
  ;;

jobs)
  files=("$SRC"/scenarios/seed-2008/*.json)
  sets=(--set stop.time_s=0.05 --set measure.warmup_s=0.01)
  run "$BIN" run "${files[@]}" "${sets[@]}" --out "$T/one"
  check "--jobs 1 (the default): exit 0" [ "$rc" = 0 ]
  cp "$T/out" "$T/one.txt"
  run "$BIN" run "${files[@]}" "${sets[@]}" --out "$T/three" --jobs 3
  check "--jobs 3: exit 0" [ "$rc" = 0 ]
  check "--jobs 3: the same table" cmp -s "$T/one.txt" "$T/out"
  check "--jobs 3: the same files, byte for byte" diff -r "$T/one" "$T/three"
  check "six runs written" [ "$(ls "$T/three" | wc -l)" = 7 ]
  run "$BIN" run "${files[@]}" --jobs 0 --out "$T/zero"
  check "--jobs 0: exit 2" [ "$rc" = 2 ]
  check "--jobs 0: nothing written" [ ! -e "$T/zero" ]
  ;;

command)
  run "$BIN" runn x.json
  check "runn: exit 2" [ "$rc" = 2 ]
  check "runn: one line" [ "$(printf '%s\n' "$err" | wc -l)" = 1 ]
  check "runn: did you mean run" has "no command 'runn'; did you mean 'run'?"
  run "$BIN" sweeep
  check "sweeep: did you mean sweep" has "did you mean 'sweep'?"
  run "$BIN" frobnicate
  check "frobnicate: exit 2" [ "$rc" = 2 ]
  check "frobnicate: no suggestion" [ -z "$(printf '%s\n' "$err" | grep -F 'did you mean')" ]
  run "$BIN" --version
  check "--version still works" [ "$rc" = 0 ]
  ;;

digits)
  for rate in 0.0006 0.004 0.0004; do
    cat >"$T/low.json" <<J
{"name": "low", "stop": {"time_s": 1}, "measure": {"warmup_s": 0.1},
 "traffic": {"arrival": "constant", "rate_gbps": $rate}}
J
    run "$BIN" run "$T/low.json" --out "$T/o$rate"
    check "rate $rate: exit 0" [ "$rc" = 0 ]
    want=$(/usr/bin/python3 -c 'import json,sys
g=json.load(open(sys.argv[1]))["throughput"]["delivered_gbps"]
print(f"{g:.3f}" if g >= 0.01 else f"{g:.3g}")' "$T/o$rate/low/summary.json")
    got=$(printf '%s\n' "$out" | awk '$1 == "low" {print $(NF-3)}')
    check "rate $rate: the table's Gb/s $got is $want" [ "$got" = "$want" ]
  done
  ;;

*) echo "unknown part $PART"; exit 2 ;;
esac
echo "$PART: $pass passed, $fails failed"
[ "$fails" = 0 ]
