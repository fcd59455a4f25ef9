#!/usr/bin/env bash
# Throughput of `authsec server` on loopback: tokens issued per second and latency percentiles,
# with the load generator (server/examples/loadgen.rs) and the server in separate processes.
#
# Usage: ./scripts/bench-server.sh
#   N=20000            requests per run
#   CONCURRENCY="1 8 32"
#   ALGS="ES256"       signing algorithms to run (e.g. "ES256 EdDSA RS256"); one server each
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-20000}
CONCURRENCY=${CONCURRENCY:-"1 8 32"}
ALGS=${ALGS:-ES256}
TARGET=${CARGO_TARGET_DIR:-target}

echo "building (release)..." >&2
cargo build --release --locked -p authsec-cli --bin authsec -p authsec-server --example loadgen >&2

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

BENCH_CLIENT_SECRET="bench-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
export BENCH_CLIENT_SECRET

results="$work/results"
: >"$results"
for alg in $ALGS; do
  cat >"$work/server.yaml" <<EOF
signing_alg: $alg
audit_log: "off"
rate_limit: 0
clients:
  - client_id: bench-agent
    client_secret: \${BENCH_CLIENT_SECRET}
    allowed_scopes: [read:data]
    rate_limit: 0
EOF
  "$TARGET/release/authsec" server --port 0 --config "$work/server.yaml" >"$work/stdout" 2>"$work/stderr" &
  server_pid=$!
  for _ in $(seq 300); do
    [ -s "$work/stdout" ] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/stderr" >&2; exit 1; }
    sleep 0.1
  done
  issuer=$(head -n1 "$work/stdout")
  [ -n "$issuer" ] || { echo "the server printed no issuer" >&2; cat "$work/stderr" >&2; exit 1; }
  echo "authsec server ($alg) at $issuer, pid $server_pid" >&2
  for c in $CONCURRENCY; do
    "$TARGET/release/examples/loadgen" --issuer "$issuer" --client-id bench-agent \
      --client-secret-env BENCH_CLIENT_SECRET --requests "$N" --concurrency "$c" --scope read:data >"$work/run" 2>&1 \
      || { cat "$work/run" >&2; exit 1; }
    cat "$work/run" >&2
    grep '^RESULT ' "$work/run" | sed "s/^RESULT /RESULT alg=$alg /" >>"$results"
  done
  kill -TERM "$server_pid"
  wait "$server_pid" || { echo "the server did not exit cleanly" >&2; exit 1; }
  server_pid=""
done

cores=$(nproc 2>/dev/null || echo "?")
cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || true)
echo
echo "authsec server token endpoint on loopback, client and server in separate processes sharing ${cores} cores (${cpu:-unknown CPU}); ${N} requests per row, keep-alive, Basic auth, every request issues and signs a token."
echo
echo "| alg | concurrency | tokens/s | p50 ms | p90 ms | p99 ms | max ms | errors |"
echo "|---|---|---|---|---|---|---|---|"
awk '{
  for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
  printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", v["alg"], v["concurrency"], v["tokens_per_s"], v["p50_ms"], v["p90_ms"], v["p99_ms"], v["max_ms"], v["errors"]
}' "$results"
