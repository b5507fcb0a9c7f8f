#!/usr/bin/python3
"""Figures a reviewer would accept (issue 34): every figure kind drawn from the
shipped run sets, shortened, and checked for what can be checked on the drawn
figure (fig.canvas.draw(), then the renderer's extents):

- no text overlaps another (tick labels within the view, titles, axis labels,
  annotations, legend entries, footnotes), and no text runs into a legend;
- no axis has a degenerate range: a positive span, at least two tick labels on
  a numeric axis, no tick label twice, no "-0";
- no legend has more entries than distinguishable styles (colour, line style,
  marker, fill, hatch, width, alpha);
- every axis label carries a unit in parentheses, and every numeric axis has a
  label (a time axis may take it from the panel below);
- points not in steady state (summary measure.steady false) are marked in every
  figure that shows measured results, and not elsewhere;
- and per figure what the issue found: memory_vs_capacity keeps the 18.9 MB
  big-packets-with-indirect point among the 36 linux-6 runs and draws totals
  for a capacity run; buffers_per_packet never reuses a colour nor draws a
  sliver; a flat series is drawn flat, on non-negative ranges shared down a
  column, with the tap limit, and no moving mean crosses an idle gap
  diagonally; capacity's memory panel has one legend entry per line.

Run sets (generated once per run of this file into a temporary directory, 0.02
simulated seconds each): one run (seed-2008/mergeable), 6 runs (seed-2008), 36
runs (linux-6), a sweep (sweeps/ci), the capacity scenarios as a run set and the
capacity sweep, and one sparse run whose idle samples are skipped.

Usage: review_test.py VRINGSIM SOURCE_DIR  (run by ctest with Debian's /usr/bin/python3)
"""

import glob
import itertools
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
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch, Rectangle  # noqa: E402

from vringsim_analysis import figures as F  # noqa: E402
from vringsim_analysis.data import load  # noqa: E402

SHORT = ["--set", "stop.time_s=0.02", "--set", "measure.warmup_s=0.005"]
MiB = 1024 * 1024
UNIT = re.compile(r"\(([^()]*)\)")
UNIT_WORDS = re.compile(r"%|MiB|Gb/s|frames|packets|count|entries|(^|[\s,])s($|[\s,])")
NUMBER = re.compile(r"^[\u2212\-]?[\d,]*\.?\d+$")

TMP = None
INPUTS = {}  # name -> directory
DATA = {}  # name -> RunSet | SweepSet
DRAWN = {}  # (name, figure function) -> [(figure name, fig)]


def vringsim(*args):
    return subprocess.run([BIN, *args], capture_output=True, text=True, check=True)


def scenarios(pattern):
    return sorted(glob.glob(os.path.join(SRC, "scenarios", pattern)))


def setUpModule():
    global TMP
    TMP = tempfile.mkdtemp(prefix="vringsim-review-")

    def out(name):
        INPUTS[name] = os.path.join(TMP, name.replace(" ", "-"))
        return INPUTS[name]

    vringsim("run", os.path.join(SRC, "scenarios/seed-2008/mergeable.json"), "--out", out("one run"), *SHORT)
    vringsim("run", *scenarios("seed-2008/*.json"), "--out", out("6 runs"), *SHORT)
    vringsim("run", *scenarios("linux-6/*.json"), "--out", out("36 runs"), "--jobs", "2", *SHORT)
    vringsim("sweep", os.path.join(SRC, "scenarios/sweeps/ci.json"), "--out", out("sweep"), "--jobs", "2",
             "--override-axis", *SHORT)
    vringsim("run", *scenarios("capacity/*.json"), "--out", out("capacity runs"), "--jobs", "2", *SHORT)
    vringsim("sweep", os.path.join(SRC, "scenarios/sweeps/capacity.json"), "--out", out("capacity sweep"),
             "--jobs", "2", "--override-axis", *SHORT)
    # A frame every 25 ms or so: idle stretches between them are written as their first and last rows
    # (measure.skip_idle_samples), and the run ends off the sampling grid, once its 9 frames are delivered.
    vringsim("run", os.path.join(SRC, "scenarios/seed-2008/mergeable.json"), "--out", out("idle run"),
             "--set", "traffic.rate_gbps=0.0005", "--set", "traffic.arrival=poisson", "--set", "stop.time_s=0.3",
             "--set", "stop.packets=9")
    for name, path in INPUTS.items():
        DATA[name] = load(path)


