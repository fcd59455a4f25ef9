#!/usr/bin/env bash
# Runs every test in every language. Installs what it needs (rustup targets, a Python venv with
# pip packages, npm packages with `npm ci`, exactly as the committed lock files pin them).
# Usage: ./scripts/test.sh          (CI runs exactly this via .ci/run)
#
# The run must leave the clone as it found it: after the summary it fails, listing them, when it
# changed or created a file that git tracks or does not ignore (build outputs belong in a
# .gitignore, lock files are never rewritten). It compares `git status` with content hashes
# before and after the run, so your own uncommitted work does not fail it; a file of yours the
# run changed again does (and so does one you edit while it runs). In CI (a fresh clone) that is
# any change at all.
set -euo pipefail
cd "$(dirname "$0")/.."

logs="$(mktemp -d "${TMPDIR:-/tmp}/authsec-test.XXXXXX")"
trap 'rm -rf "$logs"' EXIT

# Every cargo build of the run shares one profile and target directory, so the Rust tests and the
# three bindings' artifacts compile each dependency once: `ci` (Cargo.toml: release code without
# LTO, with debug assertions). The bindings' own scripts honour AUTHSEC_CARGO_PROFILE.
export AUTHSEC_CARGO_PROFILE=ci

# Every language's vector test writes its outcomes here (<runtime>.json); the conformance step
# compares them. .started marks this run: an outcome file must be newer.
export AUTHSEC_CONFORMANCE_OUT="$logs/conformance"
mkdir -p "$AUTHSEC_CONFORMANCE_OUT"
touch "$AUTHSEC_CONFORMANCE_OUT/.started"

# Each step prints how long the one before it took; the summary lists them all.
step_name="" step_start=$SECONDS
step() {
  if [[ -n "$step_name" ]]; then
    printf '%5d s  %s\n' $((SECONDS - step_start)) "$step_name" >>"$logs/timings"
  fi
  step_name="${1%%(*}" step_start=$SECONDS
  printf '\n==> %s\n' "$*"
}

# tree_state: a line "XY<tab>content hash<tab>path" for each file `git status` reports as changed
# or untracked (not ignored), sorted; the hash is "-" for a file that is gone.
tree_state() {
  local entry status path hash
  git status --porcelain=v1 -z --untracked-files=all | while IFS= read -r -d '' entry; do
    status="${entry:0:2}"
    path="${entry:3}"
    # A rename or copy is followed by the path it came from.
    if [[ "$status" == *R* || "$status" == *C* ]]; then IFS= read -r -d '' _ || true; fi
    hash="$(git hash-object --no-filters -- "$path" 2>/dev/null || echo -)"
    printf '%s\t%s\t%s\n' "$status" "$hash" "$path"
  done | LC_ALL=C sort
}
in_git=0
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  in_git=1
  tree_state >"$logs/tree-before"
fi

# SPIRE (the real server and agent the SPIFFE tests run against) is built from the Go module proxy
# when it is missing: about 11 CPU-minutes, so it builds in the background at a low priority from
# the start, and the SPIRE step near the end waits for it.
spire_rc="$logs/spire-install.rc"
# Its own process group (setsid), so that a run that stops early stops the build too (by PID).
setsid bash -c 'nice -n 10 tests/spire/install.sh >"$1" 2>&1; echo $? >"$2"' _ "$logs/spire-install.log" "$spire_rc" &
spire_install_pid=$!
trap 'kill -- "-$spire_install_pid" 2>/dev/null || true; rm -rf "$logs"' EXIT

step "npm lock files: complete for every platform and in sync with package.json (npm ci --dry-run)"
scripts/npm-lockfiles.sh

step "toolchain"
cargo --version
rustup target list --installed | grep -q '^wasm32-unknown-unknown$' || rustup target add wasm32-unknown-unknown

step "format check"
if rustup component list --installed 2>/dev/null | grep -q '^rustfmt'; then
  cargo fmt --all --check
else
  echo "rustfmt not installed; skipping"
fi

step "Rust: every crate (default members), every test (unit, integration over 127.0.0.1, shared vectors -> rust.json, vector drift check)"
cargo test --profile "$AUTHSEC_CARGO_PROFILE" --locked 2>&1 | tee "$logs/cargo-test.log"

step "Rust core on the pure-Rust crypto backend (the one wasm uses): shared vectors (rust.json again) and unit tests"
cargo test --profile "$AUTHSEC_CARGO_PROFILE" -p authsec-core --no-default-features --features rust_crypto --locked --lib --test vectors

