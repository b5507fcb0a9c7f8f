"""The figures. Each takes a RunSet or a SweepSet and returns a list of
(name, matplotlib Figure); a figure whose data is absent is left out."""

from __future__ import annotations

import json

import matplotlib
import matplotlib.lines
import matplotlib.patches
import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np
import pandas as pd

from .data import RunSet, SweepSet

MiB = 1024 * 1024
DROP_REASONS = ["tap_full", "too_large", "device_broken"]
# Axes that describe how a run was measured rather than what was simulated.
NOT_A_SERIES = {"stop.time_s", "measure.warmup_s", "measure.sample_interval_s", "seed"}

plt.rcParams.update({
    "figure.figsize": (7.5, 4.6), "figure.dpi": 100, "savefig.dpi": 120, "axes.grid": True, "grid.alpha": 0.3,
    "axes.spines.top": False, "axes.spines.right": False, "legend.fontsize": 8, "legend.frameon": False,
    "svg.hashsalt": "vringsim",  # stable SVG ids
})


def _policy_colors(policies) -> dict[str, tuple]:
    cmap = plt.get_cmap("tab10")
    return {p: cmap(i % 10) for i, p in enumerate(sorted(set(policies)))}


MARKERS = "os^Dv<>p"
LINESTYLES = ["-", "--", "-.", (0, (5, 1, 1, 1, 1, 1))]


def _unsteady(df: pd.DataFrame) -> pd.Series:
    """Per run (results.csv) or point (aggregate.csv): True where a run was not in steady state or measured
    nothing, so that its figures are not results."""
    flags = pd.Series(False, index=df.index)
    for col in ("measure.steady", "measure.valid"):
        if col in df.columns:
            flags |= df[col].astype(str).str.lower().eq("false")
    for col in ("runs_unsteady", "runs_invalid"):
        if col in df.columns:
            flags |= df[col].fillna(0).astype(float) > 0
    return flags


UNSTEADY_NOTE = "not in steady state, not results"


def _mark_unsteady(fig, artist) -> None:
    """Tag an artist that marks results not in steady state (hollow markers, hatched bars, a run's note) with
    an id of its own (SVG ids are unique) that starts with "unsteady-", by which tests find the marks."""
    n = getattr(fig, "_vringsim_unsteady_marks", 0)
    fig._vringsim_unsteady_marks = n + 1
    artist.set_gid(f"unsteady-{n}")


def _line_marking_unsteady(ax, x, y, unsteady, style: dict) -> None:
    """A line through every point; the points that are not steady-state results drawn hollow."""
    style = dict(style)
    ax.plot(x, y, linestyle=style.pop("linestyle", "-"), **style)
    if unsteady.any():
        hollow = {k: v for k, v in style.items() if k != "label"}
        line, = ax.plot(x[unsteady], y[unsteady], linestyle="none", markerfacecolor="white", **hollow)
        _mark_unsteady(ax.figure, line)


def _short_names(keys: list[str]) -> dict[str, str]:
    """Each dotted key's shortest tail (of whole components) that no other key shares:
    topology.guests.vm.count and topology.cores.host.count become vm.count and host.count."""
    names = {}
    for k in keys:
        parts = k.split(".")
        for n in range(1, len(parts) + 1):
            tail = ".".join(parts[-n:])
            if not any(o != k and (o == tail or o.endswith("." + tail)) for o in keys):
                break
        names[k] = tail
    return names


def _value_text(v) -> str:
    """An axis value as a label: integers whole, other numbers to 4 significant digits."""
    if isinstance(v, (float, np.floating)):
        return str(int(v)) if float(v).is_integer() else f"{float(v):.4g}"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    return str(v)


def _label(row: pd.Series, keys: list[str]) -> str:
    names = _short_names(keys)
    return ", ".join(_value_text(row[k]) if k == "policy.name" else f"{names[k]}={_value_text(row[k])}" for k in keys)


def _legend_outside(ax, extra=(), **kw) -> None:
    """The legend to the right of the axes, never on the data (saved with a tight bounding box); `extra`:
    (handle, label) pairs for entries no artist of the axes stands for."""
    handles, labels = ax.get_legend_handles_labels()
    handles, labels = handles + [h for h, _ in extra], labels + [lab for _, lab in extra]
    if handles:
        ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, **kw)


def _integer_axis(axis, nbins="auto") -> None:
    """Counts: whole-number ticks with thousands separators and no offset (499, 500 rather than
    +4.99e2; 150,000 rather than 1.5e5), few enough that the labels never touch."""
    axis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=nbins, integer=True))
    axis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))


def _log2_x(ax, values) -> None:
    """A log2 x axis ticked at the given integer values (ring sizes, guest counts); with more than
    twelve distinct values (a random sweep), at the powers of two between them."""
    ax.set_xscale("log", base=2)
    ticks = sorted({float(v) for v in values})
    if len(ticks) > 12:
        lo, hi = int(np.floor(np.log2(ticks[0]))), int(np.ceil(np.log2(ticks[-1])))
        step = max(1, (hi - lo + 11) // 12)
        ticks = [2.0 ** e for e in range(lo, hi + 1, step)]
    ax.set_xticks(ticks, [str(int(v)) for v in ticks])
    ax.minorticks_off()


def _number_text(v: float) -> str:
    """A tick value as plain digits: 0.5, 20, 1,000 (never 10^3, 1e+03 or -0)."""
    if v == 0:
        return "0"
    if abs(v) >= 1000 and float(v).is_integer():
        return f"{v:,.0f}"
    return f"{v:g}"


def _log_ticks(axis, lo: float, hi: float) -> None:
    """A log axis over [lo, hi] ticked with plain numbers, three to eight of them whatever the span: every
    decade (every other one, ... over wide spans), else 1-2-5 times a power of ten, else every integer
    mantissa, else evenly spaced round numbers (a span well under a decade: 0.4 to 0.95 MiB)."""
    if axis.axis_name == "x":
        axis.axes.set_xlim(lo, hi)
    else:
        axis.axes.set_ylim(lo, hi)
    e0, e1 = int(np.floor(np.log10(lo))), int(np.ceil(np.log10(hi)))

    def at(mantissas, step=1):
        return [m * 10.0 ** e for e in range(e0, e1 + 1, step) for m in mantissas if lo <= m * 10.0 ** e <= hi]

    ticks = at((1,))
    step = 1
    while len(ticks) > 8:
        step += 1
        ticks = at((1,), step)
    for mantissas in ((1, 2, 5), (1, 2, 3, 4, 5, 6, 7, 8, 9)):
        if len(ticks) >= 3:
            break
        ticks = at(mantissas)
    if len(ticks) < 3:
        ticks = [v for v in matplotlib.ticker.MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi)
                 if lo <= v <= hi]
    axis.set_major_locator(matplotlib.ticker.FixedLocator(ticks))
    axis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: _number_text(v)))
    axis.set_minor_locator(matplotlib.ticker.NullLocator())


