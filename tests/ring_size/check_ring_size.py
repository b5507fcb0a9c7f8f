#!/usr/bin/python3
"""vringsim ring-size: the computed knee against the simulated one.

- scenarios/latency/ring-knee.json, worked by hand: frames every g = 10 us,
  an interrupt latency of 100 us, a refill per buffer, no CPU cost. The ring
  must hold 100 us / 10 us = 10 one-buffer slots (docs/model.md 4b); the
  command must compute 10 (to 1%), and the simulated knee must be 16 (8
  slots starve, 16 do not).
- The six 2008 scenarios without their era's latencies, where the guest's
  CPU is saturated: the knee is
  the ring whose rounds carry 100 x rate x the guest's fixed cost per round
  (interrupt, poll, kick). The simulated knee (the first size within 1% of
  the best throughput) must fall within one power of two of it.
- A bad --sizes is bad input: exit 2, one line.

Usage: check_ring_size.py VRINGSIM SOURCE_DIR hand-case|2008
  hand-case: the case worked by hand and the bad --sizes (the sanitizer
  preset runs only this: the 2008 runs take minutes there);
  2008: the six 2008 scenarios.
"""
import csv
import os
import re
import subprocess
import sys
import tempfile

binary, source = sys.argv[1], sys.argv[2]
mode = sys.argv[3] if len(sys.argv) > 3 else ""
if mode not in ("hand-case", "2008"):
    sys.exit("usage: check_ring_size.py VRINGSIM SOURCE_DIR hand-case|2008")
failures = []


def ring_size(scenario, *args):
    p = subprocess.run([binary, "ring-size", os.path.join(source, scenario), "--jobs", "2", *args],
                       capture_output=True, text=True)
    if p.returncode != 0:
        failures.append(f"{scenario}: exit {p.returncode}: {p.stderr.strip()}")
        return None, None, p
    m = re.search(r"computed knee: ([0-9.e+]+) slots = ([0-9.e+]+) ring entries", p.stdout)
    knee_rows = [line for line in p.stdout.splitlines() if "<- simulated knee" in line]
    if not m or len(knee_rows) != 1:
        failures.append(f"{scenario}: no computed or simulated knee in:\n{p.stdout}")
        return None, None, p
    return float(m.group(2)), int(knee_rows[0].split()[0]), p


def hand_case():
    with tempfile.TemporaryDirectory() as tmp:
        check_hand_case(os.path.join(tmp, "knee.csv"))
    bad = subprocess.run([binary, "ring-size", os.path.join(source, "scenarios/latency/ring-knee.json"), "--sizes",
                          "8,banana"], capture_output=True, text=True)
    if bad.returncode != 2 or len(bad.stderr.strip().splitlines()) != 1 or "banana" not in bad.stderr:
        failures.append(f"--sizes 8,banana: exit {bad.returncode}, stderr {bad.stderr!r}")


def check_hand_case(out):
    computed, simulated, _ = ring_size("scenarios/latency/ring-knee.json", "--sizes", "4,8,16,32,64", "--csv", out)
    if computed is None:
        return
    if abs(computed - 10) > 0.1:
        failures.append(f"ring-knee: computed {computed} entries, expected 10 (100 us / 10 us)")
    if simulated != 16:
        failures.append(f"ring-knee: simulated knee {simulated}, expected 16")
    rows = list(csv.DictReader(open(out)))
    if [int(r["ring_size"]) for r in rows] != [4, 8, 16, 32, 64]:
        failures.append(f"ring-knee: CSV rows {[r['ring_size'] for r in rows]}")
    stalls = {int(r["ring_size"]): int(r["stalls"]) for r in rows}
    if not (stalls[8] > 0 and stalls[16] == 0):
        failures.append(f"ring-knee: stalls by size {stalls}: 8 must starve, 16 must not")
    print(f"ring-knee: computed {computed:g} entries, simulated knee {simulated}")


def seed_2008():
    sizes = "32,64,128,256,512,1024,2048,4096"
    # The regime the computed knee models: a saturated guest CPU and no
    # latency. (On their era's host, latencies and QEMU's notify-on-empty,
    # max-buffer, hdr-in-data and larger-ring still gain 3 % from 2048 to
    # 4096 entries, past the computed 1,764: an open finding of issue 31.)
    cpu_bound = ["--set", "costs.preset=", "--set", "host.notify_on_empty=false"]
    for policy in ["mergeable", "max-buffer", "small", "hdr-in-data", "coalesced", "larger-ring"]:
        computed, simulated, _ = ring_size(f"scenarios/seed-2008/{policy}.json", "--sizes", sizes, *cpu_bound)
        if computed is None:
            continue
        print(f"seed-2008/{policy}: computed {computed:.4g} entries, simulated knee {simulated}")
        if not (computed / 2 <= simulated <= computed * 2):
            failures.append(f"seed-2008/{policy}: simulated knee {simulated} not within a factor 2 of {computed:.4g}")


if mode == "hand-case":
    hand_case()
else:
    seed_2008()

for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
