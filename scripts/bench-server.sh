#!/usr/bin/env bash
# Throughput of `authsec server` on loopback: tokens issued per second, each request a
# client_credentials grant with Basic auth that signs a fresh JWT.
#
# Usage: ./scripts/bench-server.sh [--quick]
#   MODE=wrk (default)  wrk (16 keep-alive connections, 2 threads, DURATION s) against authsec and,
#                       in the same run, one at a time, oidc-provider (the peer, PEER=0 skips it),
#                       same algorithm; prints RESULT lines and a table with the ratio.
#                       Installs wrk with apt-get and the peer with `npm ci` when missing.
#   MODE=loadgen        the project's own load generator (server/examples/loadgen.rs) against
#                       authsec alone, with latency percentiles per concurrency:
#                         N=20000 requests per run, CONCURRENCY="1 8 32"
#   ALGS="RS256 ES256"  signing algorithms (loadgen's default: ES256); one server each
#   DURATION=10 CONNECTIONS=16 THREADS=2   wrk settings (--quick: DURATION=3)
#   NODE=node           the Node.js that runs oidc-provider
# Every server runs on 127.0.0.1 and is stopped by its PID. Before measuring, one token from each
# server is checked: HTTP 200, header alg, signature against the server's JWKS, issuer.
set -euo pipefail
cd "$(dirname "$0")/.."

MODE=${MODE:-wrk}
DURATION=${DURATION:-10}
if [ "${1:-}" = "--quick" ]; then DURATION=3; fi
CONNECTIONS=${CONNECTIONS:-16}
THREADS=${THREADS:-2}
PEER=${PEER:-1}
NODE=${NODE:-node}
N=${N:-20000}
CONCURRENCY=${CONCURRENCY:-"1 8 32"}
case "$MODE" in
  wrk) ALGS=${ALGS:-"RS256 ES256"} ;;
  loadgen) ALGS=${ALGS:-ES256} ;;
  *) echo "MODE must be wrk or loadgen" >&2; exit 2 ;;
esac
TARGET=${CARGO_TARGET_DIR:-target}
RESOURCE=https://api.bench.example
SCOPE=read:data
PEER_DIR=server/bench/oidc-provider
# The machine, for the tables' captions.
CORES=$(nproc 2>/dev/null || echo "?")
CPU=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || true)

echo "building (release)..." >&2
# One build for both modes (the same feature set, so neither rebuilds the other's artifacts).
cargo build --release --locked -p authsec-cli --bin authsec -p authsec-server --example loadgen >&2
if [ "$MODE" = wrk ]; then
  if ! command -v wrk >/dev/null; then
    echo "installing wrk (apt-get)..." >&2
    { apt-get update && apt-get install -y wrk; } >&2
  fi
  if [ "$PEER" = 1 ] && [ ! -d "$PEER_DIR/node_modules/oidc-provider" ]; then
    echo "installing oidc-provider (npm ci in $PEER_DIR)..." >&2
    (cd "$PEER_DIR" && npm ci --no-audit --no-fund) >&2
  fi
fi

work=$(mktemp -d)
server_pid=""
stop_server() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=""
}
cleanup() {
  stop_server
  rm -rf "$work"
}
trap cleanup EXIT

BENCH_CLIENT_ID=bench-agent
BENCH_CLIENT_SECRET="bench-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
export BENCH_CLIENT_ID BENCH_CLIENT_SECRET

# wait_issuer FILE: the first line the server prints (its issuer), waiting up to 30 s.
wait_issuer() {
  for _ in $(seq 300); do
    [ -s "$1" ] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/stderr" >&2; exit 1; }
    sleep 0.1
  done
  local issuer
  issuer=$(head -n1 "$1")
  [ -n "$issuer" ] || { echo "the server printed no issuer" >&2; cat "$work/stderr" >&2; exit 1; }
  echo "$issuer"
}

start_authsec() { # alg
  cat >"$work/server.yaml" <<EOF2
signing_alg: $1
audit_log: "off"
rate_limit: 0
clients:
  - client_id: bench-agent
    client_secret: \${BENCH_CLIENT_SECRET}
    allowed_scopes: [$SCOPE]
    audiences: [$RESOURCE]
    rate_limit: 0
EOF2
  : >"$work/stdout"
  "$TARGET/release/authsec" server --port 0 --config "$work/server.yaml" >"$work/stdout" 2>"$work/stderr" &
  server_pid=$!
}

