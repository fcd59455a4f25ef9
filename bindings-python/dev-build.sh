#!/usr/bin/env bash
# Developer helper: build the extension (debug by default, `--release` for benchmarks) and put it
# next to the Python sources, for a venv where the package is installed in editable mode
# (`pip install -e ./bindings-python` or `maturin develop`).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
profile=debug
args=()
if [[ "${1:-}" == "--release" ]]; then profile=release; args=(--release); fi
manifest="${AUTHSEC_MANIFEST:-$here/Cargo.toml}"
PYO3_BUILD_EXTENSION_MODULE=1 cargo build -p authsec-python --manifest-path "$manifest" "${args[@]}"
target="${CARGO_TARGET_DIR:-$(cargo metadata --format-version 1 --no-deps --manifest-path "$manifest" | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')}"
cp "$target/$profile/lib_native.so" "$here/python/authsec/_native.abi3.so"
echo "installed $profile build into python/authsec/_native.abi3.so"
