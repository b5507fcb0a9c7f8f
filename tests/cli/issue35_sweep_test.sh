#!/usr/bin/env bash
# Issue 35, the sweep, output and trace-info items, one part per item:
#   shard-label     a sweep into a folder holding another shard of the same sweep is
#                   refused (it relabelled the folder, and merge --partial dropped runs on disk)
#   write-exit      a sweep run that cannot write its summary is a write failure, exit code
#                   class 1, and says so (it was logged as "exit code 3", an invariant)
#   runs-csv        a runs.csv that cannot be written is named once, with the runs it left
#                   out (it was one identical line per run, naming none)
#   merge-tree      merged shards are the unsharded sweep's tree, file for file, byte for
#                   byte (merge left out stderr.txt, and failed runs)
#   trace-duration  trace-info's duration_s is the latest timestamp less the earliest (it
#                   was 0 when the first record was the latest)
#   trace-empty     a trace of no packets prints duration_s 0 and null length figures with
#                   a note, the same in text and JSON (they were left out)
# Usage: issue35_sweep_test.sh VRINGSIM FAIL_FSYNC_SHIM PART
set -u
BIN=$1
SHIM=$2
PART=$3
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1

cat >a.json <<'J'
{"name": "a", "stop": {"time_s": 0.002}, "measure": {"warmup_s": 0.0005}, "traffic": {"arrival": "poisson", "rate_gbps": 1}}
J
# Three points, two replications: shard 1/3 runs point 0, 2/3 point 1, 3/3 point 2.
cat >sw.json <<'J'
{"schema_version": 1, "name": "s35", "base": "a.json", "axes": [{"key": "ring.size", "values": [64, 128, 256]}],
 "replications": 2, "seed": 35}
J
summaries() { find "$1" -name summary.json | wc -l; }
failures() { /usr/bin/python3 -c 'import csv,sys; print(len(list(csv.DictReader(open(sys.argv[1])))))' "$1/failures.csv"; }
# with_shim ENV=VALUE... CMD...: CMD with fsync failing as the variables say
with_shim() { env ASAN_OPTIONS=verify_asan_link_order=0 LD_PRELOAD="$SHIM" "$@"; }

