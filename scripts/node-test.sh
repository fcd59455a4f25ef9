#!/usr/bin/env bash
# Runs `node --test` with the spec reporter and prints, last, the summary line scripts/test.sh
# reads:
#   LABEL: N passed, M failed
# Exits with node's status; a failing run that reports no failed test (a crash, a file that does
# not load) counts one failure.
#   scripts/node-test.sh LABEL [node --test options] FILES...
#   e.g. scripts/node-test.sh node --test-timeout=120000 test/*.test.mjs test/*.test.cjs
# Used by bindings-node/test.sh and wasm/test.sh.
set -euo pipefail
if [[ $# -lt 2 ]]; then
  echo "usage: scripts/node-test.sh LABEL [node --test options] FILES..." >&2
  exit 2
fi
label=$1
shift

log="$(mktemp "${TMPDIR:-/tmp}/authsec-$label-test.XXXXXX")"
trap 'rm -f "$log"' EXIT
set +e
node --test --test-reporter=spec "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
passed=$(grep -Eo '^ℹ pass [0-9]+' "$log" | tail -1 | awk '{print $3+0}')
failed=$(grep -Eo '^ℹ fail [0-9]+' "$log" | tail -1 | awk '{print $3+0}')
if [[ "$status" -ne 0 && "${failed:-0}" -eq 0 ]]; then failed=1; fi
echo "$label: ${passed:-0} passed, ${failed:-0} failed"
exit "$status"
