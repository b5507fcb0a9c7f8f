#!/usr/bin/python3
"""vringsim schema against the files it describes (Debian's python3-jsonschema).

Each schema is a valid draft 2020-12 schema; every shipped scenario, sweep and
calibration file validates against its own; bad inputs the loader refuses by
type, range or key are refused by the schema too.

Usage: check_schema.py VRINGSIM SOURCE_DIR
"""
import glob
import json
import os
import subprocess
import sys

from jsonschema import Draft202012Validator

binary, source = sys.argv[1], sys.argv[2]
failures = []


def schema(kind):
    out = subprocess.run([binary, "schema", kind], check=True, capture_output=True, text=True).stdout
    s = json.loads(out)
    Draft202012Validator.check_schema(s)
    if s.get("$schema") != "https://json-schema.org/draft/2020-12/schema":
        failures.append(f"{kind}: $schema is {s.get('$schema')}")
    return Draft202012Validator(s)


validators = {k: schema(k) for k in ("scenario", "sweep", "calibration")}


def kind_of(doc):
    if "axes" in doc:
        return "sweep"
    if "points" in doc and "parameters" in doc:
        return "calibration"
    if doc.get("kind") == "vringsim-cost-preset":
        return None  # written by `vringsim calibrate --out`, not an input the schema covers
    return "scenario"


counts = {"scenario": 0, "sweep": 0, "calibration": 0}
for path in sorted(glob.glob(os.path.join(source, "scenarios", "**", "*.json"), recursive=True)):
    with open(path) as f:
        doc = json.load(f)
    kind = kind_of(doc)
    if kind is None:
        continue
    counts[kind] += 1
    for e in validators[kind].iter_errors(doc):
        failures.append(f"{path}: /{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}")

# Refused by the loader by type, range, choice or key: refused by the schema.
refused = [
    ("scenario", {"name": "x", "ring": {"size": 65536}}),
    ("scenario", {"name": "x", "ring": {"sise": 256}}),
    ("scenario", {"name": "x", "ring": {"size": "256"}}),
    ("scenario", {"name": "x", "policy": {"name": "mergable"}}),
    ("scenario", {"ring": {"size": 256}}),  # no name
    ("scenario", {"name": "x", "guest": {"page_alloc_failure_prob": 1.5}}),
    # Issue 34: the name's pattern and the feature names are the schema's too.
    ("scenario", {"name": "bad name!"}),
    ("scenario", {"name": "-x"}),
    ("scenario", {"name": "x" * 101}),
    ("scenario", {"name": "x", "virtio": {"features": ["MRG_RXBUFF"]}}),
    ("scenario", {"name": "x", "virtio": {"features_remove": ["NOPE"]}}),
    ("scenario", {"name": "x", "host": {"features": ["mrg_rxbuf"]}}),
    ("sweep", {"name": "s", "base": {}, "axes": []}),
    ("sweep", {"name": "s", "base": {}, "axes": [{"key": "ring.size", "values": [256]}], "combine": "cross"}),
    ("calibration", {"parameters": {}, "points": []}),
]
for kind, doc in refused:
    if validators[kind].is_valid(doc):
        failures.append(f"{kind} schema accepts {json.dumps(doc)}, which vringsim refuses")
for path in ("scenario-ring-too-large.json", "scenario-unknown-key.json", "scenario-wrong-type.json"):
    with open(os.path.join(source, "tests", "bad-inputs", path)) as f:
        if validators["scenario"].is_valid(json.load(f)):
            failures.append(f"tests/bad-inputs/{path}: the scenario schema accepts it")

if min(counts.values()) == 0:
    failures.append(f"too few files checked: {counts}")
for m in failures:
    print("FAIL:", m)
print(f"{counts['scenario']} scenarios, {counts['sweep']} sweeps, {counts['calibration']} calibration files "
      f"validated; {len(refused) + 3} bad inputs refused; {len(failures)} failures")
sys.exit(1 if failures else 0)
