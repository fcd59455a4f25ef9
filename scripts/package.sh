#!/usr/bin/env bash
# Builds every distributable of authsec into dist/: what users install without a Rust toolchain.
#
#   scripts/package.sh              every platform in the table below, cargo profile `dist` (fat LTO),
#                                   through zig (glibc 2.17 / musl / aarch64 from this x86_64 machine),
#                                   and fails above a size budget
#   scripts/package.sh --host       only this machine's platform, with its own C compiler (no zig):
#                                   what the test command installs and runs
#     --profile NAME                cargo profile (default dist; the test command passes `ci`, the
#                                   build its other steps share). Budgets are checked for `dist` only.
#     --out DIR                     where to write (default dist/, which git ignores)
#
# dist/
#   python/  authsec-<v>-cp39-abi3-<platform>.whl per platform, authsec-<v>.tar.gz (sdist), and
#            authsec_testing-<v>-...whl (the local server for tests, a distribution of its own)
#   npm/     authsec-sdk-<v>.tgz (optionalDependencies on its platform packages), one
#            authsec-sdk-<platform>-<v>.tgz per platform (the napi-rs v3 layout), the same pair for
#            @authsec/sdk-testing, and authsec-wasm-<v>.tgz
#   go/      authsec-go-<v>.tar.gz: bindings-go/ as a release tag holds it, each per-platform module
#            (lib/linux_amd64, lib/linux_amd64_testing, ...) with its library; and the module zips a
#            Go module proxy would serve, one per module (bindings-go@v<v>.zip,
#            bindings-go_lib_linux_amd64@v<v>.zip, ...)
#   SIZES    each artifact's size, and its budget
#
# Every version comes from Cargo.toml ([workspace.package]); scripts/versions.py checks the sources
# before the build and the artifacts after it.
# Needs: cargo + rustup (the targets are added when missing), python3 with venv and pip (maturin,
# ziglang and cargo-zigbuild come from PyPI into target/package-tools), node + npm, go.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

host=0 profile=dist out="$root/dist"
while (($#)); do
  case "$1" in
    --host) host=1 ;;
    --profile) profile="$2"; shift ;;
    --out) out="$2"; shift ;;
    *) echo "package.sh: unknown argument $1 (see the top of scripts/package.sh)" >&2; exit 2 ;;
  esac
  shift
