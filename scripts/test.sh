#!/usr/bin/env bash
# Runs every test in every language. Installs what it needs (rustup targets, ...).
# Usage: ./scripts/test.sh          (CI runs exactly this via .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "toolchain"
cargo --version
rustup target list --installed | grep -q '^wasm32-unknown-unknown$' || rustup target add wasm32-unknown-unknown

step "format check"
if rustup component list --installed 2>/dev/null | grep -q '^rustfmt'; then
  cargo fmt --all --check
else
  echo "rustfmt not installed; skipping"
fi

step "Rust: every crate (default members), every test (unit, integration over 127.0.0.1, shared vectors, vector drift check)"
cargo test --locked 2>&1 | tee /tmp/authsec-cargo-test.log

step "Rust core on the pure-Rust crypto backend (the one wasm uses): shared vectors and unit tests"
cargo test -p authsec-core --no-default-features --features rust_crypto --locked --lib --test vectors

step "Rust core builds for wasm32-unknown-unknown"
cargo build -p authsec-core --target wasm32-unknown-unknown --no-default-features --features rust_crypto --locked

step "summary"
passed=$(grep -Eo 'test result: ok\. [0-9]+ passed' /tmp/authsec-cargo-test.log | awk '{s+=$4} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed' /tmp/authsec-cargo-test.log | awk '{s+=$1} END {print s+0}')
echo "rust workspace: ${passed} passed, ${failed} failed"