def _log_limits(values, pad: float = 1.25, top: float | None = None) -> tuple[float, float]:
    """Limits around positive values on a log axis, `pad` times beyond the extremes (`top` times above:
    room for a label over the highest point)."""
    v = np.asarray([x for x in values if x > 0 and np.isfinite(x)], dtype=float)
    if not len(v):
        return 0.1, 10.0
    return float(v.min()) / pad, float(v.max()) * (top or pad)


def _drawn_texts(fig, renderer) -> list:
    """Every text the figure draws, as (Text, window extent): titles, axis and tick labels (only ticks
    within the view), annotations, legend entries and the figure's own texts."""
    out = []
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        texts = [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label,
                 ax.xaxis.get_offset_text(), ax.yaxis.get_offset_text(), *ax.texts]
        for axis in (ax.xaxis, ax.yaxis):
            if axis.get_visible():
                texts += [label for tick in axis._update_ticks() if tick.get_visible()
                          for label in (tick.label1, tick.label2)]
        legend = ax.get_legend()
        if legend is not None:
            texts += list(legend.get_texts()) + [legend.get_title()]
        out += texts
    out += list(fig.texts)  # the suptitle among them
    return [(t, t.get_window_extent(renderer)) for t in out if t.get_visible() and t.get_text().strip()]


def _drop_overlapping(fig, candidates) -> None:
    """Hide each candidate (point labels) that would touch any other text: the figure is drawn, then the
    candidates are kept in order while they overlap neither a text kept so far nor any other text."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    ids = {id(t) for t in candidates}
    fixed = [bb for t, bb in _drawn_texts(fig, renderer) if id(t) not in ids]
    for ax in fig.axes:  # a legend's box too, not only its texts
        if ax.get_legend() is not None:
            fixed.append(ax.get_legend().get_window_extent(renderer))
    kept = []
    for t in candidates:
        bb = t.get_window_extent(renderer)
        if any(bb.overlaps(o) for o in fixed + kept):
            t.set_visible(False)
        else:
            kept.append(bb)


def _queues(df: pd.DataFrame) -> pd.Series:
    """Receive queues per run (runs with a topology); 1 for the others."""
    for col in ("topology.queues", "topology.queues.mean"):
        if col in df.columns:
            return df[col].fillna(1).astype(float)
    return pd.Series(1.0, index=df.index)


def _guests(df: pd.DataFrame) -> pd.Series:
    """Guests per run (runs with a topology); 1 for the others."""
    for col in ("topology.guests", "topology.guests.mean"):
        if col in df.columns:
            return df[col].fillna(1).astype(float)
    return pd.Series(1.0, index=df.index)


def _features(value) -> frozenset:
    """summary.json's virtio.features (a JSON list in the CSV) as a set; empty when absent."""
    try:
        v = json.loads(value) if isinstance(value, str) else []
    except ValueError:
        return frozenset()
    return frozenset(v) if isinstance(v, list) else frozenset()


def _memory_rows(data) -> pd.DataFrame:
    """One row per run (a run directory) or per point (a sweep: its runs' first row, the measured
    memory.pinned_bytes_total as their mean), with `unsteady`."""
    if isinstance(data, RunSet):
        return data.runs.assign(unsteady=_unsteady(data.runs))
    res = data.results.assign(unsteady=_unsteady(data.results))
    by = res.groupby("point_id", sort=False)
    df = by.first()
    if "memory.pinned_bytes_total" in res.columns:
        df["memory.pinned_bytes_total"] = by["memory.pinned_bytes_total"].mean()
    df["unsteady"] = by["unsteady"].any()
    return df.reset_index()


def _memory_series(df: pd.DataFrame, totals: bool) -> pd.Series:
    """What tells runs' memory apart besides the ring size (or the guest count): the policy, the negotiated
    features that some of that policy's runs have and others not (RING_INDIRECT_DESC makes a big-packets ring
    hold 256 packets in 18 MiB rather than 13 in 1 MiB), the MTU where it varies and, for totals, the queues
    per guest."""
    feats = df["virtio.features"].map(_features) if "virtio.features" in df.columns \
        else pd.Series([frozenset()] * len(df), index=df.index)
    labels = df["policy.name"].astype(str).copy()
    for policy, idx in df.groupby("policy.name", sort=False).groups.items():
        sets = feats[idx]
        varying = sorted(frozenset.union(*sets) - frozenset.intersection(*sets))
        for i in idx:
            present = [f for f in varying if f in feats[i]]
            if present:
                labels[i] += " + " + " + ".join(present)
    if "virtio.mtu" in df.columns and df["virtio.mtu"].nunique() > 1:
        labels += ", MTU " + df["virtio.mtu"].map(_value_text)
    if totals:
        per_guest = _queues(df) / _guests(df)
        if per_guest.nunique() > 1:
            labels += ", " + per_guest.map(lambda v: f"{v:g} queue{'' if v == 1 else 's'}/guest")
    return labels


