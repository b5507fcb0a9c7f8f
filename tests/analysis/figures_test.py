#!/usr/bin/python3
"""Every figure kind, drawn from every shipped sweep (shortened), a random
sweep and a run directory, and checked the way a reader would look at it:
tick labels that never overlap, category labels and legend entries that are
unique, no absolute path in a title, no number printed with more digits
than it has meaning, and every kind in FIGURES drawn at least once.

Usage: figures_test.py VRINGSIM SOURCE_DIR  (run by ctest with Debian's /usr/bin/python3)
"""

import glob
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

import matplotlib

matplotlib.use("Agg")

BIN = os.path.abspath(sys.argv.pop(1)) if len(sys.argv) > 2 else "build/vringsim"
SRC = os.path.abspath(sys.argv.pop(1)) if len(sys.argv) > 1 else "."
sys.path.insert(0, os.path.join(SRC, "analysis"))

import matplotlib.pyplot as plt  # noqa: E402

from vringsim_analysis import figures as F  # noqa: E402
from vringsim_analysis.data import load  # noqa: E402

# Short runs: the figures' layout is under test, not the figures' values.
SHORT = ["--set", "stop.time_s=0.02", "--set", "measure.warmup_s=0.005"]
LONG_NUMBER = re.compile(r"\d*\.\d{5,}|\d{8,}")  # 0.123456789 or 12345678901: digits nobody reads
ABSOLUTE_PATH = re.compile(r"(^|[\s(])/[\w.-]+/")


def vringsim(*args):
    return subprocess.run([BIN, *args], capture_output=True, text=True, check=True)


def overlapping(labels, renderer):
    """Pairs of visible, non-empty tick labels whose boxes overlap."""
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in labels
             if t.get_visible() and t.get_text().strip()]
    return [(a, b) for (a, ba), (b, bb) in itertools.combinations(boxes, 2)
            if ba.overlaps(bb) and ba.width > 0 and bb.width > 0]


