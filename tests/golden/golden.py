#!/usr/bin/python3
"""Golden outputs of every shipped scenario, as SimGrid's tesh files do.

    golden.py check VRINGSIM SCENARIO     run SCENARIO, compare with its golden file
    golden.py table VRINGSIM NAME GLOB... run the files together, compare the printed table
    golden.py update VRINGSIM             regenerate every golden file (scripts/update-golden.sh)

A scenario's golden file, tests/golden/<scenario path>, holds its summary.json
without the provenance section (version, scenario hash and path change with
every edit that moves no figure), written canonically (sorted keys, one value
per line) so that a diff in review shows exactly which figures a change moved,
and the SHA-256 of its timeseries.csv (and, with a topology, of its
guests.csv and queues.csv). Values are compared exactly: the same
doubles print the same digits. Run from the repository root.
"""
import glob
import hashlib
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GOLDEN = os.path.join(ROOT, "tests", "golden")
# The 2008 table (README), its TCP twin and the linux-6 table: the text `vringsim run` prints.
TABLES = {
    "seed-2008": "scenarios/seed-2008/*.json",
    "seed-2008-tcp": "scenarios/seed-2008-tcp/*.json",
    "linux-6": "scenarios/linux-6/*.json",
}


def shipped_scenarios():
    """The files ctest runs as scenario tests (tests/CMakeLists.txt)."""
    out = []
    for path in sorted(glob.glob("scenarios/**/*.json", recursive=True)):
        if path.startswith(("scenarios/sweeps/", "scenarios/calibration/2008-", "scenarios/calibration/latency-",
                               "scenarios/calibration/today-x86-")):
            continue
        out.append(path)
    return out


def canonical(doc):
    return json.dumps(doc, indent=1, sort_keys=True) + "\n"


def produce(vringsim, scenario):
    """Runs one scenario; returns its golden text."""
    with tempfile.TemporaryDirectory(prefix="vringsim-golden-") as out:
        proc = subprocess.run([vringsim, "run", scenario, "--out", out], cwd=ROOT, capture_output=True, text=True)
        if proc.returncode != 0:
            sys.exit(f"{scenario}: vringsim run exited {proc.returncode}\n{proc.stderr}")
        (name,) = [d for d in os.listdir(out) if os.path.isdir(os.path.join(out, d))]
        with open(os.path.join(out, name, "summary.json")) as f:
            summary = json.load(f)
        with open(os.path.join(out, name, "timeseries.csv"), "rb") as f:
            ts = hashlib.sha256(f.read()).hexdigest()
        golden = {"summary": summary, "timeseries_csv_sha256": ts}
        # A run with a topology: each guest's and queue's figures, one row each.
        for extra in ("guests.csv", "queues.csv"):
            path = os.path.join(out, name, extra)
            if os.path.exists(path):
                with open(path, "rb") as f:
                    golden[extra.replace(".", "_") + "_sha256"] = hashlib.sha256(f.read()).hexdigest()
    summary.pop("provenance", None)
    return canonical(golden)


def table(vringsim, pattern):
    files = sorted(glob.glob(os.path.join(ROOT, pattern)))
    files = [os.path.relpath(f, ROOT) for f in files]
    proc = subprocess.run([vringsim, "run", *files], cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"{pattern}: vringsim run exited {proc.returncode}\n{proc.stderr}")
    return proc.stdout


def flat(doc, prefix=""):
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from flat(v, f"{prefix}.{k}" if prefix else k)
    else:
        yield prefix, doc


def compare(what, golden_path, actual):
    if not os.path.exists(golden_path):
        sys.exit(f"{what}: no golden file {os.path.relpath(golden_path, ROOT)} (run scripts/update-golden.sh)")
    with open(golden_path) as f:
        expected = f.read()
    if expected == actual:
        print(f"{what}: matches {os.path.relpath(golden_path, ROOT)}")
        return 0
    print(f"{what}: differs from {os.path.relpath(golden_path, ROOT)}")
    try:  # name the figures that moved
        e, a = dict(flat(json.loads(expected))), dict(flat(json.loads(actual)))
        for k in sorted(set(e) | set(a)):
            if e.get(k, "<absent>") != a.get(k, "<absent>"):
                print(f"  {k}: golden {e.get(k, '<absent>')!r}, now {a.get(k, '<absent>')!r}")
    except ValueError:
        import difflib
        sys.stdout.writelines(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True), "golden", "now"))
    return 1


def main(argv):
    if len(argv) >= 3 and argv[0] == "check":
        vringsim, scenario = os.path.abspath(argv[1]), argv[2]
        return compare(scenario, os.path.join(GOLDEN, scenario), produce(vringsim, scenario))
    if len(argv) == 3 and argv[0] == "table":
        vringsim, name = os.path.abspath(argv[1]), argv[2]
        return compare(f"table {name}", os.path.join(GOLDEN, name + ".table.txt"), table(vringsim, TABLES[name]))
    if len(argv) == 2 and argv[0] == "update":
        vringsim = os.path.abspath(argv[1])
        os.chdir(ROOT)
        for scenario in shipped_scenarios():
            path = os.path.join(GOLDEN, scenario)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(produce(vringsim, scenario))
            print(f"wrote {os.path.relpath(path, ROOT)}")
        for name, pattern in TABLES.items():
            path = os.path.join(GOLDEN, name + ".table.txt")
            with open(path, "w") as f:
                f.write(table(vringsim, pattern))
            print(f"wrote {os.path.relpath(path, ROOT)}")
        return 0
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
