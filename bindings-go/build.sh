#!/usr/bin/env bash
# Build the C ABI static library for the Go module and the testing shared library (the local
# authorization server, for package authsectest), check with nm that SQLite is only in the latter,
# and check both committed headers for drift.
#   bindings-go/build.sh                  build, copy the static library to lib/<GOOS>_<GOARCH>/ and the
#                                         testing library to lib/<GOOS>_<GOARCH>_testing/ (on linux the
#                                         per-platform modules), + header drift check
# The build uses cargo's release profile, or the profile AUTHSEC_CARGO_PROFILE names (scripts/test.sh:
# `ci`, shared with its other builds).
#   bindings-go/build.sh --write-header   regenerate the headers instead of failing on drift
#   bindings-go/build.sh --check DIR      build nothing: the nm checks on the libraries of DIR, an
#                                         unpacked module (scripts/package.sh), + header drift check
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
CBINDGEN_VERSION=0.29.2

cd "$root"
goos="$(go env GOOS)"; goarch="$(go env GOARCH)"
testing_lib=libauthsec_capi_testing.so
[ "$goos" = darwin ] && testing_lib=libauthsec_capi_testing.dylib
mode="${1:-}"
if [ "$mode" = --check ]; then
  # The libraries of an unpacked module (scripts/package.sh's dist/go), checked as built ones are.
  dest="$2/lib/${goos}_${goarch}"
  dest_testing="$2/lib/${goos}_${goarch}_testing"
else
  profile="${AUTHSEC_CARGO_PROFILE:-release}"
  # Two builds, so that cargo does not unify features across them: the testing library turns on
  # authsec-native's fake-workload-api, which must stay out of the production library.
  cargo build --profile "$profile" --locked -p authsec-capi
  cargo build --profile "$profile" --locked -p authsec-capi-testing
  target_dir="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
  out_dir="$target_dir/$profile"
  [ "$profile" = dev ] && out_dir="$target_dir/debug"
  dest="$here/lib/${goos}_${goarch}"
  dest_testing="$here/lib/${goos}_${goarch}_testing"
  mkdir -p "$dest" "$dest_testing"
  cp "$out_dir/libauthsec_capi.a" "$dest/libauthsec_capi.a"
  cp "$out_dir/$testing_lib" "$dest_testing/$testing_lib"
  echo "build.sh: $dest/libauthsec_capi.a, $dest_testing/$testing_lib"
fi
# The static library users link must not define SQLite's symbols (they would clash with the
# user's own SQLite driver); the testing library, which holds the server, does. A stripped testing
# library (scripts/package.sh's dist profile) has no symbols to count: there, SQLite's file header.
sqlite_in_capi=$(nm --defined-only "$dest/libauthsec_capi.a" 2>/dev/null | grep -c ' [Tt] _\?sqlite3_' || true)
sqlite_in_testing=$(nm --defined-only "$dest_testing/$testing_lib" 2>/dev/null | grep -c ' [Tt] _\?sqlite3_' || true)
if [ "$sqlite_in_testing" -eq 0 ]; then
  sqlite_in_testing=$(grep -c -a -F 'SQLite format 3' "$dest_testing/$testing_lib" || true)
fi
echo "== nm: libauthsec_capi.a defines ${sqlite_in_capi} sqlite3_* functions, the testing library ${sqlite_in_testing}"
if [ "$sqlite_in_capi" -ne 0 ] || [ "$sqlite_in_testing" -eq 0 ]; then
  echo "build.sh: SQLite belongs in the testing library only" >&2
  exit 1
fi
fake_in_capi=$(nm --defined-only "$dest/libauthsec_capi.a" 2>/dev/null | grep -c 'FakeWorkloadApi' || true)
echo "== nm: libauthsec_capi.a defines ${fake_in_capi} symbols of the fake Workload API"
if [ "$fake_in_capi" -ne 0 ]; then
  echo "build.sh: the fake Workload API belongs in the testing library only" >&2
  exit 1
fi

# Pinned cbindgen.
if ! command -v cbindgen >/dev/null || [ "$(cbindgen --version | awk '{print $2}')" != "$CBINDGEN_VERSION" ]; then
  cargo install cbindgen --version "$CBINDGEN_VERSION" --locked
fi
tmp="$(mktemp)"; trap 'rm -f "$tmp"' EXIT
drift=0
for pair in "capi:authsec-capi:include/authsec.h" "capi-testing:authsec-capi-testing:include/authsec_testing.h"; do
  IFS=: read -r dir crate rel <<<"$pair"
  header="$here/$dir/$rel"
  cbindgen --quiet --config "$here/$dir/cbindgen.toml" --crate "$crate" --output "$tmp" "$here/$dir"
  if [ "$mode" = "--write-header" ]; then
    mkdir -p "$(dirname "$header")"; cp "$tmp" "$header"; echo "build.sh: wrote $dir/$rel"
  elif ! diff -u "$header" "$tmp"; then
    echo "build.sh: $dir/$rel drifted from the Rust source; run bindings-go/build.sh --write-header and commit it" >&2
    drift=1
  else
    echo "build.sh: $dir/$rel up to date"
  fi
done
exit "$drift"
