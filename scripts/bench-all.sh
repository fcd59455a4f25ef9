#!/usr/bin/env bash
# Every benchmark in one run, on the same corpus, and the README's tables from their RESULT lines.
#
#   ./scripts/bench-all.sh            # ~15 minutes on 2 cores (release builds first time: longer)
#   QUICK=1 ./scripts/bench-all.sh    # fewer tokens and rounds, noisier
#   ONLY="rust python" ./scripts/bench-all.sh
#
# Builds release artifacts (tools bench-core, the Python wheel into target/bench/venv, the Node
# addon, the Go static library), runs: the core's reference (tools bench-core), Python
# (bindings-python/bench.py), Node.js (bindings-node/bench.mjs), Go (bindings-go bench), the
# local server against oidc-provider (scripts/bench-server.sh), then scripts/bench-report.py.
# Raw output goes to target/bench/<name>.log, its RESULT lines to target/bench/<name>.results,
# the tables to target/bench/report.md. Benchmarks are timings: run them on a quiet machine, and
# compare ratios from the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$root/target/bench
mkdir -p "$out"
ONLY=${ONLY:-"rust python node go server"}
quick=()
[ -n "${QUICK:-}" ] && quick=(--quick)
corpus=$(./scripts/bench-corpus.sh)
export AUTHSEC_BENCH_CORPUS=$corpus
# Every binding's benchmark runs one of bench-core's rounds (--round) after each of its own
# first-sight rounds, so its "÷ core" ratio compares timings from the same minutes.
cargo build --release --locked -q -p authsec-tools --bin bench-core

step() { # name command...: run, keep the log, collect RESULT lines
  local name=$1
  shift
  echo "== $name" >&2
  local t0=$SECONDS
  if ! "$@" >"$out/$name.log" 2>&1; then
    tail -40 "$out/$name.log" >&2
    echo "bench-all: $name failed (log: $out/$name.log)" >&2
    exit 1
  fi
  grep '^RESULT ' "$out/$name.log" >"$out/$name.results" || true
  echo "   $name: $((SECONDS - t0)) s" >&2
}

for what in $ONLY; do
  case $what in
  rust)
    step rust target/release/bench-core "$corpus" "${quick[@]}"
    ;;
  python)
    if [ ! -x "$out/venv/bin/python" ]; then python3 -m venv "$out/venv"; fi
    CARGO_TARGET_DIR=$root/target/bench-py "$out/venv/bin/pip" install -q "./bindings-python[bench]" ./bindings-python/testing >&2
    step python "$out/venv/bin/python" bindings-python/bench.py "${quick[@]}"
    ;;
  node)
    (cd bindings-node && npm ci --ignore-scripts --no-audit --no-fund >&2 && AUTHSEC_CARGO_PROFILE=release node scripts/install.js >&2)
    step node node bindings-node/bench.mjs "${quick[@]}"
    ;;
  go)
    AUTHSEC_CARGO_PROFILE=release bindings-go/build.sh >&2
    step go bash -c "cd bindings-go && AUTHSEC_BENCH=1 go test -run TestBenchReport -v -count=1 -timeout 20m ${quick[*]:+-args -quick} ."
    ;;
  server)
    step server ./scripts/bench-server.sh
    ;;
  *)
    echo "bench-all: unknown benchmark $what (rust, python, node, go, server)" >&2
    exit 2
    ;;
  esac
done
# Every benchmark's last RESULT lines (a rerun of one, with ONLY, replaces only its own).
python3 scripts/bench-report.py "$out"/*.results | tee "$out/report.md"
