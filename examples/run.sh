#!/usr/bin/env bash
# Runs every example of every language and checks what it printed, then prints
#   examples: N passed, M failed
# and exits non-zero when one failed.
#
#   examples/run.sh                 every language, then the README snippet check ("docs")
#   examples/run.sh python go       some of them (python, node, go, docs)
#
# It reuses what scripts/test.sh has built: the Python extensions (through cargo's target/ cache,
# a temporary venv with `pip install ./bindings-python ./bindings-python/testing
# -r examples/python/requirements.txt -r examples/mcp/python/requirements.txt` takes seconds when
# warm), the Node addons in
# bindings-node/native/ (`npm ci` here only links the package and installs express) and the Go
# static library and testing library in bindings-go/lib/ (a missing addon or library is built
# first). Each example starts the local authorization server
# in-process and serves its API on 127.0.0.1, and runs under `timeout`, so nothing outlives it.
#
# Knobs: PYTHON (interpreter for the venv, default python3); AUTHSEC_EXAMPLES_PYTHON (an
# interpreter that already has authsec, fastapi, uvicorn, httpx and mcp: no venv is made);
# AUTHSEC_CARGO_PROFILE (the cargo profile of the Python build, as in bindings-python/test.sh); EXAMPLE_TIMEOUT (seconds, default 60).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
timeout_s="${EXAMPLE_TIMEOUT:-60}"