def memory_vs_capacity(data) -> list:
    """The 2008 trade-off: guest memory a full ring pins against how many MTU packets it holds. One point
    per distinct configuration (runs that differ only in traffic share theirs), one line per policy and the
    features that change its buffers, through its ring sizes. With several guests or queues (a topology),
    the totals a capacity planner asks for: memory.pinned_bytes_total against what all rings hold."""
    df = _memory_rows(data)
    queues, guests = _queues(df), _guests(df)
    totals = bool((queues > 1).any() or (guests > 1).any())
    if totals:
        memory = df["memory.pinned_bytes_total"] if "memory.pinned_bytes_total" in df.columns \
            else df["memory.ring_pinned_bytes_full"]
        df = df.assign(x=memory / MiB, y=df["ring.capacity_packets_mtu"] * queues, mark=guests,
                       text=[f"{g:g}\u00d7{q / g:g}" for g, q in zip(guests, queues)])
        mark_name = "guests \u00d7 queues per guest"
    else:
        # memory.ring_pinned_bytes_full totals every ring of a topology: one ring's share.
        df = df.assign(x=df["memory.ring_pinned_bytes_full"] / queues / MiB, y=df["ring.capacity_packets_mtu"],
                       mark=df["ring.size"].astype(float), text=df["ring.size"].map(_value_text))
        mark_name = "ring entries"
    df = df.assign(series=_memory_series(df, totals), x=df["x"].round(9))
    points = df.groupby(["series", "mark", "text", "x", "y"], sort=True)["unsteady"].any().reset_index()
    # Memory from the configuration (a full ring) is no measurement: only the measured totals can be unsteady.
    if not totals:
        points["unsteady"] = False
    series = sorted(points["series"].unique())
    cmap = plt.get_cmap("tab10" if len(series) <= 10 else "tab20")
    colors = {name: cmap(i % cmap.N) for i, name in enumerate(series)}
    fig, ax = plt.subplots()
    for i, name in enumerate(series):
        g = points[points["series"] == name].sort_values(["mark", "x"])
        # alternate marker sizes: a line that lies on another (mergeable, split or packed ring) stays visible
        _line_marking_unsteady(ax, g["x"].to_numpy(dtype=float), g["y"].to_numpy(dtype=float),
                               g["unsteady"].to_numpy(), dict(color=colors[name], marker=MARKERS[i % len(MARKERS)],
                                                              markersize=8 if i % 2 == 0 else 5, label=name))
    # Where every line has the same marks, each is labelled once, at its point that holds the most packets
    # (lines of other policies often lie on top of each other, and their labels did too); else every point,
    # one label where lines meet (in grey, the marks in the legend's order).
    marks = {name: frozenset(points.loc[points["series"] == name, "mark"]) for name in series}
    same = len(set(marks.values())) == 1
    if same:
        shown = points.sort_values(["y", "x"], kind="stable").drop_duplicates("mark", keep="last")
        shown = [(r["x"], r["y"], r["text"], colors[r["series"]]) for _, r in shown.iterrows()]
    else:
        shown = [(x, y, ", ".join(g["text"]), colors[g["series"].iloc[0]] if len(g) == 1 else "0.3")
                 for (x, y), g in points.groupby(["x", "y"], sort=True)]
    labels = [ax.annotate(text, (x, y), textcoords="offset points", xytext=(-4, 5), ha="right", fontsize=7,
                          color=color) for x, y, text, color in shown]
    ax.set_xscale("log")
    ax.set_yscale("log")
    _log_ticks(ax.xaxis, *_log_limits(points["x"]))
    _log_ticks(ax.yaxis, *_log_limits(points["y"], top=1.8))
    ax.tick_params(labelsize=8)
    if totals:
        ax.set_xlabel("guest memory pinned, all guests (MiB: rings + peak posted buffers)")
        ax.set_ylabel("MTU packets all rings hold when full (packets)")
        ax.set_title(f"Memory against packet capacity, all guests (labels: {mark_name})", fontsize=11)
    else:
        ax.set_xlabel("guest memory pinned by one full rx queue (MiB: ring + posted buffers)")
        ax.set_ylabel("MTU packets the full ring holds (packets)")
        ax.set_title(f"Memory against packet capacity (labels: {mark_name}" +
                     (", the same on every line)" if same and len(series) > 1 else ")"), fontsize=11)
    if points["unsteady"].any():
        ax.set_xlabel(ax.get_xlabel() + f"\n(hollow markers: runs {UNSTEADY_NOTE})")
    _legend_outside(ax, title="policy (+ features some of its runs lack)" if any("+" in n for n in series)
                    else "policy")
    _drop_overlapping(fig, labels)
    return [("memory_vs_capacity", fig)]


def _series_keys(data, df: pd.DataFrame, exclude: tuple = ()) -> list[str]:
    """The axes (and policy.name) that tell a sweep's lines apart: those that vary, minus `exclude`."""
    keys = [a for a in data.axes if a not in exclude and a not in NOT_A_SERIES and df[a].nunique() > 1]
    if "policy.name" not in keys and "policy.name" in df.columns and df["policy.name"].nunique() > 1:
        keys.insert(0, "policy.name")
    return keys


