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


def _label(row: pd.Series, keys: list[str]) -> str:
    parts = []
    for k in keys:
        v = row[k]
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        parts.append(f"{k.split('.')[-1]}={v}" if k != "policy.name" else str(v))
    return ", ".join(parts)


def _log2_x(ax, values) -> None:
    """A log2 x axis ticked at the given integer values (ring sizes, guest counts)."""
    ax.set_xscale("log", base=2)
    ticks = sorted(values)
    ax.set_xticks(ticks, [str(int(v)) for v in ticks])
    ax.minorticks_off()


def _plain_log_labels(*axes) -> None:
    """Label a log axis's major and minor ticks as plain numbers (20, 30, 40 rather than 10^1.3...)."""
    plain = matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}")
    for axis in axes:
        axis.set_major_formatter(plain)
        axis.set_minor_formatter(plain)


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
        for _, r in g.iterrows():
            ax.annotate(f"{int(r['ring.size'])}", (r["memory.ring_pinned_bytes_full"] / MiB,
                                                   r["ring.capacity_packets_mtu"]),
                        textcoords="offset points", xytext=(4, 3), fontsize=7, color=colors[policy])
    ax.set_xscale("log")
    ax.set_yscale("log")
    _plain_log_labels(ax.xaxis, ax.yaxis)
    ax.tick_params(which="minor", labelsize=7)
    ax.set_xlabel("guest memory pinned by one full rx queue (MiB, ring + posted buffers)")
    ax.set_ylabel("MTU packets the full ring holds")
    ax.set_title("Memory against packet capacity (labels: ring entries)")
    ax.legend(title="policy")
    return [("memory_vs_capacity", fig)]


def throughput_vs_ring_size(data) -> list:
    """Delivered throughput against ring size, per series of the other axes, with 95% confidence bands."""
    if not isinstance(data, SweepSet) or "ring.size" not in data.axes:
        return []
    df = data.points
    series_keys = [a for a in data.axes if a not in ("ring.size",) and a not in NOT_A_SERIES
                   and df[a].nunique() > 1]
    if "policy.name" not in series_keys and "policy.name" in df.columns and df["policy.name"].nunique() > 1:
        series_keys.insert(0, "policy.name")
    fig, ax = plt.subplots()
    if not series_keys:
        groups = [((), df)]
    else:
        groups = df.groupby(series_keys[0] if len(series_keys) == 1 else series_keys, sort=True)
    cmap = plt.get_cmap("tab10")
    for i, (_, g) in enumerate(groups):
        g = g.sort_values("ring.size")
        x = g["ring.size"].to_numpy(dtype=float)
        mean = g["throughput.delivered_gbps.mean"].to_numpy(dtype=float)
        ci = g["throughput.delivered_gbps.ci95"].fillna(0).to_numpy(dtype=float)
        label = _label(g.iloc[0], series_keys) if series_keys else "all points"
        n = int(g["n"].min())
        ax.plot(x, mean, "o-", color=cmap(i % 10), label=f"{label} (n={n})")
        ax.fill_between(x, mean - ci, mean + ci, color=cmap(i % 10), alpha=0.2, linewidth=0)
    _log2_x(ax, df["ring.size"].unique())
    ax.set_xlabel("ring size (entries)")
    ax.set_ylabel("delivered throughput (Gb/s)")
    ax.set_ylim(bottom=0)
    ax.set_title("Throughput against ring size (band: 95% confidence interval of the mean)")
    ax.legend()
    return [("throughput_vs_ring_size", fig)]