case $PART in
shard-label)
  run "$BIN" sweep sw.json --out o --shard 1/3
  check "shard 1/3: exit 0" [ "$rc" = 0 ]
  check "shard 1/3: its 2 runs" [ "$(summaries o)" = 2 ]
  cp o/sweep.json before.json
  run "$BIN" sweep sw.json --out o --shard 2/3
  check "shard 2/3 into shard 1/3's folder: exit 2 (it ran, relabelling the folder)" [ "$rc" = 2 ]
  check "shard 2/3 into shard 1/3's folder: one line" one_line
  check "shard 2/3 into shard 1/3's folder: names the folder and both shards" \
    has "o: --out: holds shard 1/3 of sweep s35, not shard 2/3:"
  check "shard 2/3 into shard 1/3's folder: nothing run" [ "$(summaries o)" = 2 ]
  check "shard 2/3 into shard 1/3's folder: sweep.json untouched" cmp -s before.json o/sweep.json
  run "$BIN" sweep sw.json --out o --shard 1/2
  check "shard 1/2 into shard 1/3's folder: exit 2" [ "$rc" = 2 ]
  check "shard 1/2 into shard 1/3's folder: both labels" has "holds shard 1/3 of sweep s35, not shard 1/2:"
  run "$BIN" sweep sw.json --out o
  check "the whole sweep into shard 1/3's folder: exit 2" [ "$rc" = 2 ]
  check "the whole sweep into shard 1/3's folder: both labels" \
    has "o: --out: holds shard 1/3 of sweep s35, not the whole sweep:"
  check "nothing of the refused calls ran" [ "$(summaries o)" = 2 ]
  run "$BIN" sweep sw.json --out o --shard 1/3
  check "shard 1/3 again into its own folder: resumes, exit 0" [ "$rc" = 0 ]
  # The whole sweep's folder is not a shard's either.
  run "$BIN" sweep sw.json --out w
  check "whole sweep: exit 0" [ "$rc" = 0 ]
  run "$BIN" sweep sw.json --out w --shard 3/3
  check "shard 3/3 into the whole sweep's folder: exit 2" [ "$rc" = 2 ]
  check "shard 3/3 into the whole sweep's folder: both labels" \
    has "w: --out: holds the whole sweep s35, not shard 3/3:"
  check "the whole sweep's folder keeps its label" grep -q '"shard": null' w/sweep.json
  # Each shard in its own folder, then merge: every run on disk is in the result.
  run "$BIN" sweep sw.json --out o2 --shard 2/3
  run "$BIN" merge o o2 --out m --partial
  check "merge --partial of shards 1/3 and 2/3: exit 0" [ "$rc" = 0 ]
  check "merge --partial: the 4 runs on disk" [ "$(summaries m)" = 4 ]
  check "merge --partial: only shard 3/3 missing" grep -qF '"missing_shards": [
    "3/3"
  ]' m/sweep.json
  check "merge --partial: results.csv has the 4 runs" [ "$(($(wc -l <m/results.csv) - 1))" = 4 ]
  # merge into a folder holding a shard that is not among its inputs.
  run "$BIN" sweep sw.json --out o3 --shard 3/3
  run "$BIN" merge o o2 --out o3 --partial
  check "merge into shard 3/3's folder, not an input: exit 2" [ "$rc" = 2 ]
  check "merge into shard 3/3's folder, not an input: one line" one_line
  check "merge into shard 3/3's folder, not an input: nothing written" [ "$(summaries o3)" = 2 ]
  check "merge into another shard's folder: names it and its shard" \
    has "o3: --out: holds shard 3/3 of sweep s35, which is not among merge's inputs:"
  run "$BIN" merge o o2 o3 --out o3
  check "merge into one of its inputs: exit 0" [ "$rc" = 0 ]
  check "merge into one of its inputs: every run" [ "$(summaries o3)" = 6 ]
  ;;

write-exit)
  # Every run's summary.json meets a full disk (ENOSPC at fsync); nothing else does.
  with_shim FAIL_FSYNC_AFTER=0 FAIL_FSYNC_MATCH=summary.json FAIL_FSYNC_ERRNO=28 \
    "$BIN" sweep sw.json --out o >out 2>err
  rc=$?
  err=$(cat err)
  check "summaries cannot be written: the sweep exits 1" [ "$rc" = 1 ]
  check "no run is logged as exit code 3 (an invariant)" [ -z "$(grep -F 'exit code 3' err o/failures.csv)" ]
  check "each run is logged as a write failure, exit code 1, naming its file" \
    [ "$(grep -cE '^sweep: [0-9]/6 p[0-9a-f]{12} rep [01]: FAILED: exit code 1, write failure: o/points/p[0-9a-f]{12}/rep-[01]/summary.json: write failed: No space left on device \(' err)" = 6 ]
  /usr/bin/python3 - o <<'P'
import csv, json, sys
d = sys.argv[1]
rows = list(csv.DictReader(open(d + "/failures.csv")))
assert len(rows) == 6, rows
for r in rows:
    want = "exit code 1, write failure: %s/points/%s/rep-%s/summary.json: write failed: No space left on device" % (d, r["point_id"], r["rep"])
    assert r["reason"] == want, (r["reason"], want)
P
  check "failures.csv: reason 'exit code 1, write failure: FILE: ...' for each run" [ $? = 0 ]
  check "no summary.json half-written" [ "$(summaries o)" = 0 -a -z "$(find o -name '*.tmp.*')" ]
  # The rest of the run once the disk has room: a resume completes it.
  run "$BIN" sweep sw.json --out o
  check "a resume after the disk has room: exit 0, every run" [ "$rc" = 0 -a "$(summaries o)" = 6 -a ! -e o/failures.csv ]
  ;;