def tearDownModule():
    for figs in DRAWN.values():
        for _, fig in figs:
            plt.close(fig)
    if TMP:
        shutil.rmtree(TMP)


def drawn(name, make):
    """The figures `make` draws from input `name`, drawn (fig.canvas.draw()) once."""
    if (name, make) not in DRAWN:
        figs = make(DATA[name])
        for _, fig in figs:
            fig.canvas.draw()
        DRAWN[(name, make)] = figs
    return DRAWN[(name, make)]


# ---- what the renderer says ---------------------------------------------------------------------------

def drawn_ticks(axis):
    """The tick labels an axis draws: visible, non-empty, at ticks inside the view."""
    if not axis.get_visible():
        return []
    return [label for tick in axis._update_ticks() if tick.get_visible()
            for label in (tick.label1, tick.label2) if label.get_visible() and label.get_text().strip()]


def texts_of(fig):
    """Every text the figure draws, as (where, Text), legend entries included."""
    out = []
    for i, ax in enumerate(fig.axes):
        if not ax.get_visible():
            continue
        own = [("title", ax.title), ("title", ax._left_title), ("title", ax._right_title),
               ("x label", ax.xaxis.label), ("y label", ax.yaxis.label)]
        own += [("x tick", t) for t in drawn_ticks(ax.xaxis)] + [("y tick", t) for t in drawn_ticks(ax.yaxis)]
        own += [("text", t) for t in ax.texts]
        legend = ax.get_legend()
        if legend is not None:
            own += [("legend", t) for t in legend.get_texts()] + [("legend", legend.get_title())]
        out += [(f"axes {i} {kind}", t) for kind, t in own]
    out += [("suptitle" if t is fig._suptitle else "figure text", t) for t in fig.texts]  # the suptitle is one
    return [(w, t) for w, t in out if t.get_visible() and t.get_text().strip()]


def intersect(a, b, tolerance=0.5):
    """Boxes that share more than `tolerance` pixels both ways (touching is not overlapping)."""
    return min(a.x1, b.x1) - max(a.x0, b.x0) > tolerance and min(a.y1, b.y1) - max(a.y0, b.y0) > tolerance


def overlapping_texts(fig):
    r = fig.canvas.get_renderer()
    boxes = [(w, t.get_text(), t.get_window_extent(r)) for w, t in texts_of(fig)]
    found = [(f"{wa}: {ta!r}", f"{wb}: {tb!r}") for (wa, ta, a), (wb, tb, b) in itertools.combinations(boxes, 2)
             if intersect(a, b)]
    # A text that runs into a legend's box (a bar's label into the legend beside the axes).
    for i, ax in enumerate(fig.axes):
        legend = ax.get_legend()
        if legend is None:
            continue
        box = legend.get_frame().get_window_extent(r)
        found += [(f"{w}: {t!r}", f"axes {i} legend box") for w, t, b in boxes
                  if " legend" not in w and intersect(box, b)]
    return found


def categorical(axis):
    """An axis whose tick labels name categories (bars at 0, 1, 2 labelled 1, 2, 15), not positions."""
    for tick in axis._update_ticks():
        text = tick.label1.get_text().replace("\u2212", "-").replace(",", "")
        if not text.strip():
            continue
        try:
            if abs(float(text) - tick.get_loc()) > 1e-6 * max(1.0, abs(tick.get_loc())):
                return True
        except ValueError:
            return True
    return False


def degenerate_axes(fig):
    problems = []
    for i, ax in enumerate(fig.axes):
        if not ax.get_visible():
            continue
        for axis, (lo, hi) in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
            where = f"axes {i} {axis.axis_name}"
            if not (np.isfinite(lo) and np.isfinite(hi) and hi != lo):
                problems.append(f"{where}: range {lo}..{hi}")
            labels = [t.get_text() for t in drawn_ticks(axis)]
            numeric = [t for t in labels if NUMBER.match(t.replace("\u2212", "-"))]
            categories = categorical(axis)
            if numeric and len(set(numeric)) < 2 and not categories:  # one bar of buffer count 1 is no range
                problems.append(f"{where}: one tick label {numeric}")
            if len(set(labels)) != len(labels):
                problems.append(f"{where}: a tick label twice {labels}")
            if any(re.fullmatch(r"[\u2212\-]0(\.0*)?", t) for t in labels):
                problems.append(f"{where}: negative zero among {labels}")
    return problems


