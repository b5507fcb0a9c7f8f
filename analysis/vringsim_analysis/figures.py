"""The figures. Each takes a RunSet or a SweepSet and returns a list of
(name, matplotlib Figure); a figure whose data is absent is left out."""

from __future__ import annotations

import matplotlib
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


def _line_marking_unsteady(ax, x, y, unsteady, style: dict) -> None:
    """A line through every point; the points that are not steady-state results drawn hollow."""
    ax.plot(x, y, linestyle="-", **style)
    if unsteady.any():
        hollow = {k: v for k, v in style.items() if k != "label"}
        ax.plot(x[unsteady], y[unsteady], linestyle="none", markerfacecolor="white", **hollow)


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


def _legend_outside(ax, **kw) -> None:
    """The legend to the right of the axes, never on the data (saved with a tight bounding box)."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, **kw)


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


def _plain_log_labels(*axes) -> None:
    """Label a log axis as plain numbers (20, 50 rather than 10^1.3); minor ticks only at 2 and 5
    times a power of ten, and only while the axis spans at most two decades, so labels never collide."""
    plain = matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}")
    for axis in axes:
        axis.set_major_formatter(plain)
        lo, hi = axis.get_view_interval()
        span = np.log10(hi / lo) if lo > 0 and hi > lo else 99

        def minor(v, _, span=span):
            mantissa = round(v / 10 ** np.floor(np.log10(v)), 6) if v > 0 else 0
            return f"{v:g}" if span <= 2 and mantissa in (2.0, 5.0) else ""

        axis.set_minor_formatter(matplotlib.ticker.FuncFormatter(minor))


def _queues(df: pd.DataFrame) -> pd.Series:
    """Receive queues per run (runs with a topology); 1 for the others."""
    for col in ("topology.queues", "topology.queues.mean"):
        if col in df.columns:
            return df[col].fillna(1).astype(float)
    return pd.Series(1.0, index=df.index)


def memory_vs_capacity(data) -> list:
    """The 2008 trade-off: guest memory a full ring pins against how many MTU packets it holds."""
    df = data.runs if isinstance(data, RunSet) else data.points
    df = df.copy()
    # memory.ring_pinned_bytes_full totals every ring of a topology: one ring's share.
    df["memory.ring_pinned_bytes_full"] = df["memory.ring_pinned_bytes_full"] / _queues(df)
    df = df.drop_duplicates(subset=["policy.name", "ring.size"]).copy()
    colors = _policy_colors(df["policy.name"])
    fig, ax = plt.subplots()
    for policy, g in df.groupby("policy.name", sort=True):
        g = g.sort_values("ring.size")
        ax.plot(g["memory.ring_pinned_bytes_full"] / MiB, g["ring.capacity_packets_mtu"], "o-", color=colors[policy],
                label=policy)
    # Each ring size labelled once, at its point on the line that holds the most packets there (lines of
    # other policies often lie on top of each other, and their labels did too).
    top = df.sort_values("ring.capacity_packets_mtu", kind="stable").drop_duplicates("ring.size", keep="last")
    for _, r in top.iterrows():
        ax.annotate(f"{int(r['ring.size'])}", (r["memory.ring_pinned_bytes_full"] / MiB, r["ring.capacity_packets_mtu"]),
                    textcoords="offset points", xytext=(-4, 5), ha="right", fontsize=7, color=colors[r["policy.name"]])
    ax.set_xscale("log")
    ax.set_yscale("log")
    _plain_log_labels(ax.xaxis, ax.yaxis)
    ax.tick_params(which="minor", labelsize=7)
    ax.set_xlabel("guest memory pinned by one full rx queue (MiB, ring + posted buffers)")
    ax.set_ylabel("MTU packets the full ring holds")
    ax.set_title("Memory against packet capacity (labels: ring entries, the same on every line)")
    _legend_outside(ax, title="policy")
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


def throughput_by_point(data) -> list:
    """Every sweep point's mean throughput with its 95% interval (any axes)."""
    if not isinstance(data, SweepSet):
        return []
    df = data.points
    keys = [a for a in data.axes if a not in NOT_A_SERIES and df[a].nunique() > 1] or data.axes
    labels = [_label(r, keys) for _, r in df.iterrows()]
    fig, ax = plt.subplots(figsize=(7.5, 0.3 * len(df) + 2.2))
    y = np.arange(len(df))
    ax.barh(y, df["throughput.delivered_gbps.mean"], xerr=df["throughput.delivered_gbps.ci95"].fillna(0),
            color="tab:blue", alpha=0.8, capsize=3)
    ax.set_yticks(y, labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("delivered throughput (Gb/s, mean with 95% confidence interval)")
    ax.set_title(f"Sweep {data.name}: throughput per point")
    fig.tight_layout()
    return [("throughput_by_point", fig)]


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
        note = "frames dropped in the run"
    else:
        df = data.points
        keys = [a for a in data.axes if a not in NOT_A_SERIES and df[a].nunique() > 1] or data.axes
        labels = [_label(r, keys) for _, r in df.iterrows()]
        cols = {r: f"drops.{r}.mean" for r in DROP_REASONS}
        arrived_col = "packets.arrived.mean"
        note = "frames dropped per run (mean over replications)"
    present = {r: c for r, c in cols.items() if c in df.columns}
    fig, ax = plt.subplots(figsize=(7.5, 0.3 * len(df) + 2.2))
    y = np.arange(len(df))
    left = np.zeros(len(df))
    colors = {"tap_full": "tab:red", "too_large": "tab:orange", "device_broken": "tab:purple"}
    for reason, col in present.items():
        v = df[col].fillna(0).to_numpy(dtype=float)
        ax.barh(y, v, left=left, color=colors[reason], label=reason)
        left += v
    arrived = df[arrived_col].to_numpy(dtype=float) if arrived_col in df.columns else np.full(len(df), np.nan)
    for yi, total, whole in zip(y, left, arrived):
        ax.annotate(f"{total:,.0f}{_share_text(total, whole) if total else ''}", (total, yi), xytext=(3, 0),
                    textcoords="offset points", va="center", fontsize=7)
    ax.set_xlim(0, max(float(left.max()), 1.0) * 1.45)  # room for the labels
    _integer_axis(ax.xaxis, nbins=5)
    ax.set_yticks(y, labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel(note)
    ax.set_title("Drops by reason (label: dropped, and their share of arrivals)")
    _legend_outside(ax)
    fig.tight_layout()
    return [("drops_by_reason", fig)]


def buffers_per_packet(data) -> list:
    """How many buffers (descriptors written) each delivered packet used: the share of packets per count."""
    df = data.runs if isinstance(data, RunSet) else data.results
    cols = sorted((c for c in df.columns if c.startswith("buffers_per_packet.")), key=lambda c: int(c.split(".")[1]))
    if not cols:
        return []
    by = "config.name" if isinstance(data, RunSet) else "policy.name"
    counts = df.groupby(by, sort=True)[cols].sum()
    shares = counts.div(counts.sum(axis=1).replace(0, np.nan), axis=0).fillna(0)
    ks = [int(c.split(".")[1]) for c in cols]
    fig, ax = plt.subplots()
    width = 0.8 / max(1, len(shares))
    cmap = plt.get_cmap("tab10")
    for i, (name, row) in enumerate(shares.iterrows()):
        ax.bar(np.arange(len(ks)) + i * width, row.to_numpy(), width=width, color=cmap(i % 10), label=str(name))
    ax.set_xticks(np.arange(len(ks)) + 0.4 - width / 2, [str(k) for k in ks])
    ax.set_xlabel("buffers (descriptors written) per delivered packet")
    ax.set_ylabel("share of delivered packets")
    ax.set_ylim(0, 1)
    ax.set_title("Buffers per packet")
    _legend_outside(ax)
    return [("buffers_per_packet", fig)]


TIMESERIES_RUNS_PER_FIGURE = 6


def _regular(ts: pd.DataFrame, interval: float) -> pd.DataFrame:
    """The series back on its regular sampling grid: `measure.skip_idle_samples` keeps only the first and
    last of a run of identical rows, so carrying each row forward restores every sample exactly."""
    if not interval or interval != interval or len(ts) < 2:
        return ts
    k = np.rint(ts["time_s"].to_numpy(dtype=float) / interval).astype(np.int64)
    if len(np.unique(k)) != len(k):  # not on a grid of this interval: leave it as it is
        return ts
    full = np.arange(k[0], k[-1] + 1)
    if len(full) > 5_000_000:
        return ts
    out = ts.set_index(k).reindex(full).ffill()
    out["time_s"] = full * interval
    return out.reset_index(drop=True)


def timeseries(data) -> list:
    """Ring occupancy, posted memory and the tap queue over time: one row of panels per run (six runs a
    figure, then timeseries_2, ...), each with the raw samples faint and their rolling mean."""
    if not isinstance(data, RunSet) or not data.timeseries:
        return []
    runs = data.runs.set_index(data.runs["config.name"].astype(str))
    # free_descriptors counts every ring of a topology
    sizes = (data.runs["ring.size"] * _queues(data.runs)).set_axis(runs.index)
    names = sorted(data.timeseries)
    figures = []
    for page, first in enumerate(range(0, len(names), TIMESERIES_RUNS_PER_FIGURE)):
        chunk = names[first:first + TIMESERIES_RUNS_PER_FIGURE]
        fig, axes = plt.subplots(len(chunk), 3, figsize=(11, 2.2 * len(chunk) + 1.2), squeeze=False,
                                 sharex="row")
        for row, name in enumerate(chunk):
            interval = float(runs.at[name, "config.measure.sample_interval_s"]) \
                if "config.measure.sample_interval_s" in runs.columns else 0.0
            ts = _regular(data.timeseries[name], interval)
            window = max(5, len(ts) // 50)
            t = ts["time_s"].to_numpy(dtype=float)
            series = [
                (100 * (sizes[name] - ts["free_descriptors"]) / sizes[name], "descriptors in use (%)", False),
                (ts["posted_bytes"] / MiB, "posted buffers (MiB)", False),
                (ts["tap_queue_packets"].astype(float), "tap queue (frames)", True),
            ]
            for col, (y, what, counts) in enumerate(series):
                ax = axes[row][col]
                ax.plot(t, y, color="tab:blue", alpha=0.3, linewidth=0.5, label="every sample")
                ax.plot(t, y.rolling(window, center=True, min_periods=1).mean(), color="tab:blue", linewidth=1.2,
                        label=f"rolling mean of {window}")
                if counts:
                    _integer_axis(ax.yaxis)
                else:
                    ax.yaxis.get_major_formatter().set_useOffset(False)
                ax.tick_params(labelsize=7)
                ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=4))
                if row == 0:
                    ax.set_title(what, fontsize=9)
                if row == len(chunk) - 1:
                    ax.set_xlabel("simulated time (s)", fontsize=8)
            axes[row][0].set_ylabel(name, fontsize=8)
        axes[0][2].legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, fontsize=7)
        more = f" (runs {first + 1}-{first + len(chunk)} of {len(names)})" if len(names) > len(chunk) else ""
        fig.suptitle(f"Ring, memory and tap queue over time, one row per run{more}", fontsize=10)
        fig.tight_layout()
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
    means = df.groupby(series_keys + ["topology.guests"], sort=True)[metrics].mean().reset_index()
    means["unsteady"] = df.groupby(series_keys + ["topology.guests"], sort=True)["unsteady"].any().to_numpy()
    means["drop_pct"] = 100 * means["packets.dropped"] / means["packets.arrived"].where(means["packets.arrived"] > 0)
    fig, (top, bottom, drops) = plt.subplots(3, 1, sharex=True, figsize=(7.5, 10),
                                             gridspec_kw={"height_ratios": [3, 3, 2]})
    def name(key: str) -> str:  # topology.cores.host.count -> cores host; topology.guests.vm.queues -> queues/guest
        parts = key.split(".")
        if key.startswith("topology.cores.") and len(parts) == 4:
            return f"{parts[2]} cores"
        if key.startswith("topology.guests.") and len(parts) == 4:
            return f"{parts[3]}/guest"
        return parts[-1]

    def label(row) -> str:
        return ", ".join(str(row[k]) if k == "policy.name" else f"{name(k)} {row[k]:g}" if isinstance(row[k], float)
                         else f"{name(k)} {row[k]}" for k in series_keys) if series_keys else "all"

    by = series_keys[0] if len(series_keys) == 1 else series_keys
    groups = list(means.groupby(by, sort=True)) if series_keys else [((), means)]
    cmap = plt.get_cmap("tab20" if len(groups) > 10 else "tab10")
    for i, (_, g) in enumerate(groups):
        g = g.sort_values("topology.guests")
        style = dict(color=cmap(i % cmap.N), marker=MARKERS[i % len(MARKERS)], label=label(g.iloc[0]),
                     markersize=7 - 3 * (i % 2), alpha=0.9)  # identical values stay visible
        x = g["topology.guests"].to_numpy(dtype=float)
        for ax, y in ((top, g["memory.pinned_bytes_total"] / MiB), (bottom, g["throughput.delivered_gbps"]),
                      (drops, g["drop_pct"])):
            _line_marking_unsteady(ax, x, y.to_numpy(dtype=float), g["unsteady"].to_numpy(), style)
    offered = means.groupby("topology.guests")["throughput.offered_gbps"].mean()
    bottom.plot(offered.index.to_numpy(dtype=float), offered.to_numpy(), "k:", linewidth=1.5,
                label="offered load")
    top.set_yscale("log")
    _plain_log_labels(top.yaxis)
    top.tick_params(which="minor", labelsize=7)
    top.set_ylabel("guest memory pinned, all guests (MiB:\nrings + peak posted buffers)")
    bottom.set_ylabel("delivered throughput,\nall guests (Gb/s)")
    bottom.set_ylim(bottom=0)
    drops.set_ylabel("frames dropped\n(% of arrivals)")
    drops.set_ylim(bottom=0)
    _log2_x(drops, means["topology.guests"].unique())
    drops.set_xlabel("guests on the host" + ("\n(hollow markers: runs not in steady state, not results)"
                                              if means["unsteady"].any() else ""))
    top.set_title("Capacity: what the guests pin, what they get, what is dropped")
    _legend_outside(top, fontsize=7)
    bottom.legend(handles=bottom.get_lines()[-1:], loc="lower right", fontsize=7)  # the offered-load line
    fig.tight_layout()
    return [("capacity", fig)]


FIGURES = [capacity, memory_vs_capacity, throughput_vs_ring_size, throughput_by_point, drops_by_reason, buffers_per_packet,
           timeseries]