runs-csv)
  for n in b c; do sed "s/\"a\"/\"$n\"/" a.json >"$n.json"; done
  with_shim FAIL_FSYNC_AFTER=0 FAIL_FSYNC_MATCH=runs.csv FAIL_FSYNC_ERRNO=28 \
    "$BIN" run a.json b.json c.json --out r >out 2>err
  rc=$?
  err=$(cat err)
  check "runs.csv cannot be written: exit 1" [ "$rc" = 1 ]
  check "runs.csv cannot be written: one line (was one identical line per run)" one_line
  check "runs.csv cannot be written: names the file and every run it left out" \
    [ "$err" = "vringsim: r/runs.csv: write failed: No space left on device; 3 runs not recorded (nothing of them kept): a, b, c" ]
  check "runs.csv cannot be written: no run folder, no temporary" [ -z "$(ls -A r)" ]
  # The second run's runs.csv fails alone (the first landed): that run is named.
  with_shim FAIL_FSYNC_AFTER=1 FAIL_FSYNC_MATCH=runs.csv FAIL_FSYNC_ERRNO=28 \
    "$BIN" run a.json b.json --out r2 >out 2>err
  rc=$?
  err=$(cat err)
  check "the second runs.csv write fails: exit 1" [ "$rc" = 1 ]
  check "the second runs.csv write fails: names b alone" \
    [ "$err" = "vringsim: r2/runs.csv: write failed: No space left on device; 1 run not recorded (nothing of it kept): b" ]
  check "the second runs.csv write fails: a landed, listed" [ -s r2/a/summary.json -a "$(wc -l <r2/runs.csv)" = 2 -a ! -e r2/b ]
  # A run's own file failing still names that file, one line per run.
  with_shim FAIL_FSYNC_AFTER=0 FAIL_FSYNC_MATCH=summary.json FAIL_FSYNC_ERRNO=28 \
    "$BIN" run a.json b.json --out r3 >out 2>err
  rc=$?
  check "summaries cannot be written: exit 1" [ "$rc" = 1 ]
  check "summaries cannot be written: a's file named" grep -qF "r3/a/summary.json: write failed" err
  check "summaries cannot be written: b's file named" grep -qF "r3/b/summary.json: write failed" err
  ;;

merge-tree)
  # The same sweep, unsharded and as two shards merged: the same tree, byte for byte.
  # traffic.rate_gbps beside line-rate arrivals is warned about on each run's stderr:
  # every stderr.txt has something in it.
  cat >w.json <<'J'
{"name": "w", "stop": {"time_s": 0.002}, "measure": {"warmup_s": 0.0005}, "traffic": {"rate_gbps": 1}}
J
  cat >sw2.json <<'J'
{"schema_version": 1, "name": "m35", "base": "w.json", "axes": [{"key": "ring.size", "values": [64, 128, 256]}],
 "replications": 2, "seed": 35}
J
  run "$BIN" sweep sw2.json --out u
  check "unsharded: exit 0" [ "$rc" = 0 ]
  check "each run's stderr.txt has the warning" [ "$(find u -name stderr.txt -size +0 | wc -l)" = 6 ]
  run "$BIN" sweep sw2.json --out s1 --shard 1/2
  run "$BIN" sweep sw2.json --out s2 --shard 2/2
  run "$BIN" merge s1 s2 --out m
  check "merge: exit 0" [ "$rc" = 0 ]
  diff -r u m >diff.txt 2>&1
  d=$?
  check "merged = unsharded, every file, byte for byte: $(head -c 300 diff.txt | tr '\n' ' ')" [ "$d" = 0 ]
  check "merged and unsharded list the same files" \
    [ "$(cd u && find . -type f | sort)" = "$(cd m && find . -type f | sort)" ]
  # Failed runs too: every run times out (0.3 s of wall time for 20 simulated seconds).
  cat >sw3.json <<'J'
{"schema_version": 1, "name": "t35", "base": "w.json", "axes": [{"key": "ring.size", "values": [64, 128, 256]}],
 "replications": 1, "seed": 35, "timeout_s": 0.3}