step "Rust core compiles for wasm32-unknown-unknown with the pure-Rust backend (wasm/ builds its own package)"
cargo check -p authsec-core --target wasm32-unknown-unknown --no-default-features --features rust_crypto --locked

step "Bindings' Rust layers: each at most 15 % of the core's lines (scripts/binding-share.py)"
python3 scripts/binding-share.py --check

step "Packages: scripts/package.sh --host (this machine's wheels and sdist, npm tarballs, the Go module with its platform modules, the wasm tarball, from this run's build: the language suites below test these)"
# One version everywhere: a package whose version differs fails the build (package.sh runs --check).
python3 scripts/versions.py --self-test
scripts/package.sh --host --profile "$AUTHSEC_CARGO_PROFILE" --out "$logs/dist" 2>&1 | tee "$logs/package.log"
# The language suites below install and test these packages rather than building the bindings again.
export AUTHSEC_DIST="$logs/dist"

step "Packages installed without Rust (tests/install/run.sh: PATH without cargo and rustc; pip, npm and a Go replace from dist/; each language gets a token from the local server, verifies it and runs the shared vectors)"
tests/install/run.sh "$logs/dist" 2>&1 | tee "$logs/install.log"

step "Python package (fresh venv, the wheels from dist/ + the [test] extra, pytest; shared vectors -> python.json)"
# The venv is kept for the MCP conformance step (its test extras hold the mcp SDK).
AUTHSEC_PYTHON_VENV="$logs/python-venv" bindings-python/test.sh 2>&1 | tee "$logs/python-test.log"

step "Node.js package (the tarballs from dist/ installed in a fresh project, npm ci without a build, tsc --noEmit, node --test against the installed package; shared vectors -> node.json)"
bindings-node/test.sh 2>&1 | tee "$logs/node-test.log"

step "Go module (the module from dist/ unpacked: its libraries checked with nm, header drift checks, the C ABI's cargo tests, go vet, go test, -race, GOGC=1; shared vectors -> go.json)"
bindings-go/test.sh 2>&1 | tee "$logs/go-test.log"

step "WebAssembly package (build + size, shared vectors under Node (-> wasm.json) and in headless Chromium, remote JWKS, no Node built-ins)"
wasm/test.sh 2>&1 | tee "$logs/wasm-test.log"

step "Fuzzing: token, JWKS, token-response and config parsers, MCP request decisions, DPoP proofs and requests, SPIFFE IDs, bundles and JWT-SVIDs, 10 s per target (installs nightly + cargo-fuzz if missing; falls back loudly to the property tests if it cannot)"
fuzz/run.sh 10 2>&1 | tee "$logs/fuzz.log"

step "Examples (Python, Node.js, Go, browser; output checked) and README snippets"
examples/run.sh 2>&1 | tee "$logs/examples.log"

step "MCP conformance suite (@modelcontextprotocol/conformance on Node.js 22 from npm): client-credentials scenarios against the Python, Node.js and Go MCP clients"
AUTHSEC_MCP_PYTHON="$logs/python-venv/bin/python" tests/mcp-conformance/run.sh 2>&1 | tee "$logs/mcp-conformance.log"

step "SPIRE: a real SPIRE server and agent on 127.0.0.1 and a Unix socket (tests/spire/run.sh), and each language against it: JWT-SVIDs and X.509-SVIDs fetched, verified, exchanged for tokens at the local server with no secret, a JWT key rotation"
wait "$spire_install_pid" || true
if [[ "$(cat "$spire_rc" 2>/dev/null)" != 0 ]]; then
  echo "tests/spire/install.sh failed:"
  tail -20 "$logs/spire-install.log"
  exit 1
fi
grep -E '^SPIRE .* built in' "$logs/spire-install.log" || echo "SPIRE: already installed"
AUTHSEC_SPIRE_PYTHON="$logs/python-venv/bin/python" tests/spire/run.sh tests/spire/languages.sh 2>&1 | tee "$logs/spire.log"

step "Conformance (the outcomes the Rust, Python, Node.js, Go and wasm vector tests wrote: equal to the vectors' and to each other)"
tests/conformance/run.sh 2>&1 | tee "$logs/conformance.log"