def throughput_vs_ring_size(data) -> list:
    """Delivered throughput against ring size, per series of the other axes, with 95% confidence bands.
    A sweep whose other axes do not repeat (random samples) is drawn as points coloured by policy."""
    if not isinstance(data, SweepSet) or "ring.size" not in data.axes:
        return []
    df = data.points
    series_keys = _series_keys(data, df, exclude=("ring.size",))
    groups = list(df.groupby(series_keys[0] if len(series_keys) == 1 else series_keys, sort=True)) \
        if series_keys else [((), df)]
    fig, ax = plt.subplots()
    cmap = plt.get_cmap("tab10")
    lines = len(groups) <= 10 and all(len(g) >= 2 for _, g in groups)
    knees = False
    if lines:
        for i, (_, g) in enumerate(groups):
            g = g.sort_values("ring.size")
            x = g["ring.size"].to_numpy(dtype=float)
            mean = g["throughput.delivered_gbps.mean"].to_numpy(dtype=float)
            ci = g["throughput.delivered_gbps.ci95"].fillna(0).to_numpy(dtype=float)
            label = _label(g.iloc[0], series_keys) if series_keys else "all points"
            n = int(g["n"].min())
            _line_marking_unsteady(ax, x, mean, _unsteady(g).to_numpy(),
                                   dict(color=cmap(i % 10), marker=MARKERS[i % len(MARKERS)], label=f"{label} (n={n})"))
            ax.fill_between(x, mean - ci, mean + ci, color=cmap(i % 10), alpha=0.2, linewidth=0)
            # The computed knee (summary.json ring.knee_entries, vringsim
            # ring-size) at the largest ring, where the ring limits least.
            knee = g["ring.knee_entries.mean"].iloc[-1] if "ring.knee_entries.mean" in g.columns else None
            if knee is not None and x.min() <= knee <= x.max():
                ax.axvline(knee, color=cmap(i % 10), linestyle=":", linewidth=1.2)
                knees = True
        ax.set_title("Throughput against ring size (band: 95% confidence interval of the mean)")
        notes = []
        if knees:
            notes.append("dotted: the computed knee of vringsim ring-size, below which the ring limits")
        if _unsteady(df).any():
            notes.append("hollow markers: points not in steady state, not results")
        if notes:
            ax.set_xlabel("ring size (entries)\n(" + "; ".join(notes) + ")")
    else:
        by = "policy.name" if "policy.name" in df.columns else None
        colors = _policy_colors(df[by]) if by else {None: cmap(0)}
        for key, g in (df.groupby(by, sort=True) if by else [(None, df)]):
            ax.errorbar(g["ring.size"].to_numpy(dtype=float), g["throughput.delivered_gbps.mean"],
                        yerr=g["throughput.delivered_gbps.ci95"].fillna(0), fmt="o", markersize=4, capsize=2,
                        color=colors[key], alpha=0.8, label=f"{key} ({len(g)} points)" if key else f"{len(g)} points")
        others = [k for k in series_keys if k != "policy.name"]
        ax.set_title("Throughput against ring size, every point" +
                     (f" (also varying: {', '.join(_short_names(others).values())})" if others else ""))
    _log2_x(ax, df["ring.size"].unique())
    if not ax.get_xlabel():
        ax.set_xlabel("ring size (entries)")
    ax.set_ylabel("delivered throughput (Gb/s)")
    ax.set_ylim(bottom=0)
    _legend_outside(ax)
    return [("throughput_vs_ring_size", fig)]


def _hatched(color) -> dict:
    """The style of a bar that is not a result (a run not in steady state): hollow, hatched, outlined."""
    return dict(facecolor="white", edgecolor=color, hatch="////", linewidth=0.8)


def _unsteady_ticks(ax, unsteady) -> None:
    """Category labels (y ticks) of the runs or points not in steady state in red."""
    for label, flag in zip(ax.get_yticklabels(), unsteady):
        if flag:
            label.set_color("tab:red")


def throughput_by_point(data) -> list:
    """Every sweep point's mean throughput with its 95% interval (any axes); points with a run not in
    steady state hatched, their labels red."""
    if not isinstance(data, SweepSet):
        return []
    df = data.points
    keys = [a for a in data.axes if a not in NOT_A_SERIES and df[a].nunique() > 1] or data.axes
    labels = [_label(r, keys) for _, r in df.iterrows()]
    unsteady = _unsteady(df).to_numpy()
    fig, ax = plt.subplots(figsize=(7.5, 0.3 * len(df) + 2.2))
    y = np.arange(len(df))
    mean = df["throughput.delivered_gbps.mean"].to_numpy(dtype=float)
    ci = df["throughput.delivered_gbps.ci95"].fillna(0).to_numpy(dtype=float)
    ax.barh(y[~unsteady], mean[~unsteady], xerr=ci[~unsteady], color="tab:blue", alpha=0.8, capsize=3,
            label="steady state")
    if unsteady.any():
        bars = ax.barh(y[unsteady], mean[unsteady], xerr=ci[unsteady], capsize=3, label=UNSTEADY_NOTE,
                       **_hatched("tab:blue"))
        for patch in bars.patches:
            _mark_unsteady(fig, patch)
    ax.set_yticks(y, labels, fontsize=7)
    _unsteady_ticks(ax, unsteady)
    ax.invert_yaxis()
    ax.set_xlabel("delivered throughput (Gb/s, mean with 95% confidence interval)")
    ax.set_title(f"Sweep {data.name}: throughput per point")
    if unsteady.any():
        _legend_outside(ax)
    fig.tight_layout()
    return [("throughput_by_point", fig)]


def _fit_labels(ax, labels, ends) -> None:
    """Widen the x axis until every bar-end label (placed a few points right of its bar's end, so its width
    is fixed in pixels) lies inside the axes, clear of a legend beside them."""
    fig = ax.figure
    for _ in range(4):  # the layout moves the axes as its tick labels change: settle it
        fig.tight_layout()
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        box = ax.get_window_extent(renderer)
        short = 3.5 * fig.dpi - box.width  # long category labels and a legend left the bars too little room
        if short > 1:
            fig.set_figwidth(fig.get_figwidth() + short / fig.dpi)
            continue
        lo, hi = ax.get_xlim()
        need = hi
        for text, end in zip(labels, ends):
            right = text.get_window_extent(renderer).x1 + 4  # 4 px clear of the axes' edge
            at = box.x0 + (end - lo) / (hi - lo) * box.width
            room = max(0.25, 1 - (right - at) / box.width)  # the share of the width left for the bar
            need = max(need, lo + (end - lo) / room)
        if need <= hi * 1.0001:
            return
        ax.set_xlim(lo, need)