def style(handle):
    """What tells a legend entry's handle from another: colour, line style, marker, fill, hatch, width."""
    rgba = matplotlib.colors.to_rgba
    if isinstance(handle, Line2D):
        return ("line", rgba(handle.get_color(), handle.get_alpha()), str(handle.get_linestyle()),
                handle.get_marker(), rgba(handle.get_markerfacecolor()), round(handle.get_linewidth(), 2))
    if isinstance(handle, (Patch, Rectangle)):
        return ("patch", rgba(handle.get_facecolor()), rgba(handle.get_edgecolor()), handle.get_hatch())
    return (type(handle).__name__, id(handle))


def legend_problems(fig):
    problems = []
    for i, ax in enumerate(fig.axes):
        legend = ax.get_legend()
        if legend is None:
            continue
        handles = getattr(legend, "legend_handles", None) or legend.legendHandles
        texts = [t.get_text() for t in legend.get_texts()]
        styles = [style(h) for h in handles]
        if len(set(styles)) < len(texts):
            problems.append(f"axes {i}: {len(texts)} legend entries, {len(set(styles))} styles: {texts}")
    return problems


def unit_problems(fig):
    problems = []
    for i, ax in enumerate(fig.axes):
        for axis in (ax.xaxis, ax.yaxis):
            label = axis.label.get_text()
            if label.strip():
                units = UNIT.findall(label)
                if not any(UNIT_WORDS.search(u) for u in units):
                    problems.append(f"axes {i} {axis.axis_name} label without a unit: {label!r}")
        numeric_y = [t for t in drawn_ticks(ax.yaxis) if NUMBER.match(t.get_text().replace("\u2212", "-"))]
        if numeric_y and not ax.get_ylabel().strip():
            problems.append(f"axes {i}: numeric y axis without a label")
        numeric_x = [t for t in drawn_ticks(ax.xaxis) if NUMBER.match(t.get_text().replace("\u2212", "-"))]
        if numeric_x and not ax.get_xlabel().strip():
            # a shared time axis: labelled on another panel of the same column
            column = [o for o in fig.axes if abs(o.get_position().x0 - ax.get_position().x0) < 1e-6]
            if not any(o.get_xlabel().strip() for o in column):
                problems.append(f"axes {i}: numeric x axis without a label")
    return problems


def unsteady_marks(fig):
    return [a for a in fig.findobj(lambda a: (a.get_gid() or "").startswith("unsteady-"))]


def all_text(fig):
    return " ".join(t.get_text() for _, t in texts_of(fig))


def unsteady_runs(name):
    """Runs (a run set) or points (a sweep) not in steady state, from the CSV files themselves."""
    data = DATA[name]
    df = data.runs if hasattr(data, "runs") else data.results

    def flag(frame):
        out = pd.Series(False, index=frame.index)
        for col in ("measure.steady", "measure.valid"):
            if col in frame.columns:
                out |= frame[col].astype(str).str.lower().eq("false")
        return out

    if hasattr(data, "runs"):
        return set(df.loc[flag(df), "config.name"].astype(str))
    return set(df.loc[flag(df), "point_id"])


# ---- the checks every figure gets ---------------------------------------------------------------------

class Review:
    """The checks every figure kind gets (a mixin: each kind is a unittest.TestCase with its own inputs)."""
    make = None  # the figure function under test
    inputs = ()  # the run sets it is drawn from
    measured = True  # does the figure show measured results (then unsteady points must be marked)?

    def figures(self, names=None):
        for name in names or self.inputs:
            for fig_name, fig in drawn(name, type(self).make):
                yield f"{name}: {fig_name}", name, fig

    def test_is_drawn_from_each_input(self):
        for name in self.inputs:
            with self.subTest(input=name):
                self.assertTrue(drawn(name, type(self).make), f"{self.make.__name__} drew nothing from {name}")

    def test_no_text_overlaps_another(self):
        for where, _, fig in self.figures():
            with self.subTest(figure=where):
                self.assertEqual(overlapping_texts(fig), [])

    def test_no_axis_has_a_degenerate_range(self):
        for where, _, fig in self.figures():
            with self.subTest(figure=where):
                self.assertEqual(degenerate_axes(fig), [])

    def test_no_more_legend_entries_than_styles(self):
        for where, _, fig in self.figures():
            with self.subTest(figure=where):
                self.assertEqual(legend_problems(fig), [])

    def test_units_on_every_axis_label(self):
        for where, _, fig in self.figures():
            with self.subTest(figure=where):
                self.assertEqual(unit_problems(fig), [])

    def test_unsteady_points_are_marked(self):
        for where, name, fig in self.figures():
            with self.subTest(figure=where):
                marks = unsteady_marks(fig)
                if self.measured and unsteady_runs(name):
                    self.assertTrue(marks, "runs not in steady state, drawn like results")
                    self.assertIn("not in steady state", all_text(fig))
                elif not unsteady_runs(name):
                    self.assertEqual(marks, [])


