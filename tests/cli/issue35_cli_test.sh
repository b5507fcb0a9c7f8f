#!/usr/bin/env bash
# The command-line items of issue 35, one part per item:
#   seed     --seed and the scenario's seed (and stop.packets) accept one
#            range, 0..9223372036854775807, stated exactly when refused
#   trace    run --trace "" is refused like run --out "" (it wrote nothing, exit 0)
#   outputs  ring-size/sensitivity --csv and topology --out are checked before
#            anything runs (exit 2 naming the path; ring-size ran every
#            simulation first, topology exited 1)
#   lists    an explicitly empty ring-size --sizes or sensitivity --params is
#            refused (it ran the defaults)
#   abspath  an error about a capture named by an absolute path starts with
#            that path (it was taken for a JSON pointer and prefixed with the
#            scenario's name: "a.json: /tmp/x.pcap: ...")
#   scale    per-guest and per-queue figures go to guests.csv and queues.csv
#            (a row each), not into summary.json and runs.csv; diff reads a
#            summary above 16 MiB (a 4,096 x 16 run's was 162 MB, refused
#            as "not a scenario, sweep or calibration file")
# Usage: issue35_cli_test.sh VRINGSIM PART
set -u
BIN=$1
PART=$2
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"

cat >"$T/a.json" <<'J'
{"name": "a", "stop": {"time_s": 0.002}, "measure": {"warmup_s": 0.0005}, "traffic": {"arrival": "poisson", "rate_gbps": 1}}
J
: >"$T/file"  # a regular file: a path under it cannot be written, even by root

case $PART in
seed)
  max=9223372036854775807
  over=9223372036854775808
  run "$BIN" run "$T/a.json" --seed $max
  check "run --seed $max: the command line's maximum runs (was exit 2)" [ "$rc" = 0 ]
  run "$BIN" validate "$T/a.json" --set seed=$max
  check "validate --set seed=$max: exit 0" [ "$rc" = 0 ]
  run "$BIN" run "$T/a.json" --seed $over
  check "run --seed $over: exit 2" [ "$rc" = 2 ]
  check "run --seed $over: one line" one_line
  check "run --seed $over: states the range exactly" has "0..$max"
  run "$BIN" validate "$T/a.json" --set seed=$over
  check "--set seed=$over: exit 2" [ "$rc" = 2 ]
  check "--set seed=$over: the same range, exactly" has "$over is out of range (0..$max)"
  check "--set seed=$over: no rounded bound" [ -z "$(printf '%s\n' "$err" | grep -F 'e+18')" ]
  run "$BIN" validate "$T/a.json" --set seed=9200000000000000001
  check "--set seed=9200000000000000001 (above the old 9.2e18): exit 0" [ "$rc" = 0 ]
  run "$BIN" validate "$T/a.json" --set stop.packets=$max
  check "--set stop.packets=$max: exit 0" [ "$rc" = 0 ]
  run "$BIN" validate "$T/a.json" --set stop.packets=$over
  check "--set stop.packets=$over: exit 2" [ "$rc" = 2 ]
  check "--set stop.packets=$over: the range, exactly" has "/stop/packets: $over is out of range (0..$max)"
  run "$BIN" params
  check "params: seed's range exact" grep -qE "^seed +integer +1 +0\.\.$max " "$T/out"
  check "params: stop.packets's range exact" grep -qE "^stop\.packets +integer \[packets\] +0 +0\.\.$max " "$T/out"
  run "$BIN" schema
  check "schema: seed's maximum exact" /usr/bin/python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
s=d["properties"]["seed"]; p=d["properties"]["stop"]["properties"]["packets"]
sys.exit(0 if (s["minimum"], s["maximum"], p["maximum"]) == (0, 2**63-1, 2**63-1) and type(s["maximum"]) is int else 1)' "$T/out"
  ;;

trace)
  run "$BIN" run "$T/a.json" --trace ""
  check "run --trace \"\": exit 2 (was 0, writing nothing)" [ "$rc" = 2 ]
  check "run --trace \"\": one line" one_line
  check "run --trace \"\": names the option" has '--trace "": expected a file name'
  check "run --trace \"\": nothing run" [ -z "$out" ]
  ;;