def _share_text(part: float, whole: float) -> str:
    if not whole or whole != whole:
        return ""
    pct = 100 * part / whole
    return f" ({pct:.1f}% of arrivals)" if pct >= 0.1 or pct == 0 else f" ({pct:.2g}% of arrivals)"


def drops_by_reason(data) -> list:
    """Frames dropped per run (or per point, mean over replications), by where they were dropped; each bar
    ends with its count and its share of the frames that arrived."""
    if isinstance(data, RunSet):
        df = data.runs
        labels = list(df["config.name"].astype(str))
        cols = {r: f"drops.{r}" for r in DROP_REASONS}
        arrived_col = "packets.arrived"
        note = "dropped (frames, whole run)"
    else:
        df = data.points
        keys = [a for a in data.axes if a not in NOT_A_SERIES and df[a].nunique() > 1] or data.axes
        labels = [_label(r, keys) for _, r in df.iterrows()]
        cols = {r: f"drops.{r}.mean" for r in DROP_REASONS}
        arrived_col = "packets.arrived.mean"
        note = "dropped (frames per run, mean over replications)"
    present = {r: c for r, c in cols.items() if c in df.columns}
    unsteady = _unsteady(df).to_numpy()
    fig, ax = plt.subplots(figsize=(7.5, 0.3 * len(df) + 2.2))
    y = np.arange(len(df))
    left = np.zeros(len(df))
    colors = {"tap_full": "tab:red", "too_large": "tab:orange", "device_broken": "tab:purple"}
    for reason, col in present.items():
        v = df[col].fillna(0).to_numpy(dtype=float)
        ax.barh(y[~unsteady], v[~unsteady], left=left[~unsteady], color=colors[reason], label=reason)
        if unsteady.any():
            ax.barh(y[unsteady], v[unsteady], left=left[unsteady], **_hatched(colors[reason]))
        left += v
    arrived = df[arrived_col].to_numpy(dtype=float) if arrived_col in df.columns else np.full(len(df), np.nan)
    texts = []
    for yi, total, whole, flag in zip(y, left, arrived, unsteady):
        texts.append(ax.annotate(f"{total:,.0f}{_share_text(total, whole) if total else ''}", (total, yi),
                                 xytext=(3, 0), textcoords="offset points", va="center", fontsize=7,
                                 color="tab:red" if flag else "black"))
        if flag:
            _mark_unsteady(fig, texts[-1])
    ax.set_xlim(0, max(float(left.max()), 1.0) * 1.05)
    _integer_axis(ax.xaxis, nbins=5)
    ax.set_yticks(y, labels, fontsize=7)
    _unsteady_ticks(ax, unsteady)
    ax.invert_yaxis()
    ax.set_xlabel(note)
    ax.set_title("Drops by reason (label: dropped, and their share of arrivals)")
    _legend_outside(ax, [(matplotlib.patches.Patch(**_hatched("0.3")), "hatched: not in steady state")]
                    if unsteady.any() else [])
    _fit_labels(ax, texts, left)
    return [("drops_by_reason", fig)]


BAR_GROUPS_MAX = 6  # grouped bars up to this many runs or policies; one row each beyond


def buffers_per_packet(data) -> list:
    """How many buffers (descriptors written) each delivered packet used: the share of packets per count, per
    run (a run directory) or per policy (a sweep). Up to six of them as grouped bars in distinct colours;
    more as one row each (a heat map with the share written in each cell), where bars would cycle colours
    and shrink to slivers."""
    df = data.runs if isinstance(data, RunSet) else data.results
    cols = sorted((c for c in df.columns if c.startswith("buffers_per_packet.")), key=lambda c: int(c.split(".")[1]))
    if not cols:
        return []
    by = "config.name" if isinstance(data, RunSet) else "policy.name"
    grouped = df.assign(unsteady=_unsteady(df)).groupby(by, sort=True)
    counts = grouped[cols].sum()
    unsteady = grouped["unsteady"].any()
    cols = [c for c in cols if counts[c].sum() > 0] or cols  # counts no packet used: no column
    counts = counts[cols]
    pct = 100 * counts.div(counts.sum(axis=1).replace(0, np.nan), axis=0).fillna(0)
    ks = [int(c.split(".")[1]) for c in cols]
    what = "run" if isinstance(data, RunSet) else "policy"
    xlabel = "buffers (descriptors written) per delivered packet (count)"
    if len(pct) <= BAR_GROUPS_MAX:
        fig, ax = plt.subplots()
        width = 0.8 / len(pct)
        cmap = plt.get_cmap("tab10")
        for i, (name, row) in enumerate(pct.iterrows()):
            style = dict(color=cmap(i)) if not unsteady[name] else \
                dict(facecolor="white", edgecolor=cmap(i), hatch="////", linewidth=1.0)
            bars = ax.bar(np.arange(len(ks)) + (i - (len(pct) - 1) / 2) * width, row.to_numpy(), width=width,
                          label=f"{name} ({UNSTEADY_NOTE.split(',')[0]})" if unsteady[name] else str(name), **style)
            if unsteady[name]:
                _mark_unsteady(fig, bars.patches[0])  # one mark per run (or policy)
        ax.set_xticks(np.arange(len(ks)), [str(k) for k in ks])
        ax.set_ylabel("delivered packets (%)")
        ax.set_ylim(0, 100)
        ax.set_title(f"Buffers per packet, one colour per {what}")
        if unsteady.any():
            xlabel += f"\n(hatched: {what}s {UNSTEADY_NOTE})"
        ax.set_xlabel(xlabel)
        _legend_outside(ax)
        return [("buffers_per_packet", fig)]
    fig, ax = plt.subplots(figsize=(max(6.0, 3.2 + 0.5 * len(ks)), 0.27 * len(pct) + 1.9))
    image = ax.imshow(pct.to_numpy(), aspect="auto", cmap="Blues", vmin=0, vmax=100, interpolation="nearest")
    for (i, j), v in np.ndenumerate(pct.to_numpy()):
        if v > 0:
            ax.text(j, i, f"{v:.0f}" if v >= 0.5 else "<1", ha="center", va="center", fontsize=6.5,
                    color="white" if v > 60 else "black")
    ax.set_xticks(np.arange(len(ks)), [str(k) for k in ks])
    ax.set_yticks(np.arange(len(pct)), [str(n) for n in pct.index], fontsize=7)
    for i, name in enumerate(pct.index):
        if unsteady[name]:  # inset, so that two such rows one above the other stay two boxes
            box = matplotlib.patches.Rectangle((-0.46, i - 0.4), len(ks) - 0.08, 0.8, fill=False, linestyle="--",
                                               linewidth=1.2, edgecolor="tab:red")
            ax.add_patch(box)
            _mark_unsteady(fig, box)
            ax.get_yticklabels()[i].set_color("tab:red")
    ax.tick_params(axis="x", labelsize=8)
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    if unsteady.any():
        xlabel += f"\n(red, outlined: {what}s {UNSTEADY_NOTE})"
    ax.set_xlabel(xlabel)
    ax.set_title(f"Buffers per packet, one row per {what} (% of its delivered packets)", fontsize=10)
    bar = fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02)
    bar.set_label("delivered packets (%)")
    bar.ax.tick_params(labelsize=7)
    fig.tight_layout()
    return [("buffers_per_packet", fig)]