# ---- each figure ------------------------------------------------------------------------------------

def lines_with_data(ax):
    """The lines that draw points (not the hollow overlays that mark unsteady ones)."""
    return [ln for ln in ax.get_lines() if not (ln.get_gid() or "").startswith("unsteady-") and len(ln.get_xdata())]


class MemoryVsCapacity(Review, unittest.TestCase):
    make = F.memory_vs_capacity
    inputs = ("one run", "6 runs", "36 runs", "sweep", "capacity runs", "capacity sweep")
    # Memory from the configuration (a full ring) is no measurement; only capacity totals (a measured peak)
    # can be unsteady: those are checked below.
    measured = False

    def points(self, name):
        fig = dict(drawn(name, F.memory_vs_capacity))["memory_vs_capacity"]
        return {(round(float(x), 6), round(float(y), 6)) for ln in lines_with_data(fig.axes[0])
                for x, y in zip(ln.get_xdata(), ln.get_ydata())}, fig

    def test_the_36_linux6_runs_keep_every_distinct_configuration(self):
        points, fig = self.points("36 runs")
        runs = DATA["36 runs"].runs
        expected = {(round(m / MiB, 6), round(float(c), 6)) for m, c in
                    zip(runs["memory.ring_pinned_bytes_full"], runs["ring.capacity_packets_mtu"])}
        self.assertEqual(points, expected)
        self.assertEqual(len(points), 4)  # big, big + indirect, mergeable split and packed
        self.assertIn(round(18955264 / MiB, 6), {x for x, _ in points})  # big packets with indirect: 18.9 MB
        ticks = [t.get_text() for t in drawn_ticks(fig.axes[0].xaxis)]
        self.assertGreaterEqual(len(ticks), 3, ticks)

    def test_a_capacity_run_set_draws_what_all_guests_pin(self):
        points, fig = self.points("capacity runs")
        runs = DATA["capacity runs"].runs
        totals = {round(m / MiB, 6) for m in runs["memory.pinned_bytes_total"]}
        self.assertEqual({x for x, _ in points}, totals)
        self.assertIn("all guests", fig.axes[0].get_xlabel())
        unsteady = runs[runs["measure.steady"].astype(str).str.lower() == "false"]
        self.assertTrue(unsteady_marks(fig))  # the peak is measured: its unsteady runs are hollow
        self.assertTrue(len(unsteady))

    def test_every_run_is_a_point_when_configurations_differ(self):
        points, _ = self.points("6 runs")
        self.assertEqual(len(points), 6)
        points, _ = self.points("one run")
        self.assertEqual(len(points), 1)


class BuffersPerPacket(Review, unittest.TestCase):
    make = F.buffers_per_packet
    inputs = ("one run", "6 runs", "36 runs", "sweep", "capacity runs", "capacity sweep")

    def test_no_colour_names_two_runs_and_no_bar_is_a_sliver(self):
        for where, _, fig in self.figures():
            ax = fig.axes[0]
            with self.subTest(figure=where):
                r = fig.canvas.get_renderer()
                bars = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_height() > 0]
                widths = [p.get_window_extent(r).width for p in bars]
                self.assertTrue(not widths or min(widths) >= 8, f"bars {min(widths or [0]):.1f} px wide")
                legend = ax.get_legend()
                if legend is not None:
                    handles = getattr(legend, "legend_handles", None) or legend.legendHandles
                    colours = [matplotlib.colors.to_rgb(h.get_edgecolor() if h.get_hatch() else h.get_facecolor())
                               for h in handles]
                    self.assertEqual(len(colours), len(set(colours)), [t.get_text() for t in legend.get_texts()])

    def test_36_runs_get_a_row_each(self):
        fig = dict(drawn("36 runs", F.buffers_per_packet))["buffers_per_packet"]
        rows = [t.get_text() for t in drawn_ticks(fig.axes[0].yaxis)]
        self.assertEqual(sorted(rows), sorted(DATA["36 runs"].runs["config.name"]))

    def test_unsteady_rows_are_marked_one_each(self):
        fig = dict(drawn("capacity runs", F.buffers_per_packet))["buffers_per_packet"]
        self.assertEqual(len(unsteady_marks(fig)), len(unsteady_runs("capacity runs")))