start_peer() { # alg
  : >"$work/stdout"
  BENCH_ALG=$1 BENCH_RESOURCE=$RESOURCE BENCH_SCOPE=$SCOPE \
    "$NODE" "$PEER_DIR/server.mjs" >"$work/stdout" 2>"$work/stderr" &
  server_pid=$!
}

results="$work/results"
: >"$results"

if [ "$MODE" = loadgen ]; then
  for alg in $ALGS; do
    start_authsec "$alg"
    issuer=$(wait_issuer "$work/stdout")
    echo "authsec server ($alg) at $issuer, pid $server_pid" >&2
    for c in $CONCURRENCY; do
      "$TARGET/release/examples/loadgen" --issuer "$issuer" --client-id bench-agent \
        --client-secret-env BENCH_CLIENT_SECRET --requests "$N" --concurrency "$c" --scope "$SCOPE" >"$work/run" 2>&1 \
        || { cat "$work/run" >&2; exit 1; }
      cat "$work/run" >&2
      grep '^RESULT ' "$work/run" | sed "s/^RESULT /RESULT alg=$alg /" >>"$results"
    done
    kill -TERM "$server_pid"
    wait "$server_pid" || { echo "the server did not exit cleanly" >&2; exit 1; }
    server_pid=""
  done

  echo
  echo "authsec server token endpoint on loopback, client and server in separate processes sharing ${CORES} cores (${CPU:-unknown CPU}); ${N} requests per row, keep-alive, Basic auth, every request issues and signs a token."
  echo
  echo "| alg | concurrency | tokens/s | p50 ms | p90 ms | p99 ms | max ms | errors |"
  echo "|---|---|---|---|---|---|---|---|"
  awk '{
    for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", v["alg"], v["concurrency"], v["tokens_per_s"], v["p50_ms"], v["p90_ms"], v["p99_ms"], v["max_ms"], v["errors"]
  }' "$results"
  exit 0
fi

# --- wrk mode ---
basic=$(printf '%s:%s' "$BENCH_CLIENT_ID" "$BENCH_CLIENT_SECRET" | base64 -w0)

