#!/usr/bin/python3
"""vringsim sensitivity against a case whose elasticities follow by hand.

The M/M/1/K scenario (scenarios/analytic/mm1k-rho0.9.json): Poisson arrivals
at lambda, exponential host service of mean s, K frames of room. Its drop
probability is P_K = (1 - rho) rho^K / (1 - rho^(K+1)), rho = lambda s, and
its throughput lambda (1 - P_K). Moving costs.host.per_packet_ns (c of the
s = 10,000 ns) by +-rel moves s by +-rel c; the elasticities vringsim
sensitivity reports are central differences, so the closed form is taken
the same way:  E = (f(s + rel c) - f(s - rel c)) / (2 rel f(s)).

Usage: check_sensitivity.py VRINGSIM SOURCE_DIR
"""
import csv
import json
import os
import subprocess
import sys
import tempfile

binary, source = sys.argv[1], sys.argv[2]
scenario = os.path.join(source, "scenarios", "analytic", "mm1k-rho0.9.json")
rel = 0.1
failures = []

model = json.loads(subprocess.run([binary, "analytic", scenario, "--json"], check=True, capture_output=True,
                                  text=True).stdout)[0]["model"]
lam, mu, K = model["lambda_pps"], model["mu_pps"], model["capacity"]
s = 1e9 / mu
with open(scenario) as f:
    c = json.load(f)["costs"]["host"]["per_packet_ns"]


def blocking(service_ns):
    r = lam * service_ns * 1e-9
    return (1 - r) * r ** K / (1 - r ** (K + 1))


def central(f):
    return (f(s + rel * c) - f(s - rel * c)) / (2 * rel * f(s))


expected = {"elasticity_drops": central(blocking), "elasticity_gbps": central(lambda x: lam * (1 - blocking(x)))}

with tempfile.TemporaryDirectory() as tmp:
    out = os.path.join(tmp, "sens.csv")
    subprocess.run([binary, "sensitivity", scenario, "--params", "costs.host.per_packet_ns,costs.host.per_byte_ns",
                    "--rel", str(rel), "--csv", out], check=True, capture_output=True, text=True)
    with open(out) as f:
        rows = {r["cost"]: r for r in csv.DictReader(f)}

row = rows.get("costs.host.per_packet_ns")
if row is None:
    failures.append(f"no row for costs.host.per_packet_ns in {sorted(rows)}")
else:
    for key, want in expected.items():
        got = float(row[key])
        # Poisson noise on ~1,200 drops a run, damped by common random numbers.
        if abs(got - want) > 0.10 * abs(want):
            failures.append(f"{key}: simulated {got:.4f}, closed form {want:.4f}")
        print(f"{key}: simulated {got:.4f}, closed form {want:.4f}")
# Sorted by effect: the per-frame cost (96% of the service time) moves drops
# far more than the per-byte one (4%).
order = list(rows)
if order[:1] != ["costs.host.per_packet_ns"]:
    failures.append(f"rows not sorted by effect: {order}")
for m in failures:
    print("FAIL:", m)
sys.exit(1 if failures else 0)
