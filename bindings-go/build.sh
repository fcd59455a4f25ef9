#!/usr/bin/env bash
# Build the C ABI static library for the Go module and check the committed header for drift.
#   bindings-go/build.sh            build (release) + copy to lib/<GOOS>_<GOARCH>/ + header drift check
#   bindings-go/build.sh --write-header   regenerate capi/include/authsec.h instead of failing on drift
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
CBINDGEN_VERSION=0.29.2

cd "$root"
cargo build -p authsec-capi --release --locked
target_dir="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
goos="$(go env GOOS)"; goarch="$(go env GOARCH)"
dest="$here/lib/${goos}_${goarch}"
mkdir -p "$dest"
cp "$target_dir/release/libauthsec_capi.a" "$dest/libauthsec_capi.a"
echo "build.sh: $dest/libauthsec_capi.a"

# Pinned cbindgen.
if ! command -v cbindgen >/dev/null || [ "$(cbindgen --version | awk '{print $2}')" != "$CBINDGEN_VERSION" ]; then
  cargo install cbindgen --version "$CBINDGEN_VERSION" --locked
fi
header="$here/capi/include/authsec.h"
tmp="$(mktemp)"; trap 'rm -f "$tmp"' EXIT
cbindgen --quiet --config "$here/capi/cbindgen.toml" --crate authsec-capi --output "$tmp" "$here/capi"
if [ "${1:-}" = "--write-header" ]; then
  mkdir -p "$(dirname "$header")"; cp "$tmp" "$header"; echo "build.sh: wrote $header"
elif ! diff -u "$header" "$tmp"; then
  echo "build.sh: capi/include/authsec.h drifted from the Rust source; run bindings-go/build.sh --write-header and commit it" >&2
  exit 1
else
  echo "build.sh: header up to date"
fi
