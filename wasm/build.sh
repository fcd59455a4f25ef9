#!/usr/bin/env bash
# Build @authsec/wasm: cargo (wasm32, size profile) -> wasm-bindgen (pinned CLI, --target web)
# -> wasm-opt -Oz (npm's binaryen) -> dist/. Prints the gzipped size and fails above the budget:
# 100 kB gzipped (gzip -9; 100,000 bytes, the stricter reading of "100 KB").
#   wasm/build.sh            build
# Needs rustup (adds wasm32-unknown-unknown), cargo, node + npm (binaryen from npm).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
WASM_BINDGEN_VERSION=0.2.130   # = the wasm-bindgen crate pinned in Cargo.toml
BUDGET_GZ=100000

rustup target list --installed | grep -q '^wasm32-unknown-unknown$' || rustup target add wasm32-unknown-unknown
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

# Panic locations name source files: map the checkout and cargo's registry to fixed prefixes, so
# the shipped module carries no path of the machine it was built on (and a long checkout path
# does not eat into the size budget).
repo="$(cd "$here/.." && pwd)"
export RUSTFLAGS="${RUSTFLAGS:-} --remap-path-prefix=$repo=/authsec --remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=/cargo"
cargo build --locked --target wasm32-unknown-unknown --release -p authsec-wasm -p authsec-ed25519-fallback
rm -rf dist && mkdir -p dist
wasm-bindgen --target web --out-dir dist target/wasm32-unknown-unknown/release/authsec_wasm.wasm
# wasm-bindgen copies js/glue.js into dist/snippets/<crate-hash>/js/; make that copy re-export the
# package's own js/glue.js, so there is one module (one AuthsecError class, one key cache).
for f in dist/snippets/*/js/glue.js; do
  echo "export * from '../../../../js/glue.js';" > "$f"
done
# Explicit feature flags: what rustc's wasm32 target emits by default. --converge repeats the
# passes while they still shrink the module (0.2 KB gzipped).
node_modules/.bin/wasm-opt -Oz --converge \
  --enable-bulk-memory --enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int \
  --enable-reference-types --enable-multivalue --strip-debug --strip-producers \
  dist/authsec_wasm_bg.wasm -o dist/authsec_wasm_bg.opt.wasm
mv dist/authsec_wasm_bg.opt.wasm dist/authsec_wasm_bg.wasm
# The Ed25519 fallback module, loaded only where WebCrypto lacks Ed25519 (not counted in the size).
node_modules/.bin/wasm-opt -Oz \
  --enable-bulk-memory --enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int \
  --enable-reference-types --enable-multivalue --strip-debug --strip-producers \
  target/wasm32-unknown-unknown/release/authsec_ed25519_fallback.wasm -o dist/ed25519_fallback.wasm
echo "wasm: dist/ed25519_fallback.wasm $(wc -c < dist/ed25519_fallback.wasm) bytes, $(gzip -9 -c dist/ed25519_fallback.wasm | wc -c) gzipped (loaded only where WebCrypto lacks Ed25519)"
raw=$(wc -c < dist/authsec_wasm_bg.wasm)
gz=$(gzip -9 -c dist/authsec_wasm_bg.wasm | wc -c)
echo "wasm size: dist/authsec_wasm_bg.wasm ${raw} bytes, ${gz} bytes gzipped (budget ${BUDGET_GZ}: $([ "$gz" -le "$BUDGET_GZ" ] && echo within || echo OVER))"
if [ "$gz" -gt "$BUDGET_GZ" ]; then
  echo "wasm: the module is over its size budget of ${BUDGET_GZ} bytes gzipped; see wasm/README.md (Size) for what costs what" >&2
  exit 1
fi
