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
# Prints "node: N passed, M failed" last. AUTHSEC_NODE_PROFILE=debug builds the addon unoptimized.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"

echo "==> node $(node --version), npm $(npm --version 2>/dev/null)"
echo "==> npm ci (the lock file's devDependencies; builds the native module with napi-rs)"
npm ci --no-audit --no-fund

echo "==> tsc --noEmit -p tsconfig.json"
npx --no-install tsc --noEmit -p tsconfig.json

echo "==> node --test"
exec ../scripts/node-test.sh node --test-timeout=120000 test/*.test.mjs test/*.test.cjs
