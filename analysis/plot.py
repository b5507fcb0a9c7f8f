#!/usr/bin/python3
"""vringsim plot: figures from a run directory (vringsim run --out) or a sweep
directory (vringsim sweep --out). Usually started by `vringsim plot`.

Exit codes as vringsim's: 0 figures written, 2 bad input (a file or column
missing, an empty sweep), 1 anything else.
"""

import argparse
import os
import sys

import matplotlib  # noqa: E402

matplotlib.use("Agg")  # headless: no display needed, the same pixels everywhere

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from vringsim_analysis.data import InputError, load  # noqa: E402
from vringsim_analysis.figures import FIGURES  # noqa: E402
from vringsim_analysis.save import save  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="vringsim plot", description=__doc__.splitlines()[0])
    ap.add_argument("input", help="run or sweep directory, or its runs.csv / results.csv")
    ap.add_argument("--out", required=True, help="directory for the figures")
    ap.add_argument("--format", default="png,svg", help="comma-separated: png, svg (default both)")
    args = ap.parse_args(argv)
    formats = [f for f in args.format.split(",") if f]
    bad = [f for f in formats if f not in ("png", "svg")]
    if bad or not formats:
        print(f"vringsim plot: --format: {','.join(bad) or '(none)'}: expected png and/or svg", file=sys.stderr)
        return 2
    try:
        data = load(args.input)
        figures = [f for make in FIGURES for f in make(data)]
    except InputError as e:
        print(e, file=sys.stderr)
        return 2
    for name, fig in figures:
        for path in save(fig, args.out, name, formats):
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
