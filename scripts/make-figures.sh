#!/usr/bin/env bash
# Redraws the figures the README shows (docs/figures/*.png), one of each
# kind, from the shipped sweeps at their full length, the 2008 runs and the
# 36 linux-6 runs. The sweeps go to out/figures (a rerun resumes them; the
# capacity sweep is the long one: 24 runs of 3 simulated seconds, about 7
# minutes with --jobs 2 on 2 cores).
#   bash scripts/make-figures.sh [--jobs N]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${VRINGSIM:-build/vringsim}
work=out/figures
mkdir -p "$work" docs/figures
for s in ring-size traffic-mix capacity; do
  "$bin" sweep "scenarios/sweeps/$s.json" --out "$work/$s" "$@" >"$work/$s.log"
  "$bin" plot "$work/$s" --out "$work/$s/figures" --format png >/dev/null
done
rm -rf "$work/seed-2008" "$work/linux-6"
"$bin" run scenarios/seed-2008/*.json --out "$work/seed-2008" >"$work/seed-2008.log"
"$bin" plot "$work/seed-2008" --out "$work/seed-2008/figures" --format png >/dev/null
# --jobs applies here too (vringsim run --jobs N)
"$bin" run scenarios/linux-6/*.json --out "$work/linux-6" "$@" >"$work/linux-6.log"
"$bin" plot "$work/linux-6" --out "$work/linux-6/figures" --format png >/dev/null
# figure (docs/figures/NAME.png) <- which input's
pick() { cp "$work/$1/figures/$2.png" "docs/figures/$2.png"; echo "docs/figures/$2.png  (from $1)"; }
pick ring-size memory_vs_capacity
pick ring-size throughput_vs_ring_size
pick linux-6 buffers_per_packet
pick traffic-mix throughput_by_point
pick traffic-mix drops_by_reason
pick capacity capacity
pick seed-2008 timeseries