langs=("$@")
[[ ${#langs[@]} -eq 0 ]] && langs=(python node go browser docs)

work="$(mktemp -d "${TMPDIR:-/tmp}/authsec-examples.XXXXXX")"
trap 'rm -rf "$work"' EXIT

passed=0
failed=0
failures=()
started=$SECONDS

step() { printf '==> %s\n' "$*"; }

# fail_setup LANG: count every example of LANG (and its MCP example, if it has one) as failed
# (its set-up failed).
fail_setup() {
  local lang=$1 names=(get_token agent protected_api configuration delegation dpop management)
  [[ -d "$here/mcp/$lang" ]] && names+=(mcp)
  [[ $lang == go ]] && names+=(mtls spiffe_agent)
  [[ $lang == node || $lang == python ]] && names+=(spiffe_agent)
  for name in "${names[@]}"; do
    failed=$((failed + 1))
    failures+=("$lang/$name (set-up failed)")
  done
}

# run_example LANG NAME CHECKFN DIR COMMAND...: run it, show its output, check it.
run_example() {
  local lang=$1 name=$2 check=$3 dir=$4
  shift 4
  local out="$work/$lang-$name.out" t0=$SECONDS rc=0
  printf -- '--- %s/%s: %s\n' "$lang" "$name" "$*"
  (cd "$dir" && timeout -k 5 "$timeout_s" "$@") >"$out" 2>&1 || rc=$?
  sed 's/^/    /' "$out"
  local problems=()
  if [[ $rc -eq 124 || $rc -eq 137 ]]; then
    problems+=("did not finish within ${timeout_s} s")
  elif [[ $rc -ne 0 ]]; then
    problems+=("exit code $rc")
  fi
  local p
  while IFS= read -r p; do
    [[ -n "$p" ]] && problems+=("$p")
  done < <("$check" "$out" "$lang")
  if [[ ${#problems[@]} -eq 0 ]]; then
    passed=$((passed + 1))
    printf 'ok   %s/%s (%d s)\n' "$lang" "$name" $((SECONDS - t0))
  else
    failed=$((failed + 1))
    failures+=("$lang/$name")
    for p in "${problems[@]}"; do printf 'FAIL %s/%s: %s\n' "$lang" "$name" "$p"; done
  fi
}

# expect FILE REGEX...: print a problem for each extended regex that matches no line of FILE.
expect() {
  local file=$1 re
  shift
  for re in "$@"; do
    grep -Eq -- "$re" "$file" || echo "no line matches: $re"
  done
}

# ----- what each example must print (the same for every language) -----

check_get_token() {
  expect "$1" \
    '^authorization server: http://127\.0\.0\.1:[0-9]+ ' \
    '^protected API: http://127\.0\.0\.1:[0-9]+$' \
    '^token: Bearer, scopes .*read:data.*, expires in 3[56][0-9][0-9] s$' \
    '^GET /data -> 200 \{"client_id":"example-agent","scopes":\["read:data"\]\}$' \
    '^done: get_token$'
}

# The challenges: Bearer (with the error), and DPoP beside it where the binding prints every
# WWW-Authenticate line joined (a resource takes both schemes by default).
check_protected_api() {
  expect "$1" \
    '^GET /data with a read:data token -> 200 \{"client_id":"example-agent","scopes":\["read:data"\]\}$' \
    '^GET /data without a token -> 401 WWW-Authenticate: Bearer realm="example-api", scope="read:data"(, DPoP algs="[^"]+", realm="example-api", scope="read:data")?$' \
    '^GET /data with a tampered token -> 401 WWW-Authenticate: Bearer realm="example-api", error="invalid_token", .*signature' \
    '^POST /data with a read:data token -> 403 WWW-Authenticate: Bearer realm="example-api", error="insufficient_scope", .*scope="write:data"(, DPoP algs="[^"]+", realm="example-api", scope="write:data")?$' \
    '^done: protected_api$'
}

check_agent() {
  local file=$1
  expect "$file" \
    '^call  1  t= 0\.[0-9]s  200  token #1 \(new, expires in (9|10)\.[0-9] s\)$' \
    '^call [ 0-9]{2}  t=[ 0-9.]{4}s  200  token #2 \(refreshed; #1 had [1-5]\.[0-9] s left\)$' \
    '^done: agent$'
  # 30 calls, every one answered 200; tokens reused, with one or two refreshes in ~8 s.
  local calls ok cached summary requests reused
  calls=$(grep -cE '^call [ 0-9]{2}  t=' "$file")
  ok=$(grep -cE '^call [ 0-9]{2}  t=[ 0-9.]{4}s  200  ' "$file")
  cached=$(grep -cE '  token #[0-9]+ \(cached\)$' "$file")
  [[ $calls -eq 30 && $ok -eq 30 ]] || echo "expected 30 calls answered 200, got $ok of $calls"
  summary=$(grep -E '^calls: [0-9]+, token requests: [0-9]+, calls on a cached token: [0-9]+$' "$file")
  if [[ -z "$summary" ]]; then
    echo "no summary line 'calls: N, token requests: N, calls on a cached token: N'"
    return
  fi
  requests=$(sed -E 's/.*token requests: ([0-9]+),.*/\1/' <<<"$summary")
  reused=$(sed -E 's/.*cached token: ([0-9]+)$/\1/' <<<"$summary")
  [[ $requests -ge 2 && $requests -le 3 ]] || echo "expected 2-3 token requests (one or two refreshes), got $requests"
  [[ $reused -eq $((30 - requests)) && $reused -eq $cached ]] ||
    echo "calls on a cached token: summary says $reused, $cached calls say cached, expected $((30 - requests))"
}

# An agent with no secret: a JWT-SVID from the (fake) Workload API as its client assertion.
check_node_spiffe_agent() {
  expect "$1" \
    '^workload API: unix://.+$' \
    '^SPIFFE ID: spiffe://example\.org/agents/ml-training$' \
    '^token: Bearer, scopes read:data, expires in 3[56][0-9][0-9] s \(no client secret\)$' \
    '^GET /data -> 200 \{"client_id":"ml-agent","scopes":\["read:data"\]\}$' \
    '^done: spiffe_agent$'
}

# orchestrator -> sub-agent -> tool by token exchange (RFC 8693): the chain, and one refused widening.
check_delegation() {
  expect "$1" \
    '^authorization server: http://127\.0\.0\.1:[0-9]+ ' \
    '^orchestrator: token for https://sub-agent\.example\.test https://tool\.example\.test, scopes reports:read tasks:read tasks:write, subject orchestrator, acting none$' \
    '^sub-agent: token for https://tool\.example\.test, scopes tasks:read tasks:write, subject orchestrator, acting sub-agent$' \
    '^tool: token for https://tool\.example\.test, scopes tasks:read, subject orchestrator, acting tool <- sub-agent$' \
    '^refused: the tool asks for reports:read -> invalid_scope: .*reports:read' \
    '^done: delegation$'
}

# DPoP (RFC 9449): the agent's bound token gets in (after the nonce challenges); the token alone,
# as Bearer or with another key's proof, does not.
check_dpop() {
  expect "$1" \
    '^authorization server: http://127\.0\.0\.1:[0-9]+ ' \
    '^agent: 200 .*"scheme": ?"DPoP".*\(its key: [A-Za-z0-9_-]{43}\)$' \
    '^stolen token as Bearer: 401 .*error="invalid_token".*DPoP-bound' \
    '^stolen token with another key.s proof: 401 .*error="invalid_dpop_proof".*cnf\.jkt' \
    '^done: dpop$'
}

# A secretless agent: a token for its JWT-SVID from the fake Workload API (no secret), and its SVID
# verified on the Workload API's bundles.
check_go_spiffe_agent() {
  expect "$1" \
    '^workload API: a fake one ' \
    '^token: client_id ml-agent, scopes \[read:data\], no secret sent$' \
    '^service: verified the SVID of spiffe://example\.org/agents/ml-training \(ES256\)$' \
    '^done: spiffe_agent$'
}

# The Python agent with no secret: its SPIFFE ID, a token, a call to a protected API.
check_python_spiffe_agent() {
  expect "$1" \
    '^workload identity: spiffe://example\.org/agents/ml-training$' \
    '^token: Bearer, scopes .*read:data.*, expires in 3[56][0-9][0-9] s$' \
    '^GET /data -> 200 \{"client_id":"ml-agents","scopes":\["read:data"\]\}$' \
    '^done: spiffe_agent$'
}

# RFC 8705: a token bound to the agent's TLS certificate is accepted only over a connection with it.
check_mtls() {
  expect "$1" \
    '^authorization server: https://127\.0\.0\.1:[0-9]+ ' \
    '^token: Bearer, bound to \{"x5t#S256":"[A-Za-z0-9_-]{43}"\}$' \
    '^agent, its certificate: 200 \{"certificate":"[A-Za-z0-9_-]{43}","client":"example-agent"\}$' \
    '^stolen token, another certificate: 401 Bearer error="invalid_token", .*another client certificate' \
    '^stolen token, no certificate: 401 Bearer error="invalid_token", .*no client certificate' \
    '^done: mtls$'
}

check_configuration() {
  local file=$1 lang=$2
  expect "$file" \
    '^from AUTHSEC_\* variables: token for .*read:data.*, expires in 3[56][0-9][0-9] s$' \
    '^without AUTHSEC_CLIENT_SECRET: config_error: .*AUTHSEC_CLIENT_SECRET' \
    '^done: configuration$' \
    '^from config\.yaml: token for .*read:data.*, expires in 3[56][0-9][0-9] s$'
}

# A protected MCP server and an agent that calls its tools (examples/mcp/<lang>/): the agent
# discovers where to get a token from the server's 401, calls a tool, is refused a tool its token
# lacks the scope of (403 insufficient_scope) or steps up to it, and the server answers a request
# without a token with a 401 that names its metadata.
check_mcp() {
  expect "$1" \
    '^server: http://127\.0\.0\.1:[0-9]+/mcp( |$)' \
    '^agent: tools [A-Za-z_]+' \
    '^agent: call [A-Za-z_]+.* -> ' \
    '^agent: (refused [A-Za-z_]+.* -> 403 insufficient_scope|call [A-Za-z_]+.* -> .*403 insufficient_scope .*step-up|step-up [A-Za-z_]+ -> )' \
    '^done: mcp$'
  # Shown by some examples: a request without a token gets a 401 whose challenge names the metadata.
  if grep -q '^agent: no token' "$1" &&
    ! grep -Eq '^agent: no token -> 401 WWW-Authenticate: Bearer .*resource_metadata="http://127\.0\.0\.1:[0-9]+/\.well-known/oauth-protected-resource/mcp"' "$1"; then
    echo "the request without a token did not get a 401 whose challenge names the metadata"
  fi
}

# Client management (the server's /admin API): the bootstrap admin token registers a management
# client and is refused after that; the management client registers an AI agent, rotates its
# secret (one hour of overlap) and revokes the old one; the old secret is then refused, which the
# audit log shows as a failed authentication; the new secret gets a token.
check_management() {
  expect "$1" \
    '^authorization server: http://127\.0\.0\.1:[0-9]+ ' \
    '^bootstrap: management client ops-admin created with the admin token$' \
    '^admin token after bootstrap: access_denied$' \
    '^registered ai_agent [A-Za-z0-9_.-]+ \(secret sid_[A-Za-z0-9_-]{12}, 60 requests per minute\)$' \
    '^rotated: new secret sid_[A-Za-z0-9_-]{12}, the old one works for 3[56][0-9]{2} s more$' \
    '^old secret after revoking: invalid_client$' \
    '^failed authentication: token by [A-Za-z0-9_.-]+ at [0-9]{4}-[0-9]{2}-[0-9]{2}T' \
    '^new secret: token Bearer, scopes .*read:data' \
    '^done: management$'
}

# ----- Python -----

run_python() {
  local py
  if [[ -n "${AUTHSEC_EXAMPLES_PYTHON:-}" ]]; then
    py="$AUTHSEC_EXAMPLES_PYTHON"
    step "python: using $py"
  else
    local t0=$SECONDS packages=("$root/bindings-python" "$root/bindings-python/testing")
    if [[ -n "${AUTHSEC_DIST:-}" ]]; then
      # The wheels scripts/package.sh built (the test command's), rather than a build from source.
      step "python: venv + the wheels in $AUTHSEC_DIST/python + -r examples/python/requirements.txt"
      local version
      version="$(python3 "$root/scripts/versions.py")"
      packages=(--find-links "$AUTHSEC_DIST/python" --only-binary authsec,authsec-testing "authsec==$version" "authsec-testing==$version")
    else
      step "python: venv + pip install ./bindings-python ./bindings-python/testing -r examples/python/requirements.txt (cargo reuses target/)"
    fi
    if [[ -n "${AUTHSEC_CARGO_PROFILE:-}" ]]; then
      export MATURIN_PEP517_ARGS="--profile ${AUTHSEC_CARGO_PROFILE}"
    fi
    if ! "${PYTHON:-python3}" -m venv "$work/venv" ||
      ! "$work/venv/bin/python" -m pip install --disable-pip-version-check -q \
        "${packages[@]}" -r "$here/python/requirements.txt" \
        -r "$here/mcp/python/requirements.txt"; then
      echo "FAIL python: could not install the examples' dependencies"
      fail_setup python
      return
    fi
    py="$work/venv/bin/python"
    echo "python: installed in $((SECONDS - t0)) s"
  fi
  local dir="$here/python"
  # -B: leave no __pycache__ in the source tree.
  run_example python get_token check_get_token "$dir" "$py" -B get_token.py
  run_example python agent check_agent "$dir" "$py" -B agent.py
  run_example python protected_api check_protected_api "$dir" "$py" -B protected_api.py
  run_example python configuration check_configuration "$dir" "$py" -B configuration.py
  run_example python delegation check_delegation "$dir" "$py" -B delegation.py
  run_example python dpop check_dpop "$dir" "$py" -B dpop.py
  run_example python spiffe_agent check_python_spiffe_agent "$dir" env -u SPIFFE_ENDPOINT_SOCKET "$py" -B spiffe_agent.py
  run_example python management check_management "$dir" "$py" -B management.py
  if "$py" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
    run_example python mcp check_mcp "$here/mcp/python" "$py" -B main.py
  else
    echo "skip python/mcp: the mcp SDK 2.x needs Python 3.10+"
  fi
}

# ----- Node.js -----

run_node() {
  local t0=$SECONDS
  if ! ls "$root"/bindings-node/native/authsec.*.node "$root"/bindings-node/native/authsec-testing.*.node >/dev/null 2>&1; then
    step "node: the addons are not built yet: npm ci in bindings-node (its install script builds them)"
    if ! (cd "$root/bindings-node" && npm ci --no-audit --no-fund); then
      echo "FAIL node: could not build the addon"
      fail_setup node
      return
    fi
  fi
  step "node: npm ci (links ../../bindings-node, installs express; examples/mcp/node: the MCP SDK too)"
  # --ignore-scripts: the addon is already built; this only links the package.
  if ! (cd "$here/node" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) ||
    ! (cd "$here/mcp/node" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error); then
    echo "FAIL node: npm ci failed"
    fail_setup node
    return
  fi
  echo "node: installed in $((SECONDS - t0)) s"
  local dir="$here/node"
  run_example node get_token check_get_token "$dir" node get-token.mjs
  run_example node agent check_agent "$dir" node agent.mjs
  run_example node protected_api check_protected_api "$dir" node protected-api.mjs
  run_example node configuration check_configuration "$dir" node configuration.mjs
  run_example node delegation check_delegation "$dir" node delegation.mjs
  run_example node dpop check_dpop "$dir" node dpop.mjs
  # Without SPIFFE_ENDPOINT_SOCKET it starts the fake Workload API (tests/spire/run.sh: a real agent).
  run_example node spiffe_agent check_node_spiffe_agent "$dir" env -u SPIFFE_ENDPOINT_SOCKET node spiffe-agent.mjs
  run_example node management check_management "$dir" node management.mjs
  run_example node mcp check_mcp "$here/mcp/node" node mcp.mjs
}

# ----- Go -----

run_go() {
  local t0=$SECONDS
  local libs
  libs="$root/bindings-go/lib/$(go env GOOS)_$(go env GOARCH)"
  if [[ ! -f "$libs/libauthsec_capi.a" ]] || ! ls "${libs}_testing"/libauthsec_capi_testing.* >/dev/null 2>&1; then
    step "go: the static library or the testing library is not built yet: bindings-go/build.sh"
    if ! "$root/bindings-go/build.sh"; then
      echo "FAIL go: could not build the libraries"
      fail_setup go
      return
    fi
  fi
  step "go: go vet, go build ./... (cgo over bindings-go; examples/go and examples/mcp/go)"
  if ! (cd "$here/go" && go vet ./... && go build -o "$work/go-bin/" ./...) ||
    ! (cd "$here/mcp/go" && go vet ./... && go build -o "$work/go-bin/mcp" . && go build -o "$work/go-bin/mcp-server" ./server); then
    echo "FAIL go: build failed"
    fail_setup go
    return
  fi
  echo "go: built in $((SECONDS - t0)) s"
  local dir="$here/go" bin="$work/go-bin"
  run_example go get_token check_get_token "$dir" "$bin/gettoken"
  run_example go agent check_agent "$dir" "$bin/agent"
  run_example go protected_api check_protected_api "$dir" "$bin/protectedapi"
  run_example go configuration check_configuration "$dir" "$bin/configuration"
  run_example go delegation check_delegation "$dir" "$bin/delegation"
  run_example go dpop check_dpop "$dir" "$bin/dpop"
  run_example go mtls check_mtls "$dir" "$bin/mtls"
  run_example go spiffe_agent check_go_spiffe_agent "$dir" "$bin/spiffe-agent"
  run_example go management check_management "$dir" "$bin/management"
  run_example go mcp check_mcp "$here/mcp/go" "$bin/mcp"
}

# ----- Browser (@authsec/wasm in headless Chromium) -----

check_browser() {
  expect "$1" \
    '^  token with read:data: valid, client example-agent, scopes \["read:data"\]$' \
    '^  same token, needs write:data: rejected, insufficient_scope \(HTTP 403\), missing write:data$' \
    '^  same token, edited payload: rejected, invalid_signature \(HTTP 401\)$' \
    '^  garbage: rejected, malformed_token \(HTTP 401\)$' \
    '^  verified-token cache: 1 token\(s\)$' \
    '^  done: browser$'
}

run_browser() {
  local t0=$SECONDS
  if [[ ! -f "$root/wasm/dist/authsec_wasm_bg.wasm" ]] || ! ls "$root"/bindings-node/native/authsec.*.node "$root"/bindings-node/native/authsec-testing.*.node >/dev/null 2>&1; then
    echo "FAIL browser: build wasm/ (wasm/build.sh) and bindings-node (npm ci) first; ./scripts/test.sh does"
    failed=$((failed + 1))
    failures+=("browser/verify (set-up failed)")
    return
  fi
  step "browser: npm ci (links ../../bindings-node for the local server)"
  if ! (cd "$here/browser" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error); then
    echo "FAIL browser: npm ci failed"
    failed=$((failed + 1))
    failures+=("browser/verify (set-up failed)")
    return
  fi
  echo "browser: installed in $((SECONDS - t0)) s"
  run_example browser verify check_browser "$here/browser" node run.mjs
}

# The README code blocks marked `<!-- snippet: FILE#REGION -->` must equal the examples' regions.
check_snippets() {
  local out="$work/snippets.out" rc=0
  step "docs: scripts/check-readme-snippets.py (README blocks = the examples' code), and its self-test"
  { "${PYTHON:-python3}" "$root/scripts/check-readme-snippets.py" &&
    "${PYTHON:-python3}" "$root/scripts/check-readme-snippets.py" --self-test; } >"$out" 2>&1 || rc=$?
  sed 's/^/    /' "$out"
  if [[ $rc -eq 0 ]]; then
    passed=$((passed + 1))
    echo "ok   docs/readme_snippets"
  else
    failed=$((failed + 1))
    failures+=("docs/readme_snippets")
    echo "FAIL docs/readme_snippets: exit code $rc"
  fi
}

for lang in "${langs[@]}"; do
  case "$lang" in
    python) run_python ;;
    node) run_node ;;
    go) run_go ;;
    browser) run_browser ;;
    docs) check_snippets ;;
    *)
      echo "unknown part: $lang (python, node, go, browser, docs)" >&2
      exit 2
      ;;
  esac
done

echo
[[ ${#failures[@]} -gt 0 ]] && printf 'failed: %s\n' "${failures[@]}"
echo "examples: ran in $((SECONDS - started)) s"
echo "examples: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