done
[[ "$out" == /* ]] || out="$root/$out"
version="$(python3 scripts/versions.py)"
python3 scripts/versions.py --check

# Size budgets in bytes (issue 20), for the dist profile.
BUDGET_WHEEL=$((8 * 1000 * 1000))
BUDGET_NODE=$((8 * 1000 * 1000))
BUDGET_GO_LIB=$((40 * 1000 * 1000))
BUDGET_GO_PROGRAM=$((10 * 1000 * 1000))

# The platforms: rust target | zig target (cargo zigbuild) | python platform tag | npm platform | go.
# The first row is this machine's (built and tested); the others are cross-built and inspected.
PLATFORMS=(
  "x86_64-unknown-linux-gnu|x86_64-unknown-linux-gnu.2.17|manylinux2014|linux-x64-gnu|linux_amd64"
  "x86_64-unknown-linux-musl|x86_64-unknown-linux-musl|musllinux_1_2|linux-x64-musl|-"
  "aarch64-unknown-linux-gnu|aarch64-unknown-linux-gnu.2.17|manylinux2014|linux-arm64-gnu|linux_arm64"
)
if [[ "$(uname -sm)" != "Linux x86_64" ]]; then
  echo "package.sh: builds on linux x86_64 (this is $(uname -sm)); see README's Build from source" >&2
  exit 2
fi
((host)) && PLATFORMS=("${PLATFORMS[0]}")

target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
profile_dir="$profile"
[[ "$profile" == dev ]] && profile_dir=debug

rust_sysroot="$(rustc --print sysroot)"
rust_objcopy="$rust_sysroot/lib/rustlib/$(rustc -vV | sed -n 's/^host: //p')/bin/rust-objcopy"

# Tools from PyPI, pinned: maturin (wheels, with its zig support), pyelftools (inspect-dist.py);
# for the cross builds ziglang (the C compiler and linker for old glibc, musl and aarch64) and
# cargo-zigbuild (the same for the npm and Go libraries).
tools="$target_dir/package-tools"
requirements=("maturin==1.16.0" "pyelftools==0.33")
((host)) || requirements+=("ziglang==0.17.1" "cargo-zigbuild==0.24.1")
if ! grep -qxF "${requirements[*]}" "$tools/installed" 2>/dev/null; then
  [[ -x "$tools/venv/bin/python" ]] || python3 -m venv "$tools/venv"
  "$tools/venv/bin/pip" install --disable-pip-version-check -q "${requirements[@]}"
  echo "${requirements[*]}" >>"$tools/installed"
fi
export PATH="$tools/venv/bin:$PATH"
# A cdylib (the Python and Node.js modules) on musl links the C runtime dynamically, as the host's
# Node.js or Python does (Rust's musl targets default to a static one, which a cdylib cannot use).
export CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_RUSTFLAGS="-C target-feature=-crt-static"
# The distributed x86_64 libraries carry aws-lc without its AVX-512 assembly (AES-GCM, AES-XTS and
# RSA private-key routines for AVX-512 CPUs, ~0.9 MB of the ~7 MB): MY_ASSEMBLER_IS_TOO_OLD_FOR_512AVX,
# AWS-LC's own build option, which aws-lc-sys's size-optimized build also sets; outputs are the same.
# What it costs is bulk TLS throughput and RSA signing on AVX-512 machines; verification does
# neither. (A C define, so the dist profile only: the ci build, shared with the Rust tests, keeps
# its compiled aws-lc.)
if [[ "$profile" == dist ]]; then
  for t in x86_64_unknown_linux_gnu x86_64_unknown_linux_musl; do
    export "CFLAGS_$t=-DMY_ASSEMBLER_IS_TOO_OLD_FOR_512AVX=1"
  done
fi

rm -rf "$out"
mkdir -p "$out/python" "$out/npm" "$out/go"
stage="$(mktemp -d "${TMPDIR:-/tmp}/authsec-package.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
: >"$out/SIZES"

# size_line <file> <what> <note>: prints the file's size and records it in dist/SIZES.
size_line() {
  printf '%-64s %10d bytes  (%s)\n' "$2" "$(stat -c %s "$1")" "$3" | tee -a "$out/SIZES"
}

# size_check <file> <budget bytes> <what>: records the size; fails above the budget (dist only).
over=0
size_check() {
  local size
  size=$(stat -c %s "$1")
  size_line "$1" "$3" "budget $2"
  if [[ "$profile" == dist && "$size" -gt "$2" ]]; then
    echo "package.sh: $3 is $size bytes, over its budget of $2" >&2
    over=1
  fi
}

# cargo_lib <rust target> <zig target> <crate> <library file name> [staticlib]: builds one crate on
# its own (no feature unification with another: the testing crates' features stay out of the
# production ones) and prints the library's path. With `staticlib`, in an LTO profile, the crate is
# built as a static library alone: rustc applies no LTO to a crate it also builds as an rlib
# (authsec-capi's tests need one), and LTO is what drops the code no export reaches (78 MB -> 26 MB).
cargo_lib() {
  local rust_target="$1" zig_target="$2" crate="$3" file="$4" kind="${5:-}"
  local cmd=(build) extra=()
  if [[ "$kind" == staticlib && "$profile" != ci ]]; then
    cmd=(rustc) extra=(--lib --crate-type staticlib)
  fi
  if ((host)); then
    cargo "${cmd[@]}" --locked --profile "$profile" -p "$crate" "${extra[@]}" >&2
    echo "$target_dir/$profile_dir/$file"
  else
    [[ "${cmd[0]}" == build ]] && cmd=(zigbuild)
    cargo-zigbuild "${cmd[@]}" --locked --profile "$profile" -p "$crate" --target "$zig_target" "${extra[@]}" >&2
    echo "$target_dir/$rust_target/$profile_dir/$file"
  fi
}

# ----- Python: abi3 wheels (maturin), the sdist -----
python_wheels() {
  local rust_target="$1" compat="$2"
  local args=(build --locked --profile "$profile" --out "$out/python")
  # Without zig (--host), the wheel gets the platform tag the host's glibc calls for (maturin
  # reads the symbol versions it links).
  ((host)) || args+=(--zig --target "$rust_target" --compatibility "$compat")
  maturin "${args[@]}" -m bindings-python/Cargo.toml
  maturin "${args[@]}" -m bindings-python/testing/Cargo.toml
}

# ----- Node.js: platform packages (napi-rs v3 layout) -----
# node_platform <rust target> <zig target> <npm platform>
node_platform() {
  local rust_target="$1" zig_target="$2" platform="$3"
  local os="${platform%%-*}" rest="${platform#*-}"
  local cpu="${rest%%-*}" libc="${rest#*-}"
  [[ "$libc" == gnu ]] && libc=glibc
  local pair name crate binary lib dir
  for pair in "sdk:authsec-node:authsec" "sdk-testing:authsec-node-testing:authsec-testing"; do
    IFS=: read -r name crate binary <<<"$pair"
    lib="$(cargo_lib "$rust_target" "$zig_target" "$crate" "lib${crate//-/_}.so")"
    dir="$stage/npm/$name-$platform"
    mkdir -p "$dir"
    cp "$lib" "$dir/$binary.$platform.node"
    node scripts/package-npm.mjs platform "$dir" "@authsec/$name-$platform" "$version" "$os" "$cpu" "$libc" "$binary.$platform.node"
    [[ "$name" == sdk ]] && size_check "$dir/$binary.$platform.node" "$BUDGET_NODE" "npm @authsec/sdk-$platform: $binary.$platform.node"
    (cd "$out/npm" && npm pack --silent "$dir" >/dev/null)
  done
}

# ----- Go: the static library and the testing library, into the module's per-platform folders -----
# go_platform <rust target> <zig target> <go platform>
go_platform() {
  local rust_target="$1" zig_target="$2" goplat="$3" lib testing
  lib="$(cargo_lib "$rust_target" "$zig_target" authsec-capi libauthsec_capi.a staticlib)"
  testing="$(cargo_lib "$rust_target" "$zig_target" authsec-capi-testing libauthsec_capi_testing.so)"
  mkdir -p "$stage/go/bindings-go/lib/$goplat" "$stage/go/bindings-go/lib/${goplat}_testing"
  # Without the debug information the C parts (aws-lc) carry: zig compiles them with it, and a
  # static library keeps it (the cdylibs lose it in their link, strip = "symbols"). rust-objcopy
  # (llvm-objcopy, shipped with rustc) reads archives of every target.
  LD_LIBRARY_PATH="$rust_sysroot/lib" "$rust_objcopy" --strip-debug "$lib" "$stage/go/bindings-go/lib/$goplat/libauthsec_capi.a"
  cp "$testing" "$stage/go/bindings-go/lib/${goplat}_testing/libauthsec_capi_testing.so"
  size_check "$stage/go/bindings-go/lib/$goplat/libauthsec_capi.a" "$BUDGET_GO_LIB" "go lib/$goplat/libauthsec_capi.a"
}

echo "==> package.sh: authsec $version, profile $profile, $(((host)) && echo "this machine only" || echo "${#PLATFORMS[@]} platforms") -> $out"

# The Go module as git holds it (tracked files only: no build outputs), then each platform's libraries.
mkdir -p "$stage/go"
git ls-files -z bindings-go | xargs -0 cp --parents -t "$stage/go"

npm_platforms=()
for row in "${PLATFORMS[@]}"; do
  IFS='|' read -r rust_target zig_target py_compat npm_platform go_platform <<<"$row"
  npm_platforms+=("$npm_platform")
  echo "==> $rust_target"
  ((host)) || rustup target list --installed | grep -qx "$rust_target" || rustup target add "$rust_target"
  python_wheels "$rust_target" "$py_compat"
  node_platform "$rust_target" "$zig_target" "$npm_platform"
  [[ "$go_platform" != - ]] && go_platform "$rust_target" "$zig_target" "$go_platform"
done
maturin sdist --out "$out/python" -m bindings-python/Cargo.toml
for whl in "$out"/python/authsec-*.whl; do size_check "$whl" "$BUDGET_WHEEL" "python $(basename "$whl")"; done

# The main npm packages: the checkout's package files, with optionalDependencies on the platform
# packages built above (what `napi pre-publish` adds) and no build-from-source install script.
node scripts/package-npm.mjs main bindings-node "$stage/npm/sdk" "$version" "${npm_platforms[@]}"
node scripts/package-npm.mjs testing "$stage/npm/sdk-testing" "$version" "${npm_platforms[@]}"
(cd "$out/npm" && npm pack --silent "$stage/npm/sdk" >/dev/null && npm pack --silent "$stage/npm/sdk-testing" >/dev/null)

# The wasm package (its own build: a pinned nightly, wasm-bindgen, wasm-opt, its size budget).
wasm/build.sh
(cd "$out/npm" && npm pack --silent "$root/wasm" >/dev/null)

# The Go module, with a verify-only program built against it (it imports package verify, the
# verifier without the network stack): the size a service that only verifies tokens carries.
goplat_host="$(go env GOOS)_$(go env GOARCH)"
tar -C "$stage/go" -czf "$out/go/authsec-go-$version.tar.gz" bindings-go
# The module zips the Go module proxy would serve (scripts/gomodzip: golang.org/x/mod/zip's rules
# and 500 MiB limit), for the module and each platform module built here.
go_modules=("$stage/go/bindings-go")
for lib in "$stage"/go/bindings-go/lib/*/lib*.a "$stage"/go/bindings-go/lib/*/lib*.so; do
  [[ -e "$lib" ]] && go_modules+=("$(dirname "$lib")")
done
(cd scripts/gomodzip && go run . "$out/go" "v$version" "${go_modules[@]}")
tests/install/go-program.sh "$stage/go/bindings-go" tests/install/go-verify-only "$stage/go-verify-only"
(cd "$stage/go-verify-only" && go build -trimpath -ldflags "-s -w" -o "$stage/verify-only" .)
size_check "$stage/verify-only" "$BUDGET_GO_PROGRAM" "go: a verify-only program, package verify ($goplat_host, -s -w)"
# The same program linked with --gc-sections, which drops the library code it never calls (the
# client, MCP, management, the Workload API). The go command takes that flag from CGO_LDFLAGS but
# not from a module's #cgo lines, so it is the user's choice (bindings-go/README.md); recorded only.
(cd "$stage/go-verify-only" && CGO_LDFLAGS="-Wl,--gc-sections" go build -trimpath -ldflags "-s -w" -o "$stage/verify-only-gc" .)
size_line "$stage/verify-only-gc" "go: the same, CGO_LDFLAGS=-Wl,--gc-sections" "no budget"

python3 scripts/versions.py --check-dist "$out"
# The native code in each artifact, for the platform its name says (the cross-built ones never run
# here); the zig builds need nothing above glibc 2.17 (manylinux2014, the npm and Go packages).
if ((host)); then
  "$tools/venv/bin/python" scripts/inspect-dist.py "$out"
else
  "$tools/venv/bin/python" scripts/inspect-dist.py "$out" --max-glibc 2.17
fi
echo "==> dist ($out):"
(cd "$out" && find . -type f ! -name SIZES | sort | sed 's|^\./|  |')
if ((over)); then
  echo "package.sh: over a size budget (dist/SIZES)" >&2
  exit 1
fi
