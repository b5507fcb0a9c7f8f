"""Loading what `vringsim run --out` and `vringsim sweep --out` write.

A run directory holds runs.csv and one <name>/ directory per run with
summary.json and timeseries.csv. A sweep directory holds results.csv (one row
per run), aggregate.csv (per point: <metric>.mean and <metric>.ci95) and
sweep.json (the points and their axis values). Missing files or columns are
bad input: InputError, which the command line turns into exit 2.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import pandas as pd


class InputError(Exception):
    """Bad input: the message names the file and what is missing."""


def _read_csv(path: str) -> pd.DataFrame:
    try:
        df = pd.read_csv(path)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: empty file") from None
    except pd.errors.ParserError as e:
        raise InputError(f"{path}: not CSV: {str(e).splitlines()[0]}") from None
    if df.empty:
        raise InputError(f"{path}: no rows")
    return df


def _require(df: pd.DataFrame, path: str, columns: list[str]) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}")


RUN_COLUMNS = [
    "config.name", "policy.name", "ring.size", "ring.capacity_packets_mtu", "memory.posted_bytes_full",
    "memory.ring_pinned_bytes_full", "throughput.delivered_gbps", "drops.tap_full", "drops.too_large",
]
TIMESERIES_COLUMNS = ["time_s", "free_descriptors", "posted_bytes", "tap_queue_packets", "avail_chains"]


@dataclass
class RunSet:
    """Runs of `vringsim run --out DIR`: one row each, plus their time series."""
    path: str
    runs: pd.DataFrame
    timeseries: dict[str, pd.DataFrame] = field(default_factory=dict)
    kind: str = "runs"


@dataclass
class SweepSet:
    """A sweep: its runs, its points (axis values + means and CIs) and axes."""
    path: str
    results: pd.DataFrame
    points: pd.DataFrame
    axes: list[str]
    name: str = ""  # the sweep's name (sweep.json), for titles
    kind: str = "sweep"


def load_runs(directory: str) -> RunSet:
    csv = os.path.join(directory, "runs.csv")
    runs = _read_csv(csv)
    _require(runs, csv, RUN_COLUMNS)
    runs = runs.sort_values("config.name", kind="stable").reset_index(drop=True)
    series = {}
    for name in runs["config.name"]:
        ts_path = os.path.join(directory, str(name), "timeseries.csv")
        if os.path.exists(ts_path):
            ts = _read_csv(ts_path)
            _require(ts, ts_path, TIMESERIES_COLUMNS)
            series[str(name)] = ts
    return RunSet(directory, runs, series)


def load_sweep(directory: str) -> SweepSet:
    results_csv = os.path.join(directory, "results.csv")
    aggregate_csv = os.path.join(directory, "aggregate.csv")
    spec_json = os.path.join(directory, "sweep.json")
    results = _read_csv(results_csv)
    _require(results, results_csv, ["point_id", "rep", *RUN_COLUMNS])
    aggregate = _read_csv(aggregate_csv)
    _require(aggregate, aggregate_csv, ["point_id", "n", "throughput.delivered_gbps.mean",
                                        "throughput.delivered_gbps.ci95"])
    try:
        with open(spec_json, encoding="utf-8") as f:
            spec = json.load(f)
    except FileNotFoundError:
        raise InputError(f"{spec_json}: no such file") from None
    except json.JSONDecodeError as e:
        raise InputError(f"{spec_json}: line {e.lineno}: invalid JSON: {e.msg}") from None
    if not isinstance(spec, dict) or not isinstance(spec.get("points"), list) or not spec["points"]:
        raise InputError(f"{spec_json}: /points: expected a non-empty list (an empty sweep?)")
    rows = []
    for i, p in enumerate(spec["points"]):
        if not isinstance(p, dict) or "id" not in p or not isinstance(p.get("values"), dict):
            raise InputError(f"{spec_json}: /points/{i}: expected an object with id and values")
        rows.append({"point_id": p["id"], "index": p.get("index", i), **p["values"]})
    values = pd.DataFrame(rows)
    axes = [c for c in values.columns if c not in ("point_id", "index")]
    # String-valued results (policy.name) come from the runs; metrics with CIs from aggregate.csv.
    first = results.groupby("point_id", sort=False).first().reset_index()
    keep = ["point_id"] + [c for c in ("policy.name", "ring.size", "ring.capacity_packets_mtu",
                                        "memory.posted_bytes_full", "memory.ring_pinned_bytes_full")
                           if c not in axes]
    # aggregate.csv repeats the axis values (sweep.json's are typed): take them once.
    aggregate = aggregate.drop(columns=[c for c in axes if c in aggregate.columns])
    points = values.merge(first[keep], on="point_id", how="left").merge(aggregate, on="point_id", how="inner")
    if points.empty:
        raise InputError(f"{aggregate_csv}: no point of sweep.json has aggregated results")
    points = points.sort_values("index", kind="stable").reset_index(drop=True)
    name = spec.get("name") if isinstance(spec.get("name"), str) and spec.get("name") else \
        os.path.basename(os.path.normpath(directory))
    return SweepSet(directory, results, points, axes, name)


def load(path: str) -> RunSet | SweepSet:
    """A run directory, a sweep directory, or the runs.csv / results.csv in one."""
    if os.path.isfile(path):
        base = os.path.basename(path)
        if base == "results.csv":
            return load_sweep(os.path.dirname(path) or ".")
        if base == "runs.csv":
            return load_runs(os.path.dirname(path) or ".")
        raise InputError(f"{path}: expected a run or sweep directory, runs.csv or results.csv")
    if not os.path.isdir(path):
        raise InputError(f"{path}: no such file or directory")
    if os.path.exists(os.path.join(path, "results.csv")):
        return load_sweep(path)
    if os.path.exists(os.path.join(path, "runs.csv")):
        return load_runs(path)
    raise InputError(f"{path}: neither runs.csv (vringsim run --out) nor results.csv (vringsim sweep --out) here")
