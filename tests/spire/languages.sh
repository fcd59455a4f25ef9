#!/usr/bin/env bash
# Every language's SPIRE tests, under tests/spire/run.sh (which starts SPIRE and exports its
# environment): Rust (the native layer and the local server), Python, Node.js and Go. Each fails
# rather than skips (AUTHSEC_REQUIRE_SPIRE=1). Prints one line per language and a summary
# `spire: N languages passed, M failed`.
# Usage: tests/spire/run.sh tests/spire/languages.sh
#   AUTHSEC_SPIRE_PYTHON: a Python with authsec installed (the test command's venv)
set -uo pipefail
cd "$(dirname "$0")/../.."
: "${AUTHSEC_SPIRE_DIR:?run under tests/spire/run.sh}"
export AUTHSEC_REQUIRE_SPIRE=1
profile="${AUTHSEC_CARGO_PROFILE:-ci}"
passed=0 failed=0
run() {
  local name="$1"; shift
  local start=$SECONDS
  if "$@"; then
    passed=$((passed + 1)); echo "spire: $name ok ($((SECONDS - start)) s)"
  else
    failed=$((failed + 1)); echo "spire: $name FAILED ($((SECONDS - start)) s)"
  fi
}
run rust cargo test --profile "$profile" --locked -p authsec-server --test spire
run node node --test --test-timeout=120000 bindings-node/test/spire.test.mjs
run go env -C bindings-go go test -count=1 -run TestSPIRE .
run python "${AUTHSEC_SPIRE_PYTHON:-python3}" -m pytest -q -p no:cacheprovider bindings-python/tests/test_spire.py
echo "spire: $passed languages passed, $failed failed"
[[ $failed -eq 0 ]]
