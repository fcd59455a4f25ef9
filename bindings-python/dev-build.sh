#!/usr/bin/env bash
# Developer helper: build both extensions (debug by default, `--release` for benchmarks) and put
# them next to the Python sources, for a venv where the package is installed in editable mode
# (`pip install -e ./bindings-python` or `maturin develop`): `authsec._native` in
# python/authsec/, and the testing module `authsec_testing` (authsec-testing, the local server)
# in python/, which the editable install puts on sys.path too.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
profile=debug
args=()
if [[ "${1:-}" == "--release" ]]; then profile=release; args=(--release); fi
manifest="${AUTHSEC_MANIFEST:-$here/Cargo.toml}"
PYO3_BUILD_EXTENSION_MODULE=1 cargo build -p authsec-python -p authsec-testing-python --manifest-path "$manifest" "${args[@]}"
target="${CARGO_TARGET_DIR:-$(cargo metadata --format-version 1 --no-deps --manifest-path "$manifest" | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')}"
cp "$target/$profile/lib_native.so" "$here/python/authsec/_native.abi3.so"
cp "$target/$profile/libauthsec_testing.so" "$here/python/authsec_testing.abi3.so"
echo "installed $profile builds into python/authsec/_native.abi3.so and python/authsec_testing.abi3.so"
