#!/usr/bin/env bash
# Issue 30, "Silent mistakes a new user hit": commands that answered outside
# their model, blamed a --set nobody typed, or resolved a typed path against
# the wrong folder. Usage: silent_mistakes_test.sh VRINGSIM SOURCE_DIR
set -u
BIN=$(realpath "$1")
SRC=$(realpath "$2")
# shellcheck source=tests/cli/lib.sh
. "$(dirname "$0")/lib.sh"
json() {  # json FILE PYTHON-EXPRESSION-ON-d
  /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1" 2>/dev/null
}

# ---- analytic: refuses what M/M/1/K cannot represent --------------------------
# A linux-6.x scenario with every cost and assumption the command used to
# check set as it wants: the profile's latencies, vhost's batch and the
# page_frag carve and EWMA costs were still there, and it answered (exit 0).
cat >"$T/linux6-mm1k.json" <<'J'
{"name": "l6", "driver": {"profile": "linux-6.x"}, "stop": {"time_s": 0.2}, "measure": {"warmup_s": 0.01},
 "host": {"tap_queue_packets": 31},
 "traffic": {"kind": "synthetic", "synthetic": {"length": "fixed", "len_bytes": 1514},
             "arrival": "poisson", "rate_gbps": 1.1, "link_gbps": 1000},
 "costs": {
   "host": {"service_distribution": "exponential", "per_packet_ns": 9578.5, "per_kick_ns": 0, "per_interrupt_ns": 0},
   "guest": {"per_packet_ns": 0, "per_descriptor_ns": 0, "per_byte_copy_ns": 0, "per_page_alloc_ns": 0,
             "per_page_free_ns": 0, "per_page_recycle_ns": 0, "per_kick_ns": 0, "per_interrupt_ns": 0,
             "per_poll_ns": 0}}}
J
run "$BIN" analytic "$T/linux6-mm1k.json"
check "analytic linux-6: exit 2, nothing on stdout, one line" [ "$rc" = 2 -a -z "$out" -a "$(grep -c '' "$T/err")" = 1 ]
for key in /latency/kick_ns /latency/interrupt_ns /latency/vcpu_wakeup_ns /latency/backend_wakeup_ns /host/backend \
  /costs/guest/per_frag_carve_ns /costs/guest/per_ewma_update_ns /costs/guest/per_indirect_table_ns \
  /policy/mergeable/sizing; do
  check "analytic linux-6: names $key" grep -q -- "$key" "$T/err"
done
check "analytic linux-6: the line starts with the file" grep -q "^$T/linux6-mm1k.json: " "$T/err"
# The same with the latencies, the backend and the costs it names put right: it applies.
run "$BIN" analytic "$T/linux6-mm1k.json" --set latency.kick_ns=0 --set latency.interrupt_ns=0 \
  --set latency.vcpu_wakeup_ns=0 --set latency.backend_wakeup_ns=0 --set host.backend=qemu \
  --set costs.guest.per_frag_carve_ns=0 --set costs.guest.per_ewma_update_ns=0 --set policy.mergeable.sizing=page \
  --set costs.guest.per_indirect_table_ns=0
check "analytic linux-6 put right: exit 0 (stderr: $err)" [ "$rc" = 0 ]

# At a light load the model's drop probability is rounding noise (1e-40 or
# -1e-18): never negative, and no "-100 %" against a simulated 0.
run "$BIN" analytic "$SRC/scenarios/analytic/mm1k-rho0.9.json" --set traffic.rate_gbps=0.2 --set stop.time_s=0.3
check "analytic light load: exit 0" [ "$rc" = 0 ]
check "analytic light load: a drop_probability row" grep -q "^  drop_probability " "$T/out"
check "analytic light load: no negative figure" [ -z "$(grep -E '^  [a-z_]+ +-' "$T/out")" ]
check "analytic light load: no -100 % on a figure at rounding noise" [ -z "$(grep -E -- '-100\.00%' "$T/out")" ]
check "analytic: the simulated time rounded" grep -qE "simulated 0\.25 s$" "$T/out"
run "$BIN" analytic "$SRC/scenarios/analytic/mm1k-rho0.9.json" --set stop.time_s=0.3 --set measure.warmup_s=0.1
check "analytic: 0.3 - 0.1 s simulated prints as 0.2 s, not 0.19999999999999998 s" grep -qE "simulated 0\.2 s$" "$T/out"
run "$BIN" analytic "$SRC/scenarios/analytic/mm1k-rho0.9.json" --set traffic.rate_gbps=0.2 --set stop.time_s=0.3 --json
p=$(/usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin)[0]; print(min(d['analytic']['drop_probability'], d['simulated']['drop_probability']))" <"$T/out" 2>/dev/null)
check "analytic --json: drop probabilities are >= 0 (got $p)" /usr/bin/python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) >= 0 else 1)" "${p:--1}"

# ---- ring-size: the default sizes below one slot are skipped -------------------
run "$BIN" ring-size "$SRC/scenarios/seed-2008/max-buffer.json" --set stop.time_s=0.02 --set measure.warmup_s=0.005 \
  --jobs 2