def throughput_by_point(data) -> list:
    """Every sweep point's mean throughput with its 95% interval (any axes)."""
    if not isinstance(data, SweepSet):
        return []
    df = data.points
    keys = [a for a in data.axes if a not in NOT_A_SERIES and df[a].nunique() > 1] or data.axes
    labels = [_label(r, keys) for _, r in df.iterrows()]
    fig, ax = plt.subplots(figsize=(7.5, 0.3 * len(df) + 1.5))
    y = np.arange(len(df))
    ax.barh(y, df["throughput.delivered_gbps.mean"], xerr=df["throughput.delivered_gbps.ci95"].fillna(0),
            color="tab:blue", alpha=0.8, capsize=3)
    ax.set_yticks(y, labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("delivered throughput (Gb/s, mean with 95% confidence interval)")
    ax.set_title(f"Sweep {data.path}: throughput per point")
    fig.tight_layout()
    return [("throughput_by_point", fig)]


def drops_by_reason(data) -> list:
    """Frames dropped per run (or per point, mean over replications), by where they were dropped."""
    if isinstance(data, RunSet):
        df = data.runs
        labels = list(df["config.name"].astype(str))
        cols = {r: f"drops.{r}" for r in DROP_REASONS}
        note = "frames dropped in the run"
    else:
        df = data.points
        keys = [a for a in data.axes if a not in NOT_A_SERIES and df[a].nunique() > 1] or data.axes
        labels = [_label(r, keys) for _, r in df.iterrows()]
        cols = {r: f"drops.{r}.mean" for r in DROP_REASONS}
        note = "frames dropped per run (mean over replications)"
    present = {r: c for r, c in cols.items() if c in df.columns}
    fig, ax = plt.subplots(figsize=(7.5, 0.3 * len(df) + 1.5))
    y = np.arange(len(df))
    left = np.zeros(len(df))
    colors = {"tap_full": "tab:red", "too_large": "tab:orange", "device_broken": "tab:purple"}
    for reason, col in present.items():
        v = df[col].fillna(0).to_numpy(dtype=float)
        ax.barh(y, v, left=left, color=colors[reason], label=reason)
        left += v
    ax.set_yticks(y, labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel(note)
    ax.set_title("Drops by reason")
    ax.legend()
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
    ax.legend()
    return [("buffers_per_packet", fig)]


def timeseries(data) -> list:
    """Ring occupancy, posted memory and the tap queue over time, one line per run."""
    if not isinstance(data, RunSet) or not data.timeseries:
        return []
    fig, axes = plt.subplots(3, 1, sharex=True, figsize=(7.5, 7.5))
    cmap = plt.get_cmap("tab10")
    # free_descriptors counts every ring of a topology
    sizes = dict(zip(data.runs["config.name"].astype(str), data.runs["ring.size"] * _queues(data.runs)))
    for i, (name, ts) in enumerate(sorted(data.timeseries.items())):
        c = cmap(i % 10)
        in_use = (sizes[name] - ts["free_descriptors"]) / sizes[name]
        axes[0].plot(ts["time_s"], 100 * in_use, color=c, label=name, linewidth=0.8)
        axes[1].plot(ts["time_s"], ts["posted_bytes"] / MiB, color=c, linewidth=0.8)
        axes[2].plot(ts["time_s"], ts["tap_queue_packets"], color=c, linewidth=0.8)
    axes[0].set_ylabel("descriptors in use (%)")
    axes[1].set_ylabel("posted buffers (MiB)")
    axes[2].set_ylabel("tap queue (frames)")
    axes[2].set_xlabel("simulated time (s)")
    axes[0].set_title("Ring, memory and tap queue over time")
    axes[0].legend(ncol=2)
    fig.tight_layout()
    return [("timeseries", fig)]


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
    metrics = ["memory.pinned_bytes_total", "throughput.delivered_gbps", "throughput.offered_gbps"]
    if any(c not in df.columns for c in metrics):
        return []
    means = df.groupby(series_keys + ["topology.guests"], sort=True)[metrics].mean().reset_index()
    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(7.5, 8))
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
        c = cmap(i % cmap.N)
        text = label(g.iloc[0])
        x = g["topology.guests"].to_numpy(dtype=float)
        top.plot(x, g["memory.pinned_bytes_total"] / MiB, "o-", color=c, label=text)
        bottom.plot(x, g["throughput.delivered_gbps"], "o-", color=c, label=text)
    offered = means.groupby("topology.guests")["throughput.offered_gbps"].mean()
    bottom.plot(offered.index.to_numpy(dtype=float), offered.to_numpy(), "k:", linewidth=1, label="offered")
    top.set_yscale("log")
    _plain_log_labels(top.yaxis)
    top.tick_params(which="minor", labelsize=7)
    top.set_ylabel("guest memory pinned, all guests (MiB:\nrings + peak posted buffers)")
    bottom.set_ylabel("delivered throughput, all guests (Gb/s)")
    bottom.set_ylim(bottom=0)
    _log2_x(bottom, means["topology.guests"].unique())
    bottom.set_xlabel("guests on the host")
    top.set_title("Capacity: what the guests pin, and what they get")
    top.legend(ncol=2, fontsize=7)
    fig.tight_layout()
    return [("capacity", fig)]


FIGURES = [capacity, memory_vs_capacity, throughput_vs_ring_size, throughput_by_point, drops_by_reason, buffers_per_packet,
           timeseries]