TIMESERIES_RUNS_PER_FIGURE = 6
FREE_LIST_NOTE = ("not free: descriptors off the driver's free list, whether posted and not yet taken by the device, "
                  "held by it, or used and not yet collected by the driver")


def _config(runs: pd.DataFrame, name: str, key: str, default=np.nan):
    """A run's configuration value (runs.csv config.<key>), or `default` where absent or empty."""
    col = "config." + key
    if col not in runs.columns:
        return default
    v = runs.at[name, col]
    return default if v is None or (isinstance(v, float) and v != v) else v


def _step_mean(t: np.ndarray, v: np.ndarray, window: float, at: np.ndarray) -> np.ndarray:
    """The moving mean over `window` seconds, centred, of the step function the rows describe: each value
    holds until the next row. That is exactly the series measure.skip_idle_samples thinned (an idle stretch
    keeps its first and last rows, the grid between them forward-fills), and a row off the grid (the run's
    last, at run.end_s) counts for the time it covers: no straight line across an idle gap."""
    area = np.concatenate([[0.0], np.cumsum(v[:-1] * np.diff(t))])

    def integral(q):
        j = np.clip(np.searchsorted(t, q, side="right") - 1, 0, len(t) - 1)
        return area[j] + v[j] * (q - t[j])

    lo, hi = np.maximum(at - window / 2, t[0]), np.minimum(at + window / 2, t[-1])
    width = hi - lo
    held = v[np.clip(np.searchsorted(t, at, side="right") - 1, 0, len(t) - 1)]
    return np.where(width > 0, (integral(hi) - integral(lo)) / np.where(width > 0, width, 1.0), held)


def _grid(t: np.ndarray, interval: float) -> np.ndarray:
    """Where to evaluate a rolling mean: every sample time of the regular grid (at most 20,000 of them, else
    4,000 evenly spaced), and the last row's time."""
    n = int(np.floor((t[-1] - t[0]) / interval + 1e-9)) + 1
    points = t[0] + interval * np.arange(n) if n <= 20_000 else np.linspace(t[0], t[-1], 4_000)
    return points if points[-1] >= t[-1] - 1e-12 else np.append(points, t[-1])


def _top(values, floor: float = 1.0) -> float:
    """An axis top 8% above the largest value, never a degenerate 0 (a constant-zero series gets 0..floor)."""
    m = max([float(x) for x in values if np.isfinite(x)] or [0.0])
    return m * 1.08 if m > 0 else floor