check "ring-size max-buffer, default sizes: exit 0 (stderr: $err)" [ "$rc" = 0 ]
check "ring-size: says which default sizes it skipped and why" \
  grep -q "skipped the default sizes 8, 16: fewer entries than one max-buffer slot (20 descriptors)" "$T/err"
check "ring-size: blames no --set ring.size the user never typed" [ -z "$(grep -- '--set ring.size' "$T/err")" ]
check "ring-size: the table starts at 32" [ "$(awk '$1 ~ /^[0-9]+$/ {print $1; exit}' "$T/out")" = 32 ]
check "ring-size: numbers in plain notation" [ -z "$(grep -E '[0-9]e[+-]?[0-9]' "$T/out")" ]
check "ring-size: the computed knee line" grep -qE "^computed knee: [0-9]+(\.[0-9]+)? slots = [0-9]+(\.[0-9]+)? ring entries$" "$T/out"
# Sizes the user typed that hold no slot are still bad input, named as typed.
run "$BIN" ring-size "$SRC/scenarios/seed-2008/max-buffer.json" --sizes 8,64 --set stop.time_s=0.02 \
  --set measure.warmup_s=0.005
check "ring-size --sizes 8,64: exit 2, one line, nothing on stdout" [ "$rc" = 2 -a -z "$out" -a "$(grep -c '' "$T/err")" = 1 ]
check "ring-size --sizes 8: names --sizes, not a --set" grep -q -- "^--sizes 8,64: /ring/size: 8 entries cannot hold one max-buffer slot (20 descriptors)" "$T/err"
check "ring-size --sizes 8: no --set ring.size" [ -z "$(grep -- '--set ring.size' "$T/err")" ]

# ---- --set costs.preset=FILE resolves against the working directory ------------
mkdir -p "$T/cwd/scen" "$T/cwd/presets"
printf '{"kind": "vringsim-cost-preset", "costs": {"guest": {"per_packet_ns": 4321}}}\n' >"$T/cwd/presets/typed.json"
printf '{"kind": "vringsim-cost-preset", "costs": {"guest": {"per_packet_ns": 1234}}}\n' >"$T/cwd/scen/inside.json"
cat >"$T/cwd/scen/p.json" <<'J'
{"name": "p", "stop": {"time_s": 0.01}, "measure": {"warmup_s": 0.002}, "costs": {"preset": "inside.json"}}
J
cat >"$T/cwd/scen/q.json" <<'J'
{"name": "q", "stop": {"time_s": 0.01}, "measure": {"warmup_s": 0.002}}
J
cd "$T/cwd" || exit 1
run "$BIN" run scen/p.json --out "$T/cwd/o1"
check "a preset written in a scenario resolves against its folder" \
  [ "$rc" = 0 -a "$(json "$T/cwd/o1/p/summary.json" "float(d['config']['costs']['guest']['per_packet_ns'])")" = 1234.0 ]
run "$BIN" run scen/q.json --set costs.preset=presets/typed.json --out "$T/cwd/o2"
check "--set costs.preset=FILE resolves against the working directory (stderr: $err)" \
  [ "$rc" = 0 -a "$(json "$T/cwd/o2/q/summary.json" "float(d['config']['costs']['guest']['per_packet_ns'])")" = 4321.0 ]
run "$BIN" validate scen/p.json --set costs.preset=presets/typed.json
check "--set costs.preset over a scenario's own preset: validate ok" [ "$rc" = 0 ]
run "$BIN" validate scen/q.json --set costs.preset=typed.json
check "--set costs.preset=FILE missing: exit 2, one line" [ "$rc" = 2 -a "$(grep -c '' "$T/err")" = 1 ]
check "--set costs.preset=FILE missing: names the --set and the path tried" \
  grep -q -- "^--set costs.preset=typed.json: /costs/preset: typed.json does not exist" "$T/err"
cd "$T/cwd/scen" || exit 1
run "$BIN" validate p.json
check "a scenario's preset still found from its own folder" [ "$rc" = 0 ]
cd "$T" || exit 1

# ---- a capture or trace file a --set names resolves against the working directory too
cd "$SRC" || exit 1
run "$BIN" validate scenarios/traffic/pcap-loopback-mergeable.json --set traffic.pcap.file=scenarios/traffic/data/loopback-tcp.pcap
check "--set traffic.pcap.file=FILE resolves against the working directory (stderr: $err)" [ "$rc" = 0 ]
run "$BIN" validate scenarios/traffic/pcap-loopback-mergeable.json --set traffic.pcap.file=loopback-tcp.pcap
check "--set traffic.pcap.file=FILE missing: exit 2" [ "$rc" = 2 ]
run "$BIN" validate scenarios/traffic/pcap-loopback-mergeable.json
check "a capture a scenario names still resolves against its folder" [ "$rc" = 0 ]
cd "$T" || exit 1

echo "$pass passed, $fails failed"
[ "$fails" = 0 ]
