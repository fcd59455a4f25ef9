#!/usr/bin/env bash
# Fuzz authsec-core: build the cargo-fuzz targets and run each for a bounded time.
#
# Usage: fuzz/run.sh [seconds-per-target]     (default 20; a long run: fuzz/run.sh 3600)
#
# Installs what it needs: the nightly toolchain (rustup, minimal profile) and cargo-fuzz (cargo
# install --locked). If either cannot be installed it says so loudly and runs the same
# properties as stable property tests instead (core/tests/fuzz_props.rs, PROPTEST_CASES scaled
# with the time); FUZZ_REQUIRE_NIGHTLY=1 makes that an error instead.
#
# Environment:
#   FUZZ_TARGETS="jwt_parse token_response"  run only these targets
#   FUZZ_SANITIZER=address                   build with ASan (default none: authsec-core forbids
#                                            unsafe code, the C crypto is not instrumented either
#                                            way, and none builds and runs about twice as fast)
#   FUZZ_PARALLEL=1                          targets fuzzed at the same time (default: one per core)
#   FUZZ_JOBS=2                              libFuzzer -fork processes per target (long runs;
#                                            then one target at a time)
#   FUZZ_FALLBACK=1                          do not fuzz: run the property tests, as without nightly
#   FUZZ_FEATURES=rust_crypto                fuzz the core on its pure-Rust crypto backend (wasm's)
#
# New inputs that reach new code go to fuzz/corpus-work/<target>/ (not committed; the committed
# seeds in fuzz/corpus/<target>/ are only read). Crashes go to fuzz/artifacts/<target>/.
# Prints one summary line, `fuzz: 7 targets, N runs, 0 crashes`, and exits non-zero on a crash.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
secs="${1:-20}"
if ! [[ "$secs" =~ ^[0-9]+$ ]] || [ "$secs" -lt 1 ]; then
  echo "usage: fuzz/run.sh [seconds-per-target]" >&2
  exit 2
fi
read -r -a targets <<<"${FUZZ_TARGETS:-jwt_parse jwks_parse token_response config_interpolate mcp_request dpop_request jwt_svid}"
sanitizer="${FUZZ_SANITIZER:-none}"
jobs="${FUZZ_JOBS:-1}"
cores="$(nproc 2>/dev/null || echo 1)"
parallel="${FUZZ_PARALLEL:-$((jobs > 1 ? 1 : cores))}"
# The same options for build and run, so that `cargo fuzz run` does not rebuild.
build_opts=(--fuzz-dir "$here" -s "$sanitizer" --codegen-units 16)
if [ -n "${FUZZ_FEATURES:-}" ]; then
  build_opts+=(--no-default-features --features "$FUZZ_FEATURES")
fi

fallback() {
  echo "fuzz: WARNING: $1" >&2
  if [ "${FUZZ_REQUIRE_NIGHTLY:-0}" = 1 ]; then
    echo "fuzz: FUZZ_REQUIRE_NIGHTLY=1, so this is an error" >&2
    exit 1
  fi
  local cases=$((secs * 200))
  echo "fuzz: NOT FUZZING; running the targets' properties as stable property tests instead" >&2
  echo "fuzz: (cd $root && PROPTEST_CASES=$cases cargo test -p authsec-core --test fuzz_props --locked)" >&2
  (cd "$root" && PROPTEST_CASES=$cases cargo test -p authsec-core --test fuzz_props --locked)
  echo "fuzz: 0 targets fuzzed ($1); fell back to property tests: ${#targets[@]} targets' properties, $cases cases per test, passed"
  exit 0
}

[ "${FUZZ_FALLBACK:-0}" = 1 ] && fallback "FUZZ_FALLBACK=1"

# 1. Toolchain: nightly (cargo-fuzz needs -Z flags and sanitizer-coverage) and cargo-fuzz.
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "fuzz: installing the nightly toolchain (rustup toolchain install nightly --profile minimal)"
  timeout 900 rustup toolchain install nightly --profile minimal ||
    fallback "the nightly toolchain could not be installed"
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz (cargo install cargo-fuzz --locked)"
  timeout 900 cargo install cargo-fuzz --locked || fallback "cargo-fuzz could not be installed"
fi
echo "fuzz: $(rustup run nightly rustc --version), $(cargo fuzz --version)"

# 2. Build every target once (fuzz/target; the first build takes a few minutes).
start=$(date +%s)
(cd "$root" && cargo +nightly fuzz build "${build_opts[@]}")
echo "fuzz: built the targets in $(($(date +%s) - start)) s (sanitizer: $sanitizer)"

# 3. Run each target for $secs seconds, as many at a time as there are cores.
logs="$(mktemp -d "${TMPDIR:-/tmp}/authsec-fuzz.XXXXXX")"
trap 'rm -rf "$logs"' EXIT
run_target() {
  local t="$1" rc=0
  local args=(-max_total_time="$secs" -max_len=4096 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1)
  [ -f "$here/dict/$t.dict" ] && args+=(-dict="$here/dict/$t.dict")
  [ "$jobs" -gt 1 ] && args+=(-fork="$jobs")
  mkdir -p "$here/corpus-work/$t"
  # The outer timeout only guards against a libFuzzer that does not stop by itself.
  (cd "$root" && timeout --kill-after=30 $((secs + 300)) cargo +nightly fuzz run "${build_opts[@]}" "$t" \
    "$here/corpus-work/$t" "$here/corpus/$t" -- "${args[@]}") >"$logs/$t.log" 2>&1 || rc=$?
  echo "$rc" >"$logs/$t.rc"
}
running=0
for t in "${targets[@]}"; do
  run_target "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$parallel" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait

total_runs=0
crashes=0
for t in "${targets[@]}"; do
  rc=$(cat "$logs/$t.rc" 2>/dev/null || echo 1)
  # (`|| true`: under pipefail a grep that finds nothing would end the script without a summary)
  runs=$( (grep -Eo '^stat::number_of_executed_units: [0-9]+' "$logs/$t.log" || true) | awk '{s+=$2} END {print s+0}')
  if [ "$runs" -eq 0 ]; then
    runs=$( (grep -Eo '^Done [0-9]+ runs' "$logs/$t.log" || true) | awk '{s+=$2} END {print s+0}')
  fi
  if [ "$runs" -eq 0 ]; then
    # -fork (FUZZ_JOBS > 1) prints neither; its last progress line, `#N: cov: ...`, has the total.
    runs=$( (grep -Eo '^#[0-9]+:' "$logs/$t.log" || true) | tail -n 1 | tr -dc '0-9')
    runs=${runs:-0}
  fi
  total_runs=$((total_runs + runs))
  if [ "$rc" -eq 0 ]; then
    corpus=$(find "$here/corpus-work/$t" -type f | wc -l)
    echo "fuzz: $t: $runs runs in $secs s, ok (working corpus: $corpus inputs)"
  else
    crashes=$((crashes + 1))
    echo "fuzz: $t: FAILED (exit $rc) after $runs runs; log tail:"
    tail -n 60 "$logs/$t.log" | sed 's/^/    /'
    echo "fuzz: $t: the crashing input is in fuzz/artifacts/$t/; reproduce it with"
    echo "    cargo +nightly fuzz run ${build_opts[*]:2} $t fuzz/artifacts/$t/<file>"
  fi
done
echo "fuzz: ${#targets[@]} targets, $total_runs runs, $crashes crashes"
[ "$crashes" -eq 0 ]