class Timeseries(Review, unittest.TestCase):
    make = F.timeseries
    inputs = ("one run", "6 runs", "36 runs", "capacity runs", "idle run")

    def panels(self, names=None):
        for where, name, fig in self.figures(names):
            rows = len(fig.axes) // 3
            for row in range(rows):
                for col in range(3):
                    yield where, name, fig, row, col, fig.axes[3 * row + col]

    @staticmethod
    def samples(ax):
        """The line of every sample (the faint one), and the moving mean (the other with more than 2 points)."""
        lines = [ln for ln in ax.get_lines() if len(ln.get_xdata()) > 2]
        raw = [ln for ln in lines if (ln.get_alpha() or 1) < 1]
        mean = [ln for ln in lines if (ln.get_alpha() or 1) == 1]
        return raw[0], mean[0]

    def test_flat_series_are_drawn_flat_on_non_negative_ranges(self):
        for where, _, _, row, col, ax in self.panels():
            raw, _ = self.samples(ax)
            y = np.asarray(raw.get_ydata(), dtype=float)
            lo, hi = ax.get_ylim()
            with self.subTest(figure=where, row=row, col=col):
                self.assertGreaterEqual(lo, 0)  # descriptors, MiB and frames are never negative
                span = y.max() - y.min()
                if span <= 0.01 * max(abs(y.max()), 1.0):  # flat, or 499 to 500: no more than 2% of the height
                    self.assertLessEqual(span / (hi - lo), 0.02, f"{y.min()}..{y.max()} on {lo}..{hi}")

    def test_each_column_shares_its_range_across_runs(self):
        for name in ("6 runs", "36 runs"):  # one queue each: comparable runs
            ranges = {}
            for where, _, _, row, col, ax in self.panels([name]):
                ranges.setdefault(col, set()).add(tuple(round(v, 9) for v in ax.get_ylim()))
            with self.subTest(input=name):
                self.assertEqual({c: len(r) for c, r in ranges.items()}, {0: 1, 1: 1, 2: 1})

    def test_the_tap_limit_is_drawn_and_a_count_above_it_explained(self):
        seen_over = False
        for where, name, fig, row, col, ax in self.panels(["6 runs", "36 runs"]):
            if col != 2:
                continue
            limits = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
            with self.subTest(figure=where, row=row):
                self.assertEqual(len(limits), 1)
                limit = float(limits[0].get_ydata()[0])
                self.assertEqual(limit, 500)
                raw, _ = self.samples(ax)
                if max(raw.get_ydata()) > limit:
                    seen_over = True
                    self.assertIn("*", ax.get_ylabel())
                    self.assertIn("vhost", all_text(fig))
        self.assertTrue(seen_over, "no linux-6 run (vhost) above its tap limit: the check checked nothing")

    def test_descriptors_not_free_say_what_they_include(self):
        for where, _, fig in self.figures():
            with self.subTest(figure=where):
                text = all_text(fig)
                self.assertNotIn("in use", text)
                self.assertIn("used and not yet collected", text)

    def test_no_moving_mean_crosses_an_idle_gap(self):
        data = DATA["idle run"]
        ts = next(iter(data.timeseries.values()))
        run = data.runs.iloc[0]
        self.assertLess(len(ts), int(run["measure.samples"]), "no idle samples were skipped")
        fig = dict(drawn("idle run", F.timeseries))["timeseries"]
        ax = fig.axes[1]  # posted MiB
        raw, mean = self.samples(ax)
        interval = float(run["config.measure.sample_interval_s"])
        # the mean is evaluated on the sampling grid, not between far-apart rows
        self.assertLessEqual(np.diff(mean.get_xdata()).max(), interval * 1.0001)
        # in the middle of the longest idle stretch it is the value held there, not a slope across it
        t, v = ts["time_s"].to_numpy(), ts["posted_bytes"].to_numpy() / MiB
        gaps = [(t[i + 1] - t[i], i) for i in range(len(t) - 1) if v[i] == v[i + 1]]
        length, i = max(gaps)
        self.assertGreater(length, 10 * interval)
        middle = (t[i] + t[i + 1]) / 2
        x, y = np.asarray(mean.get_xdata()), np.asarray(mean.get_ydata())
        near = np.abs(x - middle) <= interval
        self.assertTrue(near.any())
        np.testing.assert_allclose(y[near], v[i], rtol=1e-9)
        self.assertIn("skip_idle_samples", all_text(fig))

    def test_unsteady_runs_are_marked_one_each(self):
        marks = sum(len(unsteady_marks(fig)) for _, fig in drawn("capacity runs", F.timeseries))
        self.assertEqual(marks, len(unsteady_runs("capacity runs")))