class Figures(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="vringsim-figures-")
        cls.inputs = {}
        for spec in sorted(glob.glob(os.path.join(SRC, "scenarios/sweeps/*.json"))):
            name = os.path.splitext(os.path.basename(spec))[0]
            out = os.path.join(cls.tmp, "sweep-" + name)
            # --override-axis: the capacity sweep has stop.time_s as an axis,
            # which SHORT shortens on purpose (without the option the sweep refuses it).
            vringsim("sweep", spec, "--out", out, "--jobs", "2", "--override-axis", *SHORT)
            cls.inputs["sweep " + name] = out
        # A random sweep: ring sizes drawn from a list, rates from a range (16-digit values).
        base = os.path.join(SRC, "scenarios/seed-2008/mergeable.json")
        spec = {"name": "random", "base": base, "combine": "random", "samples": 12, "seed": 9,
                "axes": [{"key": "ring.size", "values": [64, 128, 256, 512, 1024, 2048, 4096]},
                         {"key": "traffic.rate_gbps", "min": 0.5, "max": 4},
                         {"key": "policy.name", "values": ["max-buffer", "mergeable"]}]}
        path = os.path.join(cls.tmp, "random.json")
        with open(path, "w") as f:
            json.dump(spec, f)
        out = os.path.join(cls.tmp, "sweep-random")
        vringsim("sweep", path, "--out", out, "--jobs", "2", *SHORT)
        cls.inputs["sweep random"] = out
        # Run directories: the six 2008 policies, and the capacity scenarios (topologies).
        out = os.path.join(cls.tmp, "runs-2008")
        vringsim("run", *sorted(glob.glob(os.path.join(SRC, "scenarios/seed-2008/*.json"))), "--out", out, *SHORT)
        cls.inputs["runs seed-2008"] = out
        out = os.path.join(cls.tmp, "runs-capacity")
        vringsim("run", *sorted(glob.glob(os.path.join(SRC, "scenarios/capacity/8g-*.json"))), "--out", out, *SHORT)
        cls.inputs["runs capacity"] = out
        cls.drawn = {}  # input -> [(name, fig)]
        for what, path in cls.inputs.items():
            data = load(path)
            cls.drawn[what] = [f for make in F.FIGURES for f in make(data)]

    @classmethod
    def tearDownClass(cls):
        for figs in cls.drawn.values():
            for _, fig in figs:
                plt.close(fig)
        shutil.rmtree(cls.tmp)

    def each_figure(self):
        for what, figs in self.drawn.items():
            for name, fig in figs:
                fig.canvas.draw()
                yield f"{what}: {name}", fig, fig.canvas.get_renderer()

    def test_every_figure_kind_is_drawn_from_the_shipped_inputs(self):
        kinds = {n.split("_")[0] if n.startswith("timeseries") else n
                 for figs in self.drawn.values() for n, _ in figs}
        wanted = {make.__name__ for make in F.FIGURES}
        self.assertEqual(wanted - kinds, set())

    def test_tick_labels_never_overlap(self):
        for where, fig, r in self.each_figure():
            for i, ax in enumerate(fig.axes):
                for axis in (ax.xaxis, ax.yaxis):
                    labels = axis.get_majorticklabels() + axis.get_minorticklabels()
                    with self.subTest(figure=where, axes=i, axis=axis.axis_name):
                        self.assertEqual(overlapping(labels, r), [])

    def test_category_labels_and_legend_entries_are_unique(self):
        for where, fig, _ in self.each_figure():
            for i, ax in enumerate(fig.axes):
                with self.subTest(figure=where, axes=i):
                    if where.endswith(("throughput_by_point", "drops_by_reason")):
                        ticks = [t.get_text() for t in ax.get_yticklabels()]
                        self.assertEqual(len(ticks), len(set(ticks)), ticks)
                        for t in ticks:  # "count=4, count=8" names two axes alike
                            names = re.findall(r"([\w.]+)=", t)
                            self.assertEqual(len(names), len(set(names)), t)
                    legend = ax.get_legend()
                    if legend is not None:
                        texts = [t.get_text() for t in legend.get_texts()]
                        self.assertEqual(len(texts), len(set(texts)), texts)

    def test_no_absolute_path_and_no_long_numbers_in_text(self):
        for where, fig, _ in self.each_figure():
            texts = [fig._suptitle.get_text()] if fig._suptitle else []
            for ax in fig.axes:
                texts += [ax.get_title(loc) for loc in ("left", "center", "right")]
                texts += [ax.get_xlabel(), ax.get_ylabel()]
                texts += [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
                if ax.get_legend() is not None:
                    texts += [t.get_text() for t in ax.get_legend().get_texts()]
            for text in texts:
                with self.subTest(figure=where, text=text):
                    self.assertIsNone(ABSOLUTE_PATH.search(text))
                    self.assertNotIn(self.tmp, text)
                    self.assertIsNone(LONG_NUMBER.search(text))

    def test_the_random_sweep_is_drawn_as_points_not_one_line_per_sample(self):
        fig = dict(self.drawn["sweep random"])["throughput_vs_ring_size"]
        texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        self.assertEqual(sorted(t.split(" ")[0] for t in texts), ["max-buffer", "mergeable"])

    def test_capacity_has_memory_throughput_and_drops_with_the_offered_load(self):
        fig = dict(self.drawn["sweep capacity"])["capacity"]
        self.assertEqual(len(fig.axes), 3)
        self.assertIn("offered load", [line.get_label() for line in fig.axes[1].get_lines()])
        self.assertIn("% of arrivals", fig.axes[2].get_ylabel())

    def test_time_series_has_a_row_per_run_and_whole_numbers_for_frames(self):
        figs = dict(self.drawn["runs seed-2008"])
        fig = figs["timeseries"]
        self.assertEqual(len(fig.axes), 6 * 3)
        tap = fig.axes[2]
        for t in tap.get_yticklabels():
            if t.get_text():
                self.assertRegex(t.get_text(), r"^[\d,]+$")


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
