#!/usr/bin/env bash
# Build @authsec/wasm: cargo (wasm32, size profile, on a pinned nightly that rebuilds std for
# size) -> wasm-bindgen (pinned CLI, --target web) -> wasm-opt -Oz (npm's binaryen) -> dist/.
# Prints the gzipped size and fails above the budget: 100 kB gzipped (gzip -9; 100,000 bytes, the
# stricter reading of "100 KB").
#   wasm/build.sh            build
# Needs rustup (installs the pinned nightly, minimal profile + rust-src, when missing), cargo,
# node + npm (binaryen from npm).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
WASM_BINDGEN_VERSION=0.2.130   # = the wasm-bindgen crate pinned in Cargo.toml
BUDGET_GZ=100000
# The requests module (RequestVerifier: DPoP, certificate-bound tokens) on top of the same API.
BUDGET_REQUESTS_GZ=120000
# The spiffe module (JwtSvidVerifier: SPIFFE JWT-SVIDs against given bundles) on top of the same API.
BUDGET_SPIFFE_GZ=120000
# The toolchain of the wasm build only (the rest of the repository builds on stable): a pinned
# nightly, for -Zbuild-std (std rebuilt with this profile and the flags below). Pinned, so the
# module does not change size or behaviour under us from one nightly to the next; moving the pin is
# a commit that reruns wasm/test.sh. rustc 1.97.0-nightly (e50aa6fba 2026-05-19), dist date 05-20.
NIGHTLY=nightly-2026-05-20

# The minimal profile (rustc, cargo, the host's std for build scripts and proc macros) and
# rust-src (std's sources for -Zbuild-std); no wasm32 std: it is built here. A download of about
# 128 MB (673 MB installed), once.
if ! rustup run "$NIGHTLY" rustc --version >/dev/null 2>&1 ||
  ! rustup component list --toolchain "$NIGHTLY" --installed 2>/dev/null | grep -q '^rust-src'; then
  echo "wasm: installing $NIGHTLY (rustup, minimal profile + rust-src) for the wasm build"
  rustup toolchain install "$NIGHTLY" --profile minimal --component rust-src
