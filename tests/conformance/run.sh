#!/usr/bin/env bash
# Cross-language conformance, the comparison: each language's vector test (core/tests/vectors.rs,
# bindings-python/tests/test_vectors.py, bindings-node/test/vectors.test.mjs,
# bindings-go/vectors_test.go, wasm/test/vectors.test.mjs) writes its outcomes to
# $AUTHSEC_CONFORMANCE_OUT/<runtime>.json; this checks that all five are there and from this run,
# self-tests the comparator with injected faults, and compares: every runtime's outcome (claims, or
# error code and missing_scopes) must equal the vector's AND every other runtime's.
#
#   tests/conformance/run.sh [DIR] [--corrupt WHO:CASE:KIND]...
#
# DIR defaults to $AUTHSEC_CONFORMANCE_OUT. "From this run": when DIR/.started exists
# (scripts/test.sh creates it with the directory, before any suite runs), every outcome file must
# be newer than it; a missing or older file counts as no outcomes at all. --corrupt (repeatable)
# corrupts the loaded outcomes before the comparison, to see it fail (compare.py documents the
# specs). Prints `conformance: N cases x R runtimes, D disagreements` last; exits 1 on any
# disagreement, a missing or stale outcome file, or a fault the self-test misses.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

out="${AUTHSEC_CONFORMANCE_OUT:-}"
corrupt=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --corrupt) corrupt+=(--corrupt "${2:?--corrupt needs WHO:CASE:KIND}"); shift ;;
    -*) echo "usage: tests/conformance/run.sh [DIR] [--corrupt WHO:CASE:KIND]..." >&2; exit 2 ;;
    *) out="$1" ;;
  esac
  shift
done
if [[ -z "$out" || ! -d "$out" ]]; then
  echo "tests/conformance/run.sh: no outcome directory (give DIR or set AUTHSEC_CONFORMANCE_OUT to the" >&2
  echo "directory the vector tests wrote to; scripts/test.sh does both)" >&2
  exit 2
fi

runtimes=(rust python node go wasm)
stamp="$out/.started"
echo "==> outcome files in $out"
files=()
stale=()
for rt in "${runtimes[@]}"; do
  f="$out/$rt.json"
  if [[ ! -s "$f" ]]; then
    echo "FAILED $rt: no $rt.json (its vector test did not run with AUTHSEC_CONFORMANCE_OUT=$out)"
    stale+=("$rt")
  elif [[ -e "$stamp" && ! "$f" -nt "$stamp" ]]; then
    echo "FAILED $rt: $rt.json is older than this run's $stamp"
    stale+=("$rt")
  else
    echo "$rt: $f ($(wc -c <"$f" | tr -d ' ') bytes)"
    files+=("$f")
  fi
done
[[ -e "$stamp" ]] || echo "(no $stamp: the files' age is not checked)"

compare=(python3 "$here/compare.py" --runtimes "$(IFS=,; echo "${runtimes[*]}")")

# The comparison, kept for the end (its last line is the summary).
rc=0
report="$("${compare[@]}" ${corrupt[@]+"${corrupt[@]}"} ${files[@]+"${files[@]}"} 2>&1)" || rc=$?

# Self-test: on a clean comparison, each injected fault must be caught, as exactly the expected
# number of disagreements (a changed claim, a changed error code, an actor added to a chain, a missing_scopes difference the
# vector does not pin (only the cross-runtime check sees it), a dropped outcome, a request outcome of dpop_requests.json
# changed, a wrong vector).
selftest_failed=0
if [[ "$rc" -eq 0 && ${#corrupt[@]} -eq 0 && ${#stale[@]} -eq 0 ]]; then
  echo "==> self-test: the comparator must catch injected faults"
  caught=0 total=0
  for spec in node:first-claims:value:1 rust:first-error:value:1 go:first-error:missing_scopes:1 \
      python:first-delegation:delegation:1 wasm:first-claims:drop:1 python:first-claims:drop:1 go:first-requests:value:1 \
      expect:first-claims:value:${#runtimes[@]}; do
    want="${spec##*:}"; spec="${spec%:*}"
    total=$((total + 1))
    src=0
    faulty="$("${compare[@]}" --corrupt "$spec" "${files[@]}" 2>&1)" || src=$?
    summary="$(tail -n 1 <<<"$faulty")"
    first="$(grep -m 1 '^DISAGREE' <<<"$faulty" || true)"
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

echo "==> comparison"
echo "$report"
if [[ "$rc" -ne 0 || ${#stale[@]} -gt 0 || "$selftest_failed" -ne 0 ]]; then
  exit 1
fi