outputs)
  run "$BIN" ring-size "$T/a.json" --sizes 64,128 --csv "$T/file/r.csv"
  check "ring-size --csv under a file: exit 2 (was 1 after every run)" [ "$rc" = 2 ]
  check "ring-size --csv under a file: one line" one_line
  check "ring-size --csv under a file: names the path" has "$T/file: --csv: $T/file is not a directory"
  check "ring-size --csv under a file: nothing run" [ -z "$out" ]
  run "$BIN" ring-size "$T/a.json" --sizes 64,128 --csv "$T"
  check "ring-size --csv DIR: exit 2" [ "$rc" = 2 ]
  check "ring-size --csv DIR: says so" has "$T: --csv: is a directory, expected a file name"
  run "$BIN" ring-size "$T/a.json" --sizes 64,128 --csv ""
  check "ring-size --csv \"\": exit 2" [ "$rc" = 2 ]
  check "ring-size --csv \"\": one line naming it" has '--csv "": expected a file name'
  run "$BIN" sensitivity "$T/a.json" --params costs.guest.per_packet_ns --csv "$T/file/s.csv"
  check "sensitivity --csv under a file: exit 2" [ "$rc" = 2 ]
  check "sensitivity --csv under a file: one line, naming the path" one_line
  check "sensitivity --csv under a file: names the path" has "$T/file: --csv: $T/file is not a directory"
  check "sensitivity --csv under a file: nothing run" [ -z "$out" ]
  run "$BIN" topology "$T/a.json" --out "$T/file/t.txt"
  check "topology --out under a file: exit 2 (was 1)" [ "$rc" = 2 ]
  check "topology --out under a file: one line" one_line
  check "topology --out under a file: names the path" has "$T/file: --out: $T/file is not a directory"
  run "$BIN" topology "$T/a.json" --out "$T"
  check "topology --out DIR: exit 2" [ "$rc" = 2 ]
  check "topology --out DIR: says so" has "$T: --out: is a directory, expected a file name"
  run "$BIN" topology "$T/a.json" --out ""
  check "topology --out \"\": exit 2" [ "$rc" = 2 ]
  check "topology --out \"\": names it" has '--out "": expected a file name'
  run "$BIN" topology "$T/a.json" --out "$T/new/t.txt"
  check "topology --out into a new folder: exit 0" [ "$rc" = 0 ]
  check "topology --out into a new folder: written" [ -s "$T/new/t.txt" ]
  ;;

abspath)
  printf 'garbage-not-a-capture-xxxxxxxxxxxxxxxxxxxxxxx' >"$T/bad.pcap"
  printf '{"name": "abs", "traffic": {"kind": "pcap", "arrival": "trace", "pcap": {"file": "%s"}}}\n' "$T/bad.pcap" >"$T/abs.json"
  run "$BIN" validate "$T/abs.json"
  check "a damaged capture: exit 2" [ "$rc" = 2 ]
  check "a damaged capture: one line" one_line
  check "the line starts with the capture's path" [ "${err#"$T/bad.pcap: "}" != "$err" ]
  printf '{"name": "abs", "traffic": {"kind": "pcap", "arrival": "sideways", "pcap": {"file": "%s"}}}\n' "$T/bad.pcap" >"$T/ptr.json"
  run "$BIN" validate "$T/ptr.json"
  check "a bad key still names the scenario and the pointer" has "$T/ptr.json: /traffic/arrival"
  ;;

scale)
  run "$BIN" run "$T/a.json" --set topology.guests.vm.count=64 --set topology.guests.vm.queues=4 --out "$T/A"
  check "64 x 4: exit 0" [ "$rc" = 0 ]
  check "64 x 4: summary.json holds no per-guest keys" [ -z "$(grep -F '"vm-00"' "$T/A/a/summary.json")" ]
  check "64 x 4: guests.csv, a row per guest" [ "$(wc -l <"$T/A/a/guests.csv")" = 65 ]
  check "64 x 4: queues.csv, a row per queue" [ "$(wc -l <"$T/A/a/queues.csv")" = 257 ]
  check "64 x 4: runs.csv under 1,000 columns" [ "$(head -1 "$T/A/runs.csv" | tr ',' '\n' | wc -l)" -lt 1000 ]
  # An old-format summary above 16 MiB, as a 4,096 x 16 run wrote: diff reads it.
  /usr/bin/python3 - "$T/A/a/summary.json" <<'P'
import json, sys
s = json.load(open(sys.argv[1]))
s["guests"] = {f"vm-{g:04}": {"queues": {str(q): {"packets": {"delivered": g * 16 + q}, "pad": "x" * 300}
                                         for q in range(16)}} for g in range(4096)}
json.dump(s, open(sys.argv[1], "w"))
P
  check "the padded summary is above 16 MiB" [ "$(stat -c %s "$T/A/a/summary.json")" -gt 16777216 ]
  cp -r "$T/A" "$T/B"
  run "$BIN" diff "$T/A" "$T/B"
  check "diff of two 16+ MiB summaries: exit 0 (was 2)" [ "$rc" = 0 ]
  ;;

lists)
  run "$BIN" ring-size "$T/a.json" --sizes ''
  check "ring-size --sizes '': exit 2 (ran the defaults)" [ "$rc" = 2 ]
  check "ring-size --sizes '': one line" one_line
  check "ring-size --sizes '': names it" has '--sizes "": expected a comma-separated list of ring sizes'
  check "ring-size --sizes '': nothing run" [ -z "$out" ]
  run "$BIN" sensitivity "$T/a.json" --params ''
  check "sensitivity --params '': exit 2 (ran the defaults)" [ "$rc" = 2 ]
  check "sensitivity --params '': one line" one_line
  check "sensitivity --params '': names it" has '--params "": expected a comma-separated list of costs.* keys'
  check "sensitivity --params '': nothing run" [ -z "$out" ]
  ;;

*)
  echo "unknown part $PART"
  exit 2
  ;;
esac

echo "$pass passed, $fails failed"
[ "$fails" = 0 ]