class ThroughputByPoint(Review, unittest.TestCase):
    make = F.throughput_by_point
    inputs = ("sweep", "capacity sweep")

    def test_unsteady_points_are_hatched_one_each(self):
        fig = dict(drawn("capacity sweep", F.throughput_by_point))["throughput_by_point"]
        marks = unsteady_marks(fig)
        self.assertEqual(len(marks), len(unsteady_runs("capacity sweep")))  # one run per point
        self.assertTrue(all(m.get_hatch() for m in marks))


class DropsByReason(Review, unittest.TestCase):
    make = F.drops_by_reason
    inputs = ("one run", "6 runs", "36 runs", "sweep", "capacity runs", "capacity sweep")

    def test_drop_labels_stay_inside_the_axes(self):
        for where, _, fig in self.figures():
            ax = fig.axes[0]
            r = fig.canvas.get_renderer()
            right = ax.get_window_extent(r).x1
            with self.subTest(figure=where):
                for t in ax.texts:
                    self.assertLessEqual(t.get_window_extent(r).x1, right, t.get_text())

    def test_unsteady_rows_are_marked_one_each(self):
        for name in ("capacity runs", "capacity sweep"):
            fig = dict(drawn(name, F.drops_by_reason))["drops_by_reason"]
            with self.subTest(input=name):
                self.assertEqual(len(unsteady_marks(fig)), len(unsteady_runs(name)))


class Capacity(Review, unittest.TestCase):
    make = F.capacity
    inputs = ("capacity sweep",)

    def test_the_memory_legend_names_each_line_once(self):
        fig = dict(drawn("capacity sweep", F.capacity))["capacity"]
        memory = fig.axes[0]
        lines = lines_with_data(memory)
        entries = [t.get_text() for t in memory.get_legend().get_texts()]
        self.assertEqual(len(entries), len(lines))
        self.assertEqual(len(entries), 4)  # policy x queues per guest: memory does not depend on cores
        self.assertIn("offered load", [t.get_text() for t in fig.axes[1].get_legend().get_texts()])

    def test_unsteady_points_are_hollow_in_every_panel(self):
        fig = dict(drawn("capacity sweep", F.capacity))["capacity"]
        unsteady = len(unsteady_runs("capacity sweep"))  # one run per point, one point per run and panel
        for i, ax in enumerate(fig.axes[1:3], start=1):
            hollow = [ln for ln in ax.get_lines() if (ln.get_gid() or "").startswith("unsteady-")]
            with self.subTest(panel=i):
                self.assertEqual(sum(len(ln.get_xdata()) for ln in hollow), unsteady)
        self.assertTrue(any((ln.get_gid() or "").startswith("unsteady-") for ln in fig.axes[0].get_lines()))


class ThroughputVsRingSize(Review, unittest.TestCase):
    make = F.throughput_vs_ring_size
    inputs = ("sweep",)


class EveryKind(unittest.TestCase):
    def test_every_figure_kind_is_reviewed(self):
        reviewed = {cls.make for cls in Review.__subclasses__()}
        self.assertEqual({f.__name__ for f in F.FIGURES} - {f.__name__ for f in reviewed}, set())


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
