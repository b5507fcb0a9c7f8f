#!/usr/bin/env bash
# Issue 34, "Captures that explain themselves", one part per item:
#   trace-info   trace-info on a capture built here (nine frames over 2.7002 s, as
#                tests/models/capture_fixtures.hpp issue34_capture): rates, flows,
#                directions, gaps and the filter, the same keys in text and JSON; the
#                printed --set line is taken by run and replays that direction only
#   unmeasured   a run on a capture whose measured window holds nothing names the
#                capture's span and the setting to change (stop.time_s, or
#                measure.warmup_s), one line on stderr and in measure.problem
#   merge        merge says what it merged (it printed nothing)
#   resume       a resumed sweep says how many runs were already done
# Usage: issue34_explain_test.sh VRINGSIM PART
set -u
BIN=$1
PART=$2
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1

# capture NAME "NS:PROTO:SRC:SPORT:DST:DPORT:WIRE"...: Ethernet/IPv4 frames, 10.0.0.SRC to
# 10.0.0.DST, NS nanoseconds after 1700000000 s (PROTO 0: an ARP frame, not IP)
capture() {
  /usr/bin/python3 - "$@" <<'P'
import struct, sys
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b23c4d, 2, 4, 0, 0, 262144, 1))
    for spec in sys.argv[2:]:
        ns, proto, src, sport, dst, dport, wire = map(int, spec.split(":"))
        if proto == 0:
            d = bytearray(60); d[12:14] = b"\x08\x06"
        else:
            d = bytearray(54); d[12] = 0x08; d[14] = 0x45; d[23] = proto
            d[26:30] = bytes([10, 0, 0, src]); d[30:34] = bytes([10, 0, 0, dst])
            d[34:38] = struct.pack(">HH", sport, dport); d[46] = 5 << 4
        f.write(struct.pack("<IIII", 1700000000 + ns // 10**9, ns % 10**9, len(d), wire) + bytes(d))
P
}

case $PART in
trace-info)
  capture i34.pcap 0:6:1:5001:2:80:1514 500000:6:1:5001:2:80:1514 1200000:6:2:80:1:5001:64 \
    3000000:6:1:5001:2:81:1514 50000000:17:3:53:1:4000:100 200000000:0:0:0:0:0:60 \
    2700000000:6:1:5001:2:80:1514 2700100000:6:1:5001:2:80:1514 2700200000:6:1:5001:2:80:1514
  run "$BIN" trace-info i34.pcap
  check "exit 0" [ "$rc" = 0 ]
  cp out text.txt
  for line in "packets +9" "bytes +9308" "duration_s +2.7002" \
    "rate.peak_1ms.packets_per_s +3000" "rate.peak_1ms.gbps +0.036336" "rate.peak_1ms.start_s +2.7" \
    "rate.peak_100ms.packets_per_s +50" "rate.peak_100ms.gbps +0.00037648" "rate.peak_100ms.start_s +0" \
    "rate.windows +peaks over windows aligned to the first timestamp.*" \
    "gaps.count +1" "gaps.longest_s +2.5" "gaps.longest_start_s +0.2" \
    "flows.count +5" "flows.top.1.flow +tcp 10.0.0.1:5001 > 10.0.0.2:80" "flows.top.1.packets +5" \
    "flows.top.1.bytes +7570" "flows.top.5.flow +non-IP" "directions.count +4" \
    "directions.most_bytes +10.0.0.1 > 10.0.0.2" "directions.top.1.bytes +9084" \
    "filter.expression +src host 10.0.0.1 and dst host 10.0.0.2" "filter.kept_packets +6" \
    "filter.set +--set 'traffic.pcap.filter=src host 10.0.0.1 and dst host 10.0.0.2'"; do
    check "text: $line" grep -qE "^$line\$" text.txt
  done
  run "$BIN" trace-info i34.pcap --json
  /usr/bin/python3 - <<'P'
import json
j = json.load(open("out"))
r = j["rate"]
assert abs(r["mean_packets_per_s"] - 9 / 2.7002) < 1e-9, r
assert abs(r["mean_gbps"] - 9308 * 8 / 2.7002 / 1e9) < 1e-15, r
P
  check "--json: the mean rate exactly" [ $? = 0 ]
  check "--json: the text's keys and values" /usr/bin/python3 "$CLI_DIR/text_is_json.py" text.txt out
  # The printed line, as a shell takes it, into a run: 6 of the 9 frames replayed.
  cat >s.json <<'J'
{"name": "i34", "stop": {"time_s": 3}, "measure": {"warmup_s": 0.0001}, "traffic": {"kind": "pcap", "arrival": "trace", "pcap": {"file": "i34.pcap"}}}
J
  set_line=$(sed -n 's/^filter.set *//p' text.txt)
  eval "run \"\$BIN\" run s.json --out o $set_line"
  check "run with the printed --set line: exit 0 ($err)" [ "$rc" = 0 ]
  /usr/bin/python3 -c '
