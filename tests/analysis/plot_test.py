#!/usr/bin/python3
"""`vringsim plot` end to end: a small generated sweep and a run directory
become the expected figures (valid PNG and SVG, identical bytes when drawn
twice); bad input exits 2 and leaves no figure behind.

Usage: plot_test.py VRINGSIM  (run by ctest with Debian's /usr/bin/python3)
"""

import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

os.umask(0o022)

BIN = os.path.abspath(sys.argv.pop(1)) if len(sys.argv) > 1 else "build/vringsim"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != PNG_MAGIC or head[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", head[16:24])


def read_all(directory):
    out = {}
    for name in os.listdir(directory):
        with open(os.path.join(directory, name), "rb") as f:
            out[name] = f.read()
    return out


def vringsim(*args, check=True):
    return subprocess.run([BIN, *args], capture_output=True, text=True, check=check)


class Plot(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="vringsim-plot-")
        base = {"name": "small", "stop": {"time_s": 0.04}, "measure": {"warmup_s": 0.01},
                "traffic": {"arrival": "poisson", "rate_gbps": 3}}
        sweep = {"name": "small", "base": base, "combine": "grid", "replications": 2, "seed": 5,
                 "axes": [{"key": "policy.name", "values": ["max-buffer", "mergeable"]},
                          {"key": "ring.size", "values": [256, 512]}]}
        cls.spec = os.path.join(cls.tmp, "sweep.json")
        with open(cls.spec, "w") as f:
            json.dump(sweep, f)
        cls.sweep_dir = os.path.join(cls.tmp, "sweep")
        vringsim("sweep", cls.spec, "--out", cls.sweep_dir, "--jobs", "2")
        scen = dict(base, name="one", policy={"name": "mergeable"})
        cls.scenario = os.path.join(cls.tmp, "one.json")
        with open(cls.scenario, "w") as f:
            json.dump(scen, f)
        cls.run_dir = os.path.join(cls.tmp, "runs")
        vringsim("run", cls.scenario, "--out", cls.run_dir)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def check_figures(self, out, names):
        for n in names:
            png, svg = os.path.join(out, n + ".png"), os.path.join(out, n + ".svg")
            self.assertTrue(os.path.getsize(png) > 1000, png)
            size = png_size(png)
            self.assertIsNotNone(size, f"{png} is not a PNG")
            self.assertGreater(size[0], 300)
            self.assertGreater(size[1], 200)
            self.assertEqual(ET.parse(svg).getroot().tag, "{http://www.w3.org/2000/svg}svg")
            for f in (png, svg):  # readable by others as any file the user writes (umask 022 here)
                self.assertEqual(os.stat(f).st_mode & 0o777, 0o644, f)
        leftovers = [f for f in os.listdir(out) if f.startswith(".")]
        self.assertEqual(leftovers, [], "temporary files left behind")

    def test_sweep_figures_are_complete_and_deterministic(self):
        out = os.path.join(self.tmp, "fig-sweep")
        r = vringsim("plot", self.sweep_dir, "--out", out)
        names = ["memory_vs_capacity", "throughput_vs_ring_size", "throughput_by_point", "drops_by_reason",
                 "buffers_per_packet"]
        self.check_figures(out, names)
        self.assertEqual(sorted(os.listdir(out)), sorted(n + e for n in names for e in (".png", ".svg")))
        first = read_all(out)
        vringsim("plot", os.path.join(self.sweep_dir, "results.csv"), "--out", out)
        again = read_all(out)
        self.assertEqual(first, again, "the same data must give the same bytes")
        self.assertEqual(len(r.stdout.splitlines()), 10)

    def test_a_capacity_sweep_gets_memory_and_throughput_against_guests(self):
        base = {"name": "cap", "stop": {"time_s": 0.03}, "measure": {"warmup_s": 0.01},
                "traffic": {"arrival": "poisson", "rate_gbps": 4, "link_gbps": 40, "synthetic": {"flows": 1024}},
                "topology": {"cores": {"host": {"count": 2}}, "guests": {"vm": {"count": 2}}}}
        sweep = {"name": "cap", "base": base, "combine": "grid", "replications": 1, "seed": 3,
                 "axes": [{"key": "topology.guests.vm.count", "values": [2, 4]},
                          {"key": "topology.guests.vm.queues", "values": [1, 2]}]}
        spec = os.path.join(self.tmp, "cap.json")
        with open(spec, "w") as f:
            json.dump(sweep, f)
        sweep_dir = os.path.join(self.tmp, "cap-sweep")
        vringsim("sweep", spec, "--out", sweep_dir, "--jobs", "2")
        out = os.path.join(self.tmp, "fig-cap")
        vringsim("plot", sweep_dir, "--out", out)
        self.check_figures(out, ["capacity"])
        svg = open(os.path.join(out, "capacity.svg"), encoding="utf-8").read()
        for text in ("queues/guest 1", "queues/guest 2", "guests on the host"):
            self.assertIn(text, svg)
        # Without a topology there is no capacity figure.
        plain = os.path.join(self.tmp, "fig-plain")
        vringsim("plot", self.sweep_dir, "--out", plain)
        self.assertFalse(os.path.exists(os.path.join(plain, "capacity.png")))

    def test_run_directory_gives_time_series(self):
        out = os.path.join(self.tmp, "fig-run")
        vringsim("plot", self.run_dir, "--out", out, "--format", "png,svg")
        self.check_figures(out, ["memory_vs_capacity", "drops_by_reason", "buffers_per_packet", "timeseries"])

    def test_missing_columns_exit_2_and_write_nothing(self):
        bad = os.path.join(self.tmp, "bad")
        shutil.copytree(self.sweep_dir, bad)
        with open(os.path.join(bad, "aggregate.csv")) as f:
            lines = f.read().splitlines()
        cols = lines[0].split(",")
        keep = [i for i, c in enumerate(cols) if not c.startswith("throughput.delivered_gbps")]
        with open(os.path.join(bad, "aggregate.csv"), "w") as f:
            for line in lines:
                cells = line.split(",")
                f.write(",".join(cells[i] for i in keep) + "\n")
        out = os.path.join(self.tmp, "fig-bad")
        r = vringsim("plot", bad, "--out", out, check=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn("aggregate.csv: missing column(s) throughput.delivered_gbps.mean", r.stderr)
        self.assertFalse(os.path.exists(out))

    def test_an_empty_sweep_and_a_wrong_path_exit_2(self):
        empty = os.path.join(self.tmp, "empty")
        os.makedirs(empty)
        with open(os.path.join(empty, "results.csv"), "w") as f:
            f.write("point_id,rep,seed\n")
        r = vringsim("plot", empty, "--out", os.path.join(self.tmp, "x"), check=False)
        self.assertEqual((r.returncode, r.stderr.strip()), (2, os.path.join(empty, "results.csv") + ": no rows"))
        r = vringsim("plot", os.path.join(self.tmp, "nowhere"), "--out", os.path.join(self.tmp, "x"), check=False)
        self.assertEqual(r.returncode, 2)
        r = vringsim("plot", self.sweep_dir, "--out", os.path.join(self.tmp, "x"), "--format", "gif", check=False)
        self.assertEqual(r.returncode, 2)


if __name__ == "__main__":
    unittest.main(verbosity=1)
