#!/usr/bin/env bash
# tests/install/run.sh [dist]: installs the packaged artifacts (scripts/package.sh; default dist/)
# the way users do, in a temporary folder, on a PATH without cargo, rustc or rustup (CARGO_HOME and
# RUSTUP_HOME pointing nowhere), so that nothing can be built from source:
#   python  pip install --no-index --only-binary=:all: --find-links dist/python authsec authsec-testing
#           into a fresh venv (pytest and pytest-timeout from PyPI), then python_token.py and the
#           shared vectors (bindings-python/tests/test_vectors.py) against the installed package
#   node    npm install of the tarballs into a fresh project, then node-token.mjs and the shared
#           vectors (bindings-node/test/vectors.test.mjs, its imports of the package redirected to
#           the installed one by node-installed.mjs)
#   go      the module unpacked from dist/go, a program that requires it through a replace
#           (go-program.sh), built with the C compiler only: go-token and the verify-only program;
#           then the module's own vector tests in the unpacked copy
# Each prints what it verified; the last line is "install: python, node, go ok".
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
dist="$(cd "${1:-$root/dist}" && pwd)"
version="$(python3 "$root/scripts/versions.py")"
python="$(python3 -c 'import sys; print(sys.executable)')"

work="$(mktemp -d "${TMPDIR:-/tmp}/authsec-install.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# A PATH without the Rust toolchain: every folder holding cargo, rustc or rustup left out.
path=""
IFS=: read -r -a dirs <<<"$PATH"
for d in "${dirs[@]}"; do
  [[ -z "$d" || -e "$d/cargo" || -e "$d/rustc" || -e "$d/rustup" ]] && continue
  path="${path:+$path:}$d"
done
export PATH="$path" CARGO_HOME="$work/no-cargo-home" RUSTUP_HOME="$work/no-rustup-home"
unset RUSTC RUSTC_WRAPPER CARGO CARGO_TARGET_DIR
# The vector tests here check the installed packages; the outcomes the conformance step compares
# are the language suites'.
unset AUTHSEC_CONFORMANCE_OUT
if command -v cargo >/dev/null || command -v rustc >/dev/null; then
  echo "install: cargo or rustc is still on PATH ($(command -v cargo rustc | tr '\n' ' ')); cannot test an install without Rust" >&2
  exit 1
fi
for tool in go node npm gcc; do
  command -v "$tool" >/dev/null || { echo "install: $tool is not on PATH without the Rust toolchain's folders" >&2; exit 1; }
done
echo "==> install: authsec $version from $dist, PATH without cargo, rustc and rustup"

# ----- Python -----
echo "==> python: pip install --no-index --only-binary=:all: --find-links $dist/python authsec authsec-testing"
"$python" -m venv "$work/venv"
pip=("$work/venv/bin/python" -m pip --disable-pip-version-check -q)
"${pip[@]}" install --no-index --only-binary=:all: --find-links "$dist/python" "authsec==$version" "authsec-testing==$version"
"${pip[@]}" install pytest pytest-timeout
(cd "$work" && "$work/venv/bin/python" "$here/python_token.py")
(cd "$work" && "$work/venv/bin/python" -m pytest -q -p no:cacheprovider --rootdir "$root/bindings-python" \
  -c "$root/bindings-python/pyproject.toml" "$root/bindings-python/tests/test_vectors.py") | tail -1

# ----- Node.js -----
echo "==> node: npm install of the tarballs into a fresh project"
platform="$("$here/npm-project.sh" "$dist" "$work/node" module)"
(
  cd "$work/node"
  cp "$here/node-token.mjs" .
  node node-token.mjs
  AUTHSEC_INSTALLED_SDK="$work/node/node_modules/@authsec/sdk" node --import "$here/node-installed.mjs" \
    --test --test-reporter=tap "$root/bindings-node/test/vectors.test.mjs" >vectors.tap 2>&1 ||
    { cat vectors.tap; exit 1; }
  echo "node: vectors $(grep -E '^# (pass|fail) ' vectors.tap | tr '\n' ' ')"
  # Without its platform package (npm --omit=optional, a lock file from another platform), the
  # package says what is missing and what to do.
  rm -rf "node_modules/@authsec/sdk-$platform"
  if node -e "require('@authsec/sdk')" 2>missing.txt; then
    echo "install: @authsec/sdk loaded without its platform package" >&2
    exit 1
  fi
  grep -q "no native module authsec for $platform\. npm install @authsec/sdk installs the prebuilt one" missing.txt ||
    { echo "install: unexpected error without the platform package:" >&2; cat missing.txt >&2; exit 1; }
  echo "node: without @authsec/sdk-$platform: $(grep -m1 -o 'no native module authsec for [^.]*\. npm install @authsec/sdk[^(]*' missing.txt)"
)

# ----- Go -----
echo "==> go: the module from $dist/go, through a replace, with a C compiler only"
mkdir -p "$work/go"
tar -C "$work/go" -xzf "$dist/go/authsec-go-$version.tar.gz"
for program in token verify-only; do
  "$here/go-program.sh" "$work/go/bindings-go" "$here/go-$program" "$work/go/$program" >"$work/go/$program.log" 2>&1 ||
    { cat "$work/go/$program.log"; exit 1; }
done
(cd "$work/go/verify-only" && go build -o "$work/go/verify-only.bin" .)
# Linked with --gc-sections too (README: a smaller verify-only program), which must not drop
# anything the program runs.
(cd "$work/go/verify-only" && CGO_LDFLAGS="-Wl,--gc-sections" go build -o "$work/go/verify-only-gc-sections.bin" .)
(cd "$work/go/token" && go build -o "$work/go/token.bin" .)
"$work/go/token.bin" "$work/go/verify-only.bin" "$work/go/verify-only-gc-sections.bin"
# The module's own vector tests, in the unpacked copy (they read ../tests/vectors).
mkdir -p "$work/go/tests" && cp -r "$root/tests/vectors" "$work/go/tests/vectors"
(cd "$work/go/bindings-go" && GOFLAGS=-buildvcs=false go test -count=1 -v -run 'Vectors' . >"$work/go/vectors.log" 2>&1) ||
  { cat "$work/go/vectors.log"; exit 1; }
grep -Eo 'vectors: [0-9]+ passed, [0-9]+ failed' "$work/go/vectors.log" | sed 's/^/go: /' || { echo "go: no vector results" >&2; exit 1; }

echo "install: python, node, go ok"
