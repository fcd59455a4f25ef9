#!/usr/bin/env bash
# Build the static library and the testing library (+ header drift checks), run the C ABI's own
# tests (codes generated from the core's list, every export in the panic boundary; in build.sh's
# cargo profile, so they reuse its dependencies), then the Go tests three ways: plain, with the race
# detector, and with GOGC=1 GODEBUG=cgocheck=1.
#
# AUTHSEC_DIST=<dir>: the Go tests run in the module scripts/package.sh wrote to <dir>/go, unpacked
# (its libraries, not a build's), beside the checkout's tests/ (vectors); build.sh --check checks
# those libraries and the headers.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
module="$here"
if [[ -n "${AUTHSEC_DIST:-}" ]]; then
  work="$(mktemp -d "${TMPDIR:-/tmp}/authsec-go-installed.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  tar -C "$work" -xzf "$AUTHSEC_DIST/go/authsec-go-$(python3 "$here/../scripts/versions.py").tar.gz"
  ln -s "$here/../tests" "$work/tests"
  module="$work/bindings-go"
  echo "== the module from $AUTHSEC_DIST/go, unpacked in $module"
  "$here/build.sh" --check "$module"
else
  "$here/build.sh"
fi
profile="${AUTHSEC_CARGO_PROFILE:-release}"
echo "== cargo test --profile $profile -p authsec-capi; -p authsec-capi-testing"
# Separately, as build.sh builds them (no feature unification: the builds' artifacts are reused).
(cd "$here/.." && cargo test --profile "$profile" --locked -p authsec-capi && cargo test --profile "$profile" --locked -p authsec-capi-testing)
cd "$module"
go vet ./...
echo "== go test ./..."
log="$(mktemp)"; trap 'rm -f "$log"' EXIT
rc=0; go test -count=1 -v ./... >"$log" 2>&1 || rc=$?
if [ "$rc" -ne 0 ]; then cat "$log"; exit "$rc"; fi
grep -E "^(--- |ok|PASS)|vectors:|at expiry" "$log" | grep -v "^=== "
go_passed=$(grep -c '^--- PASS' "$log" || true)
go_failed=$(grep -c '^--- FAIL' "$log" || true)
echo "== go test -race ./..."
go test -count=1 -race ./...
echo "== GOGC=1 GODEBUG=cgocheck=1 go test ./..."
GOGC=1 GODEBUG=cgocheck=1 go test -count=1 ./...
echo "go: ${go_passed} passed, ${go_failed} failed (also clean under -race and GOGC=1 GODEBUG=cgocheck=1)"
