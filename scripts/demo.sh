#!/usr/bin/env bash
# The main demo: a local authorization server, an agent gets a token, a service verifies it.
# Needs only a Rust toolchain; everything runs offline on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --quiet --locked -p authsec-cli --bin authsec -- demo "$@"
