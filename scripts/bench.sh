#!/usr/bin/env bash
# Runs the Rust benchmarks and prints a Markdown table with ratios to the raw signature check.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench -p authsec-core --bench verify "$@" >/tmp/authsec-bench.log 2>&1 || { tail -30 /tmp/authsec-bench.log; exit 1; }
python3 - <<'PY'
import json, os
base = "target/criterion"
def mean(*p):
    f = os.path.join(base, *p, "new", "estimates.json")
    return json.load(open(f))["mean"]["point_estimate"] if os.path.exists(f) else None
def fmt(ns):
    return f"{ns/1000:.1f} µs" if ns >= 1000 else f"{ns:.0f} ns"
print("| alg | raw aws-lc-rs check | first-sight verify | ratio | repeated verify |")
print("|---|---|---|---|---|")
for alg in ["RS256","RS384","RS512","PS256","PS384","PS512","ES256","ES384","EdDSA"]:
    raw, first, rep = mean("verify","raw_aws_lc",alg), mean("verify","first_sight",alg), mean("verify","repeated",alg)
    if None in (raw, first, rep): continue
    print(f"| {alg} | {fmt(raw)} | {fmt(first)} | {first/raw:.2f}× | {fmt(rep)} |")
for name in ["cache_hit_sync","cache_hit_async"]:
    m = mean("get_token", name)
    if m is not None: print(f"\nget_token {name}: {fmt(m)}")
PY
