#!/usr/bin/env bash
# Build the static library and the testing library (+ header drift checks), run the C ABI's own
# tests (codes generated from the core's list, every export in the panic boundary; in build.sh's
# cargo profile, so they reuse its dependencies), then the Go tests three ways: plain, with the race
# detector, and with GOGC=1 GODEBUG=cgocheck=1.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
"$here/build.sh"
profile="${AUTHSEC_CARGO_PROFILE:-release}"
echo "== cargo test --profile $profile -p authsec-capi; -p authsec-capi-testing"
# Separately, as build.sh builds them (no feature unification: the builds' artifacts are reused).
(cd "$here/.." && cargo test --profile "$profile" --locked -p authsec-capi && cargo test --profile "$profile" --locked -p authsec-capi-testing)
cd "$here"
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