def timeseries(data) -> list:
    """Ring, posted memory and the tap queue over time: one row of panels per run (six runs a figure, then
    timeseries_2, ...), every sample faint (held until the next: idle samples are skipped) under a moving mean
    over 1/50 of the run. Each column shares its range across the runs of a set with as many queues: 0-100% of
    the ring, 0 to the most MiB posted, 0 to the tap limit (or the most queued, above it with vhost's batch);
    so a full tap wavering between 499 and 500 frames is drawn flat, and no axis goes below zero."""
    if not isinstance(data, RunSet) or not data.timeseries:
        return []
    runs = data.runs.set_index(data.runs["config.name"].astype(str))
    queues = _queues(data.runs).set_axis(runs.index)
    unsteady = _unsteady(data.runs).set_axis(runs.index)
    names = sorted(data.timeseries)
    rows = {}
    for name in names:
        ts = data.timeseries[name].ffill()
        t = ts["time_s"].to_numpy(dtype=float)
        interval = float(_config(runs, name, "measure.sample_interval_s", 0.0) or 0.0)
        if not interval > 0:
            interval = float(np.median(np.diff(t))) if len(t) > 1 else 1.0
        size = float(runs.at[name, "ring.size"]) * queues[name]  # free_descriptors counts every ring
        tap_limit = float(_config(runs, name, "host.tap_queue_packets", np.nan)) * queues[name]
        rows[name] = dict(
            t=t, interval=interval, queues=queues[name], limit=tap_limit,
            backend=str(_config(runs, name, "host.backend", "")),
            warmup=float(_config(runs, name, "measure.warmup_s", 0)),
            thinned=len(ts) < float(runs.at[name, "measure.samples"]) if "measure.samples" in runs.columns else False,
            values=[100 * (size - ts["free_descriptors"].to_numpy(dtype=float)) / size,
                    ts["posted_bytes"].to_numpy(dtype=float) / MiB, ts["tap_queue_packets"].to_numpy(dtype=float)])
    # The shared ranges, per number of queues (memory and the tap limit grow with the queues).
    tops = {}
    for q in {r["queues"] for r in rows.values()}:
        same = [r for r in rows.values() if r["queues"] == q]
        tops[q] = (_top([r["values"][1].max() for r in same]),
                   _top([r["values"][2].max() for r in same] + [r["limit"] for r in same]))
    over = {n for n, r in rows.items() if np.isfinite(r["limit"]) and r["values"][2].max() > r["limit"]}
    notes = [FREE_LIST_NOTE]
    if over:
        vhost = all(rows[n]["backend"] == "vhost" for n in over)
        notes.append("* above the dashed tap limit: " + (
            "vhost-net moves up to 64 frames per queue out of the tap into its batch (docs/model.md), and they "
            "still count as queued" if vhost else "frames counted beyond host.tap_queue_packets"))
    if any(r["thinned"] for r in rows.values()):
        notes.append("idle stretches (measure.skip_idle_samples: repeated rows left out) drawn as the value held")
    titles = ["ring descriptors not free", "buffers posted", "frames queued in the tap"]
    figures = []
    for page, first in enumerate(range(0, len(names), TIMESERIES_RUNS_PER_FIGURE)):
        chunk = names[first:first + TIMESERIES_RUNS_PER_FIGURE]
        foot = 0.17 * len(notes) + 0.15
        height = 2.1 * len(chunk) + 0.9 + foot
        fig, axes = plt.subplots(len(chunk), 3, figsize=(11, height), squeeze=False, sharex="row")
        for row, name in enumerate(chunk):
            r = rows[name]
            t = r["t"]
            window = max(5 * r["interval"], (t[-1] - t[0]) / 50)
            at = _grid(t, r["interval"])
            mib_top, tap_top = tops[r["queues"]]
            all_taps = ", all taps" if r["queues"] > 1 else ""
            for col, y in enumerate(r["values"]):
                ax = axes[row][col]
                if r["warmup"] > 0:
                    ax.axvspan(0, min(r["warmup"], t[-1]), color="0.88", linewidth=0, zorder=0)
                ax.plot(t, y, drawstyle="steps-post", color="tab:blue", alpha=0.35, linewidth=0.6, clip_on=False)
                ax.plot(at, _step_mean(t, y, window, at), color="tab:blue", linewidth=1.3, clip_on=False)
                ax.set_xlim(0, t[-1])
                ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=4))
                ax.tick_params(labelsize=7)
                if col == 0:
                    ax.set_ylim(0, 100)
                    ax.set_yticks([0, 25, 50, 75, 100])
                    ax.set_ylabel(f"{name}\nnot free (% of ring)", fontsize=8)
                elif col == 1:
                    ax.set_ylim(0, mib_top)
                    ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10]))
                    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: _number_text(v)))
                    ax.set_ylabel("posted (MiB)", fontsize=8)
                else:
                    ax.set_ylim(0, tap_top)
                    _integer_axis(ax.yaxis, nbins=4)
                    if np.isfinite(r["limit"]) and r["limit"] > 0:
                        # ticked in quarters of the limit, which is then read off the axis
                        ax.set_yticks(np.unique(np.round(np.linspace(0, r["limit"], 5))))
                        ax.axhline(r["limit"], color="0.3", linestyle="--", linewidth=0.9, zorder=1.5)
                    ax.set_ylabel(f"queued{'*' if name in over else ''} (frames{all_taps})", fontsize=8)
                if row == 0:
                    ax.set_title(titles[col], fontsize=9)
                if row == len(chunk) - 1:
                    ax.set_xlabel("simulated time (s)", fontsize=8)
            if unsteady[name]:
                note = axes[row][0].text(0.98, 0.96, "not in steady state", transform=axes[row][0].transAxes,
                                         ha="right", va="top", fontsize=7, color="tab:red",
                                         bbox=dict(boxstyle="round,pad=0.2", facecolor="white", edgecolor="tab:red",
                                                   alpha=0.9))
                _mark_unsteady(fig, note)
        handles = [matplotlib.lines.Line2D([], [], color="tab:blue", alpha=0.35, linewidth=0.6),
                   matplotlib.lines.Line2D([], [], color="tab:blue", linewidth=1.3),
                   matplotlib.lines.Line2D([], [], color="0.3", linestyle="--", linewidth=0.9),
                   matplotlib.patches.Patch(color="0.88")]
        labels = ["every sample", "moving mean over 1/50 of the run", "tap limit (host.tap_queue_packets)",
                  "warm-up, not measured"]
        axes[0][2].legend(handles, labels, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0,
                          fontsize=7)
        more = f" (runs {first + 1}-{first + len(chunk)} of {len(names)})" if len(names) > len(chunk) else ""
        fig.suptitle(f"Ring, memory and tap queue over time, one row per run{more}", fontsize=10)
        fig.text(0.01, 0.004, "\n".join(notes), fontsize=7, ha="left", va="bottom")
        fig.tight_layout(rect=(0, foot / height, 1, 1))
        figures.append(("timeseries" if page == 0 else f"timeseries_{page + 1}", fig))
    return figures