# cpu_ticks PID: the user + system CPU time the process has used, in clock ticks.
cpu_ticks() {
  awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

# measure LIB ALG ISSUER TOKEN_PATH BODY: check one token, then wrk; appends a result row.
measure() {
  local lib=$1 alg=$2 issuer=$3 path=$4 body=$5
  if [ -d "$PEER_DIR/node_modules/jose" ]; then
    "$NODE" "$PEER_DIR/check.mjs" "$issuer$path" "$issuer" "$alg" "$BENCH_CLIENT_ID" "$BENCH_CLIENT_SECRET" "$body" \
      >"$work/check" || { echo "$lib ($alg): the token check failed" >&2; exit 1; }
    echo "$lib ($alg): one token checked: $(head -c 300 "$work/check")" >&2
  else
    echo "$lib ($alg): no token check (PEER=0 and $PEER_DIR/node_modules missing)" >&2
  fi
  local cpu0 cpu1
  cpu0=$(cpu_ticks "$server_pid")
  BENCH_PATH=$path BENCH_BASIC=$basic BENCH_BODY=$body \
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s server/bench/token.lua "$issuer" >"$work/wrk" 2>"$work/wrk.err" \
    || { cat "$work/wrk" "$work/wrk.err" >&2; exit 1; }
  cpu1=$(cpu_ticks "$server_pid")
  grep -E 'Requests/sec|Latency  ' "$work/wrk" | sed "s/^/  $lib $alg: /" >&2
  [ -s "$work/wrk.err" ] && sed "s/^/  $lib $alg: /" "$work/wrk.err" >&2
  local line
  line=$(grep '^WRK ' "$work/wrk") || { echo "wrk printed no summary" >&2; cat "$work/wrk" >&2; exit 1; }
  echo "$lib $alg $line server_cpu_s=$(awk -v t=$((cpu1 - cpu0)) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }')" >>"$results"
}

for alg in $ALGS; do
  start_authsec "$alg"
  issuer=$(wait_issuer "$work/stdout")
  echo "authsec server ($alg) at $issuer, pid $server_pid" >&2
  measure authsec "$alg" "$issuer" /oauth/token "grant_type=client_credentials&scope=$SCOPE"
  stop_server
  if [ "$PEER" = 1 ]; then
    start_peer "$alg"
    issuer=$(wait_issuer "$work/stdout")
    echo "oidc-provider ($alg) at $issuer, pid $server_pid" >&2
    measure oidc-provider "$alg" "$issuer" /token "grant_type=client_credentials&scope=$SCOPE&resource=$RESOURCE"
    stop_server
  fi
done

# tokens/s counts only 200 answers (wrk's Requests/sec counts every answer).
awk '{
  lib = $1; alg = $2
  for (i = 4; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
  rate = v["ok"] / (v["duration_us"] / 1e6)
  # The server process CPU time per token: the cost that does not depend on how many cores the
  # server got next to wrk and whatever else runs.
  cpu_us = (v["ok"] > 0) ? v["server_cpu_s"] * 1e6 / v["ok"] : 0
  printf "RESULT lang=server lib=%s regime=tokens_per_s alg=%s value=%.0f unit=per_s extra=non200:%d,socket_errors:%d,p50_ms:%s,p99_ms:%s,server_cpu_us_per_token:%.0f,server_cores:%.2f\n", lib, alg, rate, v["non200"], v["socket_errors"], v["p50_ms"], v["p99_ms"], cpu_us, v["server_cpu_s"] / (v["duration_us"] / 1e6)
}' "$results" >"$work/result-lines"
cat "$work/result-lines"

echo
echo "Token endpoint on loopback, wrk (${CONNECTIONS} keep-alive connections, ${THREADS} threads, ${DURATION} s) and the server sharing ${CORES} cores (${CPU:-unknown CPU}); client_credentials with Basic auth, every request signs a JWT; one server at a time; tokens/s counts HTTP 200 answers only."
echo
echo "| alg | authsec tokens/s | oidc-provider tokens/s | ratio | server CPU µs/token (authsec / oidc-provider) | server cores used (authsec / oidc-provider) | p50 / p99 ms (authsec; oidc-provider) | non-200 |"
echo "|---|---|---|---|---|---|---|---|"
awk '{
  for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
  split(v["extra"], ex, ","); for (j in ex) { split(ex[j], p, ":"); e[p[1]] = p[2] }
  key = v["alg"]; if (!(key in seen)) { seen[key] = 1; order[++n] = key }
  rate[v["lib"], key] = v["value"]; lat[v["lib"], key] = e["p50_ms"] " / " e["p99_ms"]
  cpu[v["lib"], key] = e["server_cpu_us_per_token"]; cores[v["lib"], key] = e["server_cores"]
  bad[key] += e["non200"] + e["socket_errors"]
} END {
  for (i = 1; i <= n; i++) {
    a = order[i]; ours = rate["authsec", a]; peer = rate["oidc-provider", a]
    ratio = (peer > 0) ? sprintf("%.2fx", ours / peer) : "-"
    dash = "-"
    printf "| %s | %s | %s | %s | %s / %s | %s / %s | %s; %s | %d |\n", a, ours, (peer == "" ? dash : peer), ratio, cpu["authsec", a], (cpu["oidc-provider", a] == "" ? dash : cpu["oidc-provider", a]), cores["authsec", a], (cores["oidc-provider", a] == "" ? dash : cores["oidc-provider", a]), lat["authsec", a], (lat["oidc-provider", a] == "" ? dash : lat["oidc-provider", a]), bad[a]
  }
}' "$work/result-lines"
if awk '{ for (i = 2; i <= NF; i++) if ($i ~ /^extra=/) { split($i, a, /[:,]/); if (a[2] + a[4] > 0) bad = 1 } } END { exit !bad }' "$work/result-lines"; then
  echo "some requests were not answered 200 (see above)" >&2
  exit 1
fi