step "summary"
rust_passed=$(grep -Eo 'test result: ok\. [0-9]+ passed' "$logs/cargo-test.log" | awk '{s+=$4} END {print s+0}' || true)
rust_failed=$(grep -Eo '[0-9]+ failed' "$logs/cargo-test.log" | awk '{s+=$1} END {print s+0}' || true)
py_passed=$(grep -Eo '^[0-9]+ passed' "$logs/python-test.log" | tail -1 | awk '{print $1+0}' || true)
py_failed=$(grep -Eo '[0-9]+ failed' "$logs/python-test.log" | tail -1 | awk '{print $1+0}' || true)
node_passed=$(grep -Eo '^node: [0-9]+ passed' "$logs/node-test.log" | tail -1 | awk '{print $2+0}' || true)
node_failed=$(grep -Eo '^node: [0-9]+ passed, [0-9]+ failed' "$logs/node-test.log" | tail -1 | awk '{print $4+0}' || true)
go_passed=$(grep -Eo '^go: [0-9]+ passed' "$logs/go-test.log" | tail -1 | awk '{print $2+0}' || true)
go_failed=$(grep -Eo '^go: [0-9]+ passed, [0-9]+ failed' "$logs/go-test.log" | tail -1 | awk '{print $4+0}' || true)
wasm_passed=$(grep -Eo '^wasm: [0-9]+ passed' "$logs/wasm-test.log" | tail -1 | awk '{print $2+0}' || true)
wasm_failed=$(grep -Eo '^wasm: [0-9]+ passed, [0-9]+ failed' "$logs/wasm-test.log" | tail -1 | awk '{print $4+0}' || true)
ex_passed=$(grep -Eo '^examples: [0-9]+ passed' "$logs/examples.log" | tail -1 | awk '{print $2+0}' || true)
ex_failed=$(grep -Eo '^examples: [0-9]+ passed, [0-9]+ failed' "$logs/examples.log" | tail -1 | awk '{print $4+0}' || true)
echo "rust: ${rust_passed} passed, ${rust_failed} failed"
echo "python: ${py_passed:-0} passed, ${py_failed:-0} failed"
echo "node: ${node_passed:-0} passed, ${node_failed:-0} failed"
echo "go: ${go_passed:-0} passed, ${go_failed:-0} failed"
echo "wasm: ${wasm_passed:-0} passed, ${wasm_failed:-0} failed"
echo "examples: ${ex_passed:-0} passed, ${ex_failed:-0} failed"
grep -E '^fuzz: [0-9]+ targets' "$logs/fuzz.log" | tail -1 || echo "fuzz: no summary"
grep -E '^conformance: [0-9]+ cases' "$logs/conformance.log" | tail -1 || echo "conformance: no summary"
grep -E '^mcp conformance: [0-9]+ runs' "$logs/mcp-conformance.log" | tail -1 || echo "mcp conformance: no summary"
grep -E '^spire: [0-9]+ languages' "$logs/spire.log" | tail -1 || echo "spire: no summary"
grep -E '^install: ' "$logs/install.log" | tail -1 || echo "install: no summary"
echo "step times:"
cat "$logs/timings"
echo "all: $((rust_passed + ${py_passed:-0} + ${node_passed:-0} + ${go_passed:-0} + ${wasm_passed:-0} + ${ex_passed:-0})) passed, $((rust_failed + ${py_failed:-0} + ${node_failed:-0} + ${go_failed:-0} + ${wasm_failed:-0} + ${ex_failed:-0})) failed"

# Last: the run must have left the clone as it found it (see the top of this file).
if [[ "$in_git" -eq 1 ]]; then
  tree_state >"$logs/tree-after"
  if ! diff -q "$logs/tree-before" "$logs/tree-after" >/dev/null; then
    echo
    echo "clean tree: FAILED: these files, tracked or not ignored, changed during the run:"
    # Each path whose status or content differs, with its status after the run.
    awk -F '\t' 'NR == FNR { before[$3] = $1 " " $2; next }
      { after[$3] = $1 " " $2 }
      END {
        for (p in after) if (!(p in before) || before[p] != after[p]) print "  " substr(after[p], 1, 2) " " p
        for (p in before) if (!(p in after)) print "  (back to its committed state, or deleted) " p
      }' "$logs/tree-before" "$logs/tree-after" | LC_ALL=C sort
    echo "A test run must not write into the clone: ignore build outputs (.gitignore), write the rest"
    echo "to a temporary directory or target/, and never rewrite a committed file (npm ci, not npm install)."
    exit 1
  fi
  if [[ -s "$logs/tree-before" ]]; then
    echo "clean tree: ok (the run changed nothing; $(wc -l <"$logs/tree-before") path(s) you had changed before it were left as they were)"
  else
    echo "clean tree: ok (git status is empty)"
  fi
else
  echo "clean tree: not a git checkout; not checked"
fi
