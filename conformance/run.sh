#!/usr/bin/env bash
# Cross-language conformance: every case of tests/vectors/verify_*.json through the public API of
# each runtime (Rust, Python, Node.js, Go, wasm), then one comparison: every runtime's outcome
# (claims or error code, missing_scopes) must equal the vector's AND every other runtime's.
#
#   conformance/run.sh                  run the five runners, self-test the comparator, compare
#   conformance/run.sh --build          first build what is missing or stale (npm ci in
#                                       bindings-node, bindings-go/build.sh, wasm/build.sh)
#   conformance/run.sh --corrupt WHO:CASE:KIND   (repeatable) corrupt the loaded outcomes before the
#                                       comparison, to see it fail (compare.py documents the specs)
#
# It reuses what the bindings' own test scripts built (scripts/test.sh runs it last):
#   rust    cargo run --example conformance (core/examples/conformance.rs; `cargo test` built it)
#   python  the venv in $AUTHSEC_PYTHON_VENV as it is (bindings-python/test.sh keeps it there when
#           given the same variable); without it, a venv in <out>/python-venv into which
#           ./bindings-python is pip-installed on every run (maturin reuses cargo's cache; ~3 s)
#   node    bindings-node/native/*.node, built by `npm ci` in bindings-node (its install script)
#   go      bindings-go/lib/<GOOS>_<GOARCH>/libauthsec_capi.a, built by bindings-go/build.sh
#   wasm    wasm/dist, built by wasm/build.sh
# A runtime that cannot run, or whose build is older than its Rust/Python sources, is a failure
# (never skipped). Outcome files and logs go to $AUTHSEC_CONFORMANCE_OUT (default:
# <cargo target dir>/conformance). Prints `conformance: N cases x R runtimes, D disagreements`
# last; exits 1 on any disagreement or failed runner.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"

build=0
corrupt=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build=1 ;;
    --corrupt) corrupt+=(--corrupt "${2:?--corrupt needs WHO:CASE:KIND}"); shift ;;
    *) echo "usage: conformance/run.sh [--build] [--corrupt WHO:CASE:KIND]..." >&2; exit 2 ;;
  esac
  shift
done