def capacity(data) -> list:
    """A capacity sweep: guest memory pinned in receive rings, and aggregate throughput, against the number of
    guests; one line per combination of the other axes (policy, queues per guest, host cores...)."""
    if not isinstance(data, SweepSet) or "topology.guests" not in data.results.columns:
        return []
    df = data.results
    if df["topology.guests"].nunique() < 2:
        return []
    # The axis values (topology.* axes are not summary columns) beside each run.
    extra = [a for a in data.axes if a not in df.columns]
    df = df.merge(data.points[["point_id", *extra]], on="point_id", how="left")
    # Axes that set the number of guests are the x axis, not a series.
    series_keys = [a for a in data.axes if a not in NOT_A_SERIES and df[a].nunique() > 1
                   and not (a.startswith("topology.guests.") and a.endswith(".count"))]
    if "policy.name" not in series_keys and df["policy.name"].nunique() > 1:
        series_keys.insert(0, "policy.name")
    metrics = ["memory.pinned_bytes_total", "throughput.delivered_gbps", "throughput.offered_gbps",
               "packets.dropped", "packets.arrived"]
    if any(c not in df.columns for c in metrics):
        return []
    df = df.assign(unsteady=_unsteady(df))
    by = df.groupby(series_keys + ["topology.guests"], sort=True)
    means = by[metrics].mean().reset_index()
    means["unsteady"] = by["unsteady"].any().to_numpy()
    means["drop_pct"] = 100 * means["packets.dropped"] / means["packets.arrived"].where(means["packets.arrived"] > 0)

    def name(key: str) -> str:  # topology.cores.host.count -> host cores; topology.guests.vm.queues -> queues/guest
        parts = key.split(".")
        if key.startswith("topology.cores.") and len(parts) == 4:
            return f"{parts[2]} cores"
        if key.startswith("topology.guests.") and len(parts) == 4:
            return f"{parts[3]}/guest"
        return "policy" if key == "policy.name" else parts[-1]

    def label(values, keys) -> str:
        return ", ".join(str(v) if k == "policy.name" else f"{name(k)} {v:g}" if isinstance(v, float)
                         else f"{name(k)} {v}" for k, v in zip(keys, values))

    # The keys memory depends on give the colours; the others (host cores: memory is the same on 4 or 16)
    # the line styles. The memory panel draws one line per colour, the others one per colour and style.
    memory_keys = list(series_keys)
    for key in series_keys:
        rest = [k for k in memory_keys if k != key] + ["topology.guests"]
        m = means.groupby(rest)["memory.pinned_bytes_total"]
        if ((m.max() - m.min()) <= 1e-3 * m.max().abs()).all():
            memory_keys.remove(key)
    style_keys = [k for k in series_keys if k not in memory_keys]

    def combos(keys) -> list:
        return sorted(set(means[keys].itertuples(index=False, name=None))) if keys else [()]

    colour_groups, style_groups = combos(memory_keys), combos(style_keys)
    cmap = plt.get_cmap("tab10" if len(colour_groups) <= 10 else "tab20")
    colour = {c: cmap(i % cmap.N) for i, c in enumerate(colour_groups)}
    style = {c: dict(linestyle=LINESTYLES[i % len(LINESTYLES)], marker=MARKERS[i % len(MARKERS)],
                     markersize=7 - 3 * (i % 2))  # identical values stay visible
             for i, c in enumerate(style_groups)}
    fig, (top, bottom, drops) = plt.subplots(3, 1, sharex=True, figsize=(7.5, 10),
                                             gridspec_kw={"height_ratios": [3, 3, 2]})
    memory = means.groupby(memory_keys + ["topology.guests"], sort=True)
    memory = memory["memory.pinned_bytes_total"].mean().to_frame().assign(unsteady=memory["unsteady"].any())
    memory = memory.reset_index()
    for c in colour_groups:
        g = memory[(memory[memory_keys].apply(tuple, axis=1) == c)] if memory_keys else memory
        g = g.sort_values("topology.guests")
        _line_marking_unsteady(top, g["topology.guests"].to_numpy(dtype=float),
                               (g["memory.pinned_bytes_total"] / MiB).to_numpy(), g["unsteady"].to_numpy(),
                               dict(color=colour[c], marker="o", markersize=6, alpha=0.9,
                                    label=label(c, memory_keys) if memory_keys else "every line below"))
    for keys, g in means.groupby(series_keys, sort=True) if series_keys else [((), means)]:
        keys = keys if isinstance(keys, tuple) else (keys,)
        values = dict(zip(series_keys, keys))
        c = tuple(values[k] for k in memory_keys)
        st = tuple(values[k] for k in style_keys)
        g = g.sort_values("topology.guests")
        x = g["topology.guests"].to_numpy(dtype=float)
        for ax, y in ((bottom, g["throughput.delivered_gbps"]), (drops, g["drop_pct"])):
            _line_marking_unsteady(ax, x, y.to_numpy(dtype=float), g["unsteady"].to_numpy(),
                                   dict(color=colour[c], alpha=0.9, **style[st]))
    offered = means.groupby("topology.guests")["throughput.offered_gbps"].mean()
    bottom.plot(offered.index.to_numpy(dtype=float), offered.to_numpy(), color="0.45", linestyle=":",
                linewidth=2.2, label="offered load")
    top.set_yscale("log")
    _log_ticks(top.yaxis, *_log_limits(means["memory.pinned_bytes_total"] / MiB, pad=1.4))
    top.set_ylabel("guest memory pinned, all guests (MiB:\nrings + peak posted buffers)")
    bottom.set_ylabel("delivered throughput,\nall guests (Gb/s)")
    bottom.set_ylim(bottom=0)
    drops.set_ylabel("frames dropped\n(% of arrivals)")
    drops.set_ylim(bottom=0)
    _log2_x(drops, means["topology.guests"].unique())
    drops.set_xlabel("guests on the host (count)" + (f"\n(hollow markers: runs {UNSTEADY_NOTE})"
                                                     if means["unsteady"].any() else ""))
    top.set_title("Capacity: what the guests pin, what they get, what is dropped")
    styles = ", ".join(name(k) for k in style_keys)
    _legend_outside(top, fontsize=7, title_fontsize=7,
                    title=(f"colour: {', '.join(name(k) for k in memory_keys)}" if memory_keys else "memory") +
                    (f"\n(memory is the same\nfor any {styles})" if style_keys else ""))
    entries = [(matplotlib.lines.Line2D([], [], color="0.2", **style[st]), label(st, style_keys))
               for st in style_groups] if style_keys else []
    entries.append((bottom.get_lines()[-1], "offered load"))
    bottom.legend(*zip(*entries), loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, fontsize=7,
                  title_fontsize=7, title=f"line: {styles}" if style_keys else None)
    fig.tight_layout()
    return [("capacity", fig)]


FIGURES = [capacity, memory_vs_capacity, throughput_vs_ring_size, throughput_by_point, drops_by_reason, buffers_per_packet,
           timeseries]