import json; t = json.load(open("o/i34/summary.json"))["traffic"]
assert t["packets_read"] == 6 and t["filtered_out"] == 3, t'
  check "run with the printed --set line: 6 frames replayed, 3 filtered out" [ $? = 0 ]
  # A CSV trace: what it has, and that its flows are unknown.
  printf 'time_s,len_bytes\n0,1514\n2,60\n' >t.csv
  run "$BIN" trace-info t.csv
  check "csv: rate" grep -qE '^rate.mean_packets_per_s +1$' out
  check "csv: gap" grep -qE '^gaps.count +1$' out
  check "csv: flows unknown" grep -qE '^flows.note +a CSV trace has no addresses: its 5-tuples, directions and a filter are unknown$' out
  ;;

unmeasured)
  # Two frames at the start, two 90 s later: nothing in the window of a 1 s run.
  capture gap.pcap 0:6:1:5001:2:80:1514 50000000:6:1:5001:2:80:1514 89900000000:6:1:5001:2:80:1514 \
    90000000000:6:1:5001:2:80:1514
  cat >s.json <<'J'
{"name": "gap", "stop": {"time_s": 1}, "measure": {"warmup_s": 0.1}, "traffic": {"kind": "pcap", "arrival": "trace", "pcap": {"file": "gap.pcap"}}}
J
  want="no frame arrived in the measured window (0.1 s to 1 s): the capture gap.pcap spans 90 s, its frames due 0 s to 90 s after the start, and stop.time_s (1 s) ends the run before the last: --set stop.time_s=90"
  run "$BIN" run s.json --out o
  check "stop.time_s too short: exit 0, one line" '[' "$rc" = 0 ']'
  check "stop.time_s too short: one line on stderr" one_line
  check "stop.time_s too short: names the span and suggests stop.time_s=90 ($err)" has "vringsim: gap: warning: nothing measured: $want"
  /usr/bin/python3 -c 'import json,sys; p = json.load(open("o/gap/summary.json"))["measure"]["problem"]; sys.exit(0 if p == sys.argv[1] else 1)' "$want"
  check "stop.time_s too short: the same in measure.problem" [ $? = 0 ]
  run "$BIN" run s.json --set stop.time_s=90
  check "the suggested stop.time_s measures" [ "$rc" = 0 -a -z "$err" ]
  # A capture that ends before the warm-up: measure.warmup_s is the cause.
  capture short.pcap 0:6:1:5001:2:80:1514 50000000:6:1:5001:2:80:1514
  run "$BIN" run s.json --set traffic.pcap.file=short.pcap
  check "ends before the warm-up: one line" one_line
  check "ends before the warm-up: suggests measure.warmup_s ($err)" \
    has "the capture short.pcap spans 0.05 s, its frames due 0 s to 0.05 s after the start, all before measure.warmup_s (0.1 s): --set measure.warmup_s=0.025"
  run "$BIN" run s.json --set traffic.pcap.file=short.pcap --set measure.warmup_s=0.025
  check "the suggested measure.warmup_s measures" [ "$rc" = 0 -a -z "$err" ]
  ;;

merge | resume)
  cat >a.json <<'J'
{"name": "a", "stop": {"time_s": 0.002}, "measure": {"warmup_s": 0.0005}, "traffic": {"arrival": "poisson", "rate_gbps": 1}}
J
  cat >sw.json <<'J'
{"schema_version": 1, "name": "s34", "base": "a.json", "axes": [{"key": "ring.size", "values": [64, 128, 256]}], "replications": 2, "seed": 34}
J
  if [ "$PART" = merge ]; then
    for k in 1 2 3; do "$BIN" sweep sw.json --out s$k --shard $k/3 >/dev/null 2>&1; done
    run "$BIN" merge s1 s2 s3 --out m
    check "merge: exit 0" [ "$rc" = 0 ]
    check "merge: one line saying what was merged ($out)" [ "$out" = "merge: 3 inputs of sweep s34 (1/3, 2/3, 3/3): 6 runs (6 done, 0 failed) into m" ]
  else
    run "$BIN" sweep sw.json --out w
    check "first sweep: no resume line" [ -z "$(grep resuming "$T/err")" ]
    find w -name summary.json | sort | head -2 | xargs rm
    run "$BIN" sweep sw.json --out w
    check "resumed: exit 0" [ "$rc" = 0 ]
    check "resumed: says so first ($(head -1 "$T/err"))" [ "$(head -1 "$T/err")" = "sweep: resuming w: 4 of 6 runs already done, 2 to run" ]
  fi
  ;;

*)
  echo "unknown part $PART"
  exit 2
  ;;
esac
echo "$pass passed, $fails failed"
[ "$fails" = 0 ]