target="${CARGO_TARGET_DIR:-$root/target}"
[[ "$target" == /* ]] || target="$root/$target"
out="${AUTHSEC_CONFORMANCE_OUT:-$target/conformance}"
[[ "$out" == /* ]] || out="$root/$out"
mkdir -p "$out"
runtimes=(rust python node go wasm)
for rt in "${runtimes[@]}"; do rm -f "$out/$rt.json" "$out/$rt.log"; done

# Milliseconds since the epoch (bash 5's EPOCHREALTIME; whole seconds elsewhere).
now_ms() { if [[ -n "${EPOCHREALTIME:-}" ]]; then local t="${EPOCHREALTIME/[.,]/}"; echo $((10#$t / 1000)); else echo $((SECONDS * 1000)); fi; }
secs() { local ms=$(($(now_ms) - $1)); printf '%d.%01d s' $((ms / 1000)) $((ms % 1000 / 100)); }

start=$(now_ms)
failed=()

# newer_source ARTIFACT PATH...: the first Rust/Python source or manifest newer than ARTIFACT.
newer_source() {
  local artifact="$1"; shift
  find "$@" -newer "$artifact" -type f \
    \( -name '*.rs' -o -name '*.py' -o -name '*.h' -o -name Cargo.toml -o -name Cargo.lock \) \
    -not -path '*/target/*' -not -path '*/node_modules/*' -not -path '*/__pycache__/*' \
    -print -quit 2>/dev/null || true
}

# ready RUNTIME ARTIFACT BUILD-CMD -- SOURCES...: the artifact exists and is fresh (building it
# with --build when not); otherwise records the runtime as failed and returns 1.
ready() {
  local rt="$1" artifact="$2" cmd="$3"; shift 4
  local why=""
  if [[ ! -e "$artifact" ]]; then
    why="missing: $artifact"
  else
    local newer; newer="$(newer_source "$artifact" "$@")"
    [[ -z "$newer" ]] || why="stale: $artifact is older than $newer"
  fi
  [[ -n "$why" ]] || return 0
  if [[ "$build" -eq 1 ]]; then
    echo "$rt: $why; building: $cmd"
    if timeout 1800 bash -c "$cmd" >"$out/$rt-build.log" 2>&1 && [[ -e "$artifact" ]]; then
      return 0
    fi
    tail -n 30 "$out/$rt-build.log"
    why="build failed (log: $out/$rt-build.log)"
  fi
  echo "FAILED $rt: $why (build it with: $cmd; or run conformance/run.sh --build)"
  failed+=("$rt")
  return 1
}

# runner RUNTIME TIMEOUT CMD...: runs one runner; its output goes to <out>/RUNTIME.log.
runner() {
  local rt="$1" limit="$2"; shift 2
  local t0 rc=0
  t0=$(now_ms)
  timeout "$limit" "$@" >"$out/$rt.log" 2>&1 || rc=$?
  if [[ "$rc" -eq 0 && -s "$out/$rt.json" ]]; then
    echo "$(tail -n 1 "$out/$rt.log") ($(secs "$t0"))"
  else
    tail -n 30 "$out/$rt.log"
    [[ "$rc" -ne 124 ]] || echo "(timed out after $limit s)"
    echo "FAILED $rt: the runner exited with $rc (log: $out/$rt.log)"
    failed+=("$rt")
  fi
}

rust_native=(core/src core/Cargo.toml native/src native/Cargo.toml Cargo.lock)

echo "==> conformance runners (outcomes in $out)"

# Rust: cargo builds the example when needed. No `-p authsec-core`: without it the workspace's
# default members pick the features, as in `cargo test`, which has already built this example.
runner rust 900 cargo run -q --locked --example conformance -- "$out/rust.json" "$root/tests/vectors"

# Python: the installed package.
t0=$(now_ms)
if [[ -n "${AUTHSEC_PYTHON_VENV:-}" ]]; then
  venv="$AUTHSEC_PYTHON_VENV"
  [[ "$venv" == /* ]] || venv="$root/$venv"
  py_ok=1
else
  venv="$out/python-venv"
  py_ok=1
  { [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"; } >"$out/python-build.log" 2>&1 || py_ok=0
  if [[ "$py_ok" -eq 1 ]] && ! timeout 1800 "$venv/bin/python" -m pip install --disable-pip-version-check -q \
      --no-deps ./bindings-python >>"$out/python-build.log" 2>&1; then
    py_ok=0
  fi
  if [[ "$py_ok" -eq 0 ]]; then
    tail -n 30 "$out/python-build.log"
    echo "FAILED python: cannot install ./bindings-python into $venv (log: $out/python-build.log)"
    failed+=(python)
  else
    echo "python: pip install ./bindings-python into $venv ($(secs "$t0"))"
  fi
fi
if [[ "$py_ok" -eq 1 ]]; then
  native_so="$("$venv/bin/python" -c 'import authsec._native as n; print(n.__file__)' 2>/dev/null || true)"
  if [[ -z "$native_so" ]]; then
    echo "FAILED python: no importable authsec package in $venv"
    failed+=(python)
  elif ready python "$native_so" "'$venv/bin/python' -m pip install -q --no-deps ./bindings-python" -- \
      "${rust_native[@]}" bindings-python/src bindings-python/Cargo.toml bindings-python/python; then
    runner python 120 "$venv/bin/python" conformance/python_runner.py "$out/python.json"
  fi
fi

# Node.js: the addon npm ci built.
node_addon="$(ls bindings-node/native/authsec.*.node 2>/dev/null | head -n 1 || true)"
if ready node "${node_addon:-bindings-node/native/authsec.<platform>.node}" \
    "cd bindings-node && npm ci --no-audit --no-fund" -- \
    "${rust_native[@]}" bindings-node/src bindings-node/Cargo.toml; then
  runner node 120 node conformance/node.mjs "$out/node.json"
fi

# Go: the static library bindings-go/build.sh built, and a program built against the module.
if command -v go >/dev/null; then
  lib="bindings-go/lib/$(go env GOOS)_$(go env GOARCH)/libauthsec_capi.a"
  if ready go "$lib" "bindings-go/build.sh" -- "${rust_native[@]}" bindings-go/capi; then
    # The module has no public way to fix the clock: inject the bridge (see conformance/go/main.go).
    printf '{"Replace": {"%s": "%s"}}\n' "$root/bindings-go/zz_conformance_bridge.go" \
      "$root/conformance/go/_bridge/conformance_bridge.go" >"$out/go-overlay.json"
    if command -v sha256sum >/dev/null; then sum="$(sha256sum "$lib")"; else sum="$(shasum -a 256 "$lib")"; fi
    runner go 600 bash -c 'cd conformance/go && go build -overlay "$1" -ldflags "-X main.capiLib=sha256:$2" -o "$3" . && "$3" "$4" "$5"' \
      _ "$out/go-overlay.json" "${sum:0:16}" "$out/conformance-go" "$out/go.json" "$root/tests/vectors"
  fi
else
  echo "FAILED go: no go command"
  failed+=(go)
fi

# wasm: the package wasm/build.sh built.
if ready wasm wasm/dist/authsec_wasm_bg.wasm "wasm/build.sh" -- \
    core/src core/Cargo.toml wasm/src wasm/Cargo.toml wasm/Cargo.lock; then
  runner wasm 120 node conformance/wasm.mjs "$out/wasm.json"
fi

files=()
for rt in "${runtimes[@]}"; do files+=("$out/$rt.json"); done
compare=(python3 conformance/compare.py --runtimes "$(IFS=,; echo "${runtimes[*]}")")

# The comparison, kept for the end (its last line is the summary).
rc=0
"${compare[@]}" ${corrupt[@]+"${corrupt[@]}"} "${files[@]}" >"$out/compare.txt" 2>&1 || rc=$?

# Self-test: on a clean comparison, each injected fault must be caught, as exactly the expected
# number of disagreements (a changed claim, a changed error code, a missing_scopes difference the
# vector does not pin (only the cross-runtime check sees it), a dropped outcome, a wrong vector).
selftest_failed=0
if [[ "$rc" -eq 0 && ${#corrupt[@]} -eq 0 && ${#failed[@]} -eq 0 ]]; then
  echo "==> self-test: the comparator must catch injected faults"
  caught=0 total=0
  for spec in node:first-claims:value:1 rust:first-error:value:1 go:first-error:missing_scopes:1 \
      wasm:first-claims:drop:1 python:first-claims:drop:1 expect:first-claims:value:${#runtimes[@]}; do
    want="${spec##*:}"; spec="${spec%:*}"
    total=$((total + 1))
    src=0
    report="$("${compare[@]}" --corrupt "$spec" "${files[@]}" 2>&1)" || src=$?
    summary="$(tail -n 1 <<<"$report")"
    first="$(grep -m 1 '^DISAGREE' <<<"$report" || true)"
    if [[ "$src" -eq 1 && "$summary" =~ ,\ $want\ disagreements?$ ]]; then
      caught=$((caught + 1))
      echo "  caught  $spec -> exit 1, $want disagreement(s); $first"
    else
      echo "  MISSED  $spec -> exit $src; $summary"
      selftest_failed=1
    fi
  done
  echo "conformance self-test: $caught/$total injected faults caught"
elif [[ ${#corrupt[@]} -eq 0 ]]; then
  echo "==> self-test: not run (the comparison already fails)"
fi

echo "==> comparison (conformance took $(secs "$start") in all)"
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "FAILED runtimes: ${failed[*]} (see above)"
fi
cat "$out/compare.txt"
if [[ "$rc" -ne 0 || ${#failed[@]} -gt 0 || "$selftest_failed" -ne 0 ]]; then
  exit 1
fi