fi
if ! command -v wasm-bindgen >/dev/null || [ "$(wasm-bindgen --version | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi
# The devDependencies (package.json): binaryen (wasm-opt), typescript, jose (the benchmark's peer),
# and the runtimes and bundler the tests use. `npm ci` installs exactly what package-lock.json
# pins (it never writes the lock file); skipped when node_modules/ is what it installed from this
# package.json and package-lock.json (the stamp), as a fresh install rewrites ~400 MB.
stamp=node_modules/.authsec-npm-ci
lock_sum="$(cat package.json package-lock.json | cksum)"
if [[ "$(cat "$stamp" 2>/dev/null)" != "$lock_sum" ]]; then
  npm ci --no-audit --no-fund
  echo "$lock_sum" > "$stamp"
fi

# std is rebuilt with the release profile (opt-level z, fat LTO) and, what only a nightly allows:
#   -Cpanic=immediate-abort (profile panic = "immediate-abort"): a panic traps at once
#     (`unreachable`), as panic = "abort" did in the end, without the panic machinery that formats
#     its message first (no one sees it: wasm32-unknown-unknown has nowhere to print it);
#   -Zlocation-detail=none: no file/line/column of the panic sites (unwrap, indexing, ...);
#   -Zbuild-std-features=optimize_for_size: std's smaller variants (sorting, integer formatting).
# 13 KB gzipped less than the stable build of the same sources (wasm/README.md, Size). The core's
# error messages are untouched: they never came from panics or Debug formatting.
# Paths: map the checkout and cargo's registry to fixed prefixes, so the shipped module carries no
# path of the machine it was built on.
repo="$(cd "$here/.." && pwd)"
export RUSTFLAGS="${RUSTFLAGS:-} -Zlocation-detail=none --remap-path-prefix=$repo=/authsec --remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=/cargo"
cargo "+$NIGHTLY" build --locked --target wasm32-unknown-unknown --release \
  -Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size \
  -Zpanic-immediate-abort --config 'profile.release.panic="immediate-abort"' \
  -p authsec-wasm -p authsec-wasm-requests -p authsec-wasm-spiffe -p authsec-ed25519-fallback
rm -rf dist && mkdir -p dist
wasm-bindgen --target web --out-dir dist target/wasm32-unknown-unknown/release/authsec_wasm.wasm
# The requests module (requests/): the same API plus RequestVerifier, a module of its own.
wasm-bindgen --target web --out-dir dist target/wasm32-unknown-unknown/release/authsec_wasm_requests.wasm
# The spiffe module (spiffe/): the same API plus JwtSvidVerifier, a module of its own.
wasm-bindgen --target web --out-dir dist target/wasm32-unknown-unknown/release/authsec_wasm_spiffe.wasm
# wasm-bindgen copies js/glue.js into dist/snippets/<crate-hash>/js/; make that copy re-export the
# package's own js/glue.js, so there is one module (one AuthsecError class, one key cache).
for f in dist/snippets/*/js/glue.js; do
  echo "export * from '../../../../js/glue.js';" > "$f"
done
# Explicit feature flags: what rustc's wasm32 target emits by default. --converge repeats the
# passes while they still shrink the module (0.2 KB gzipped).
for m in authsec_wasm authsec_wasm_requests authsec_wasm_spiffe; do
  node_modules/.bin/wasm-opt -Oz --converge \
    --enable-bulk-memory --enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int \
    --enable-reference-types --enable-multivalue --strip-debug --strip-producers \
    "dist/${m}_bg.wasm" -o "dist/${m}_bg.opt.wasm"
  mv "dist/${m}_bg.opt.wasm" "dist/${m}_bg.wasm"
done
# The Ed25519 fallback module, loaded only where WebCrypto lacks Ed25519 (not counted in the size).
node_modules/.bin/wasm-opt -Oz \
  --enable-bulk-memory --enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int \
  --enable-reference-types --enable-multivalue --strip-debug --strip-producers \
  target/wasm32-unknown-unknown/release/authsec_ed25519_fallback.wasm -o dist/ed25519_fallback.wasm
echo "wasm: dist/ed25519_fallback.wasm $(wc -c < dist/ed25519_fallback.wasm) bytes, $(gzip -9 -c dist/ed25519_fallback.wasm | wc -c) gzipped (loaded only where WebCrypto lacks Ed25519)"
raw=$(wc -c < dist/authsec_wasm_bg.wasm)
gz=$(gzip -9 -c dist/authsec_wasm_bg.wasm | wc -c)
echo "wasm size: dist/authsec_wasm_bg.wasm ${raw} bytes, ${gz} bytes gzipped (budget ${BUDGET_GZ}: $([ "$gz" -le "$BUDGET_GZ" ] && echo within || echo OVER))"
rraw=$(wc -c < dist/authsec_wasm_requests_bg.wasm)
rgz=$(gzip -9 -c dist/authsec_wasm_requests_bg.wasm | wc -c)
echo "wasm size: dist/authsec_wasm_requests_bg.wasm ${rraw} bytes, ${rgz} bytes gzipped (@authsec/wasm/requests; budget ${BUDGET_REQUESTS_GZ}: $([ "$rgz" -le "$BUDGET_REQUESTS_GZ" ] && echo within || echo OVER))"
sraw=$(wc -c < dist/authsec_wasm_spiffe_bg.wasm)
sgz=$(gzip -9 -c dist/authsec_wasm_spiffe_bg.wasm | wc -c)
echo "wasm size: dist/authsec_wasm_spiffe_bg.wasm ${sraw} bytes, ${sgz} bytes gzipped (@authsec/wasm/spiffe; budget ${BUDGET_SPIFFE_GZ}: $([ "$sgz" -le "$BUDGET_SPIFFE_GZ" ] && echo within || echo OVER))"
if [ "$sgz" -gt "$BUDGET_SPIFFE_GZ" ]; then
  echo "wasm: the spiffe module is over its size budget of ${BUDGET_SPIFFE_GZ} bytes gzipped" >&2
  exit 1
fi
if [ "$rgz" -gt "$BUDGET_REQUESTS_GZ" ]; then
  echo "wasm: the requests module is over its size budget of ${BUDGET_REQUESTS_GZ} bytes gzipped" >&2
  exit 1
fi
if [ "$gz" -gt "$BUDGET_GZ" ]; then
  echo "wasm: the module is over its size budget of ${BUDGET_GZ} bytes gzipped; see wasm/README.md (Size) for what costs what" >&2
  exit 1
fi
