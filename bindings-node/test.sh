#!/usr/bin/env bash
# The Node.js package's tests:
#   npm ci                  installs the devDependencies exactly as the committed package-lock.json
#                           pins them (it never writes the lock file, and fails when package.json and
#                           the lock file disagree) into a fresh node_modules/, then builds the addon
#                           (napi build --platform --release, through the package's install script,
#                           into native/, which npm ci leaves alone; cargo's target/ keeps it
#                           incremental: minutes on a cold cache, seconds after that)
#   tsc --noEmit            checks the hand-written declarations (index.d.ts, testing.d.ts) and the
#                           typed usage in test/types.mts (ESM) and test/types-cjs.cts (CommonJS)
#   node --test             the suites in test/ (shared vectors, local-server integration, Express,
#                           fetch retry, single flight, event-loop lag, errors, secrets)
# Needs node (20.17+) and npm, a Rust toolchain, and the package registries (npm, crates.io).
# AUTHSEC_DIST=<dir>: test the packages scripts/package.sh wrote to <dir> instead (no Rust needed).
# Prints "node: N passed, M failed" last. AUTHSEC_NODE_PROFILE=debug builds the addon unoptimized.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"

echo "==> node $(node --version), npm $(npm --version 2>/dev/null)"
if [[ -n "${AUTHSEC_DIST:-}" ]]; then
  # The packages scripts/package.sh built (AUTHSEC_DIST=<its dist/>), installed into a fresh project
  # from their tarballs: the suites run against them (tests/install/node-installed.mjs redirects
  # the test files' imports of the package into it), and nothing is built here.
  project="$(mktemp -d "${TMPDIR:-/tmp}/authsec-node-installed.XXXXXX")"
  trap 'rm -rf "$project"' EXIT
  echo "==> npm install of the packages in $AUTHSEC_DIST/npm into $project"
  platform="$(../tests/install/npm-project.sh "$AUTHSEC_DIST" "$project")"
  export AUTHSEC_INSTALLED_SDK="$project/node_modules/@authsec/sdk"
  export AUTHSEC_NODE_SKIP_BUILD=1
  export AUTHSEC_NODE_NATIVE="$project/node_modules/@authsec/sdk-$platform/authsec.$platform.node"
  export AUTHSEC_NODE_TESTING_NATIVE="$project/node_modules/@authsec/sdk-testing-$platform/authsec-testing.$platform.node"
  echo "==> npm ci (the lock file's devDependencies; no build: AUTHSEC_NODE_SKIP_BUILD)"
else
  echo "==> npm ci (the lock file's devDependencies; builds the native module with napi-rs)"
fi
npm ci --no-audit --no-fund

echo "==> tsc --noEmit -p tsconfig.json"
npx --no-install tsc --noEmit -p tsconfig.json

echo "==> node --test${AUTHSEC_DIST:+ (against the installed packages)}"
if [[ -n "${AUTHSEC_DIST:-}" ]]; then
  # In NODE_OPTIONS, so that the node processes the tests start are redirected too.
  export NODE_OPTIONS="--import=$here/../tests/install/node-installed.mjs${NODE_OPTIONS:+ $NODE_OPTIONS}"
fi
../scripts/node-test.sh node --test-timeout=120000 test/*.test.mjs test/*.test.cjs