J
  run "$BIN" sweep sw3.json --out tu --set stop.time_s=20
  check "every run timed out: exit 1, 3 failures" [ "$rc" = 1 -a "$(failures tu)" = 3 ]
  run "$BIN" sweep sw3.json --out t1 --shard 1/2 --set stop.time_s=20
  run "$BIN" sweep sw3.json --out t2 --shard 2/2 --set stop.time_s=20
  run "$BIN" merge t1 t2 --out tm
  check "merge of failed runs: exit 0" [ "$rc" = 0 ]
  diff -r tu tm >diff.txt 2>&1
  d=$?
  check "merged failed runs = unsharded, byte for byte: $(head -c 300 diff.txt | tr '\n' ' ')" [ "$d" = 0 ]
  ;;

trace-duration)
  # Records at 8590 s, 0 s and 4000 s (after the first): they span 8590 s.
  /usr/bin/python3 - <<'P'
import struct
with open("ooo.pcap", "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for t, n in [(1700008590, 1514), (1700000000, 60), (1700004000, 590)]:
        f.write(struct.pack("<IIII", t, 0, n, n) + bytes(n))
P
  printf 'time_s,len_bytes\n8590,1514\n0,60\n4000,590\n' >ooo.csv
  for f in ooo.pcap ooo.csv; do
    run "$BIN" trace-info $f
    check "$f: exit 0" [ "$rc" = 0 ]
    check "$f: duration_s 8590 (was 0)" grep -qE '^duration_s +8590$' out
    run "$BIN" trace-info $f --json
    check "$f --json: duration_s 8590" /usr/bin/python3 -c 'import json,sys; sys.exit(0 if json.load(open("out"))["duration_s"] == 8590 else 1)'
  done
  printf 'time_s,len_bytes\n2.5,1514\n3.5,60\n' >inorder.csv
  run "$BIN" trace-info inorder.csv
  check "in order: duration_s 1" grep -qE '^duration_s +1$' out
  ;;

trace-empty)
  /usr/bin/python3 -c 'import struct; open("empty.pcap", "wb").write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))'
  printf 'time_s,len_bytes\n' >empty.csv
  printf 'len_bytes\n' >empty-untimed.csv
  note="no packets: duration_s is 0 and the len_bytes figures are null"
  for f in empty.pcap empty.csv; do
    run "$BIN" trace-info $f
    check "$f: exit 0" [ "$rc" = 0 ]
    check "$f: packets 0" grep -qE '^packets +0$' out
    check "$f: duration_s 0 (was left out)" grep -qE '^duration_s +0$' out
    for k in min median p99 max mean share_le_128 share_ge_1400 share_above_1514; do
      check "$f: len_bytes.$k null (was left out)" grep -qE "^len_bytes\.$k +null$" out
    done
    check "$f: the note says why" grep -qE "^note +$note$" out
    cp out text.txt
    run "$BIN" trace-info $f --json
    /usr/bin/python3 - "$note" <<'P'
import json, sys
j = json.load(open("out"))
assert j["packets"] == 0 and j["bytes"] == 0 and j["duration_s"] == 0, j
assert j["len_bytes"] == {k: None for k in ["min", "median", "p99", "max", "mean", "share_le_128",
                                            "share_ge_1400", "share_above_1514"]}, j
assert j["note"] == sys.argv[1], j
P
    check "$f --json: the figures and the note" [ $? = 0 ]
    check "$f --json: the same figures and note as the text" /usr/bin/python3 "$CLI_DIR/text_is_json.py" text.txt out
  done
  # Without a time_s column there are no timestamps: no duration_s, as for a CSV with rows.
  run "$BIN" trace-info empty-untimed.csv
  check "untimed CSV: exit 0, no duration_s" [ "$rc" = 0 -a -z "$(grep '^duration_s' out)" ]
  check "untimed CSV: null lengths" grep -qE '^len_bytes\.median +null$' out
  check "untimed CSV: its note" grep -qE '^note +no packets: the len_bytes figures are null$' out
  ;;

*)
  echo "unknown part $PART"
  exit 2
  ;;
esac

echo "$pass passed, $fails failed"
[ "$fails" = 0 ]
