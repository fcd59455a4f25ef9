#!/usr/bin/env bash
# The WebAssembly package's tests:
#   cargo fmt --check       the wasm crate (its own cargo workspace)
#   wasm/build.sh           builds dist/ (npm ci of the devDependencies: binaryen, jose,
#                           typescript, deno, vite, workerd) and fails above 100 kB gzipped
#   tsc --noEmit            the declarations (index.d.ts, manual.d.ts) against test/types.mts
#   cargo build authsec-cli the local authorization server for test/remote.test.mjs (in the cargo
#                           profile AUTHSEC_CARGO_PROFILE names; dev when unset)
#   chromium                Debian's package, installed with apt-get when missing (the browser test)
#   node --test             test/*.test.mjs: the shared vectors under Node (vectors), in headless
#                           Chromium: a page and a Web Worker (browser) and a Vite build (bundler),
#                           in Deno (deno), in workerd with the README's Worker (workerd); remote
#                           JWKS against `authsec server` (remote), the JWKS store (store),
#                           loading with no Node.js built-ins (nobuiltins), the error classes
#                           (errors), delegated tokens (delegation)
# Needs node (20.19+: Vite) and npm, a Rust toolchain, and apt-get (or AUTHSEC_CHROMIUM=/path/to/chrome).
# Prints "wasm: N passed, M failed" last.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"

echo "==> node $(node --version), npm $(npm --version 2>/dev/null)"
echo "==> cargo fmt --check (wasm crate)"
cargo fmt --check
echo "==> wasm/build.sh"
./build.sh
echo "==> tsc --noEmit (declarations)"
node_modules/.bin/tsc --noEmit --strict --target es2022 --module nodenext --moduleResolution nodenext --lib es2022,dom test/types.mts

profile="${AUTHSEC_CARGO_PROFILE:-dev}"
echo "==> cargo build --profile $profile -p authsec-cli (the local authorization server)"
(cd .. && cargo build --locked --profile "$profile" -p authsec-cli)

if [[ -z "${AUTHSEC_CHROMIUM:-}" ]] && ! command -v chromium >/dev/null 2>&1; then
  echo "==> apt-get install chromium (headless browser for test/browser.test.mjs)"
  sudo=()
  if [[ "$(id -u)" -ne 0 ]]; then sudo=(sudo -n); fi
  export DEBIAN_FRONTEND=noninteractive
  apt_install() { timeout 900 "${sudo[@]}" apt-get install -y --no-install-recommends chromium; }
  if ! apt_install; then
    timeout 300 "${sudo[@]}" apt-get update
    apt_install
  fi
fi
if [[ -z "${AUTHSEC_CHROMIUM:-}" ]]; then
  echo "==> $(chromium --version 2>/dev/null | tail -1)"
fi

echo "==> node --test"
exec ../scripts/node-test.sh wasm --test-timeout=240000 test/*.test.mjs
