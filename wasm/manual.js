// @authsec/wasm without automatic initialisation: call `await init(input)` first, where input is
// what the runtime gives you for dist/authsec_wasm_bg.wasm (a WebAssembly.Module in Cloudflare
// Workers, a URL or Response in browsers, bytes anywhere). Then use the same API as the main entry.
// Whole-request checks (DPoP, certificate-bound tokens) are in '@authsec/wasm/requests', a module
// of their own (requests-manual.js).
import initWasm, * as wasm from './dist/authsec_wasm.js';
import { makeApi, packageFile } from './js/api.js';
import { setEd25519FallbackSource } from './js/glue.js';

export * from './js/errors.js';

// Where the Ed25519 fallback module comes from, unless init()/initSync() are told otherwise.
setEd25519FallbackSource(() => packageFile(new URL('./dist/ed25519_fallback.wasm', import.meta.url)));

export const {
  init, initSync, Verifier, JwtSvidVerifier, spiffeIdMatches, decode, scopesOf, requireScopes, hasScopes, bearerToken, challenge, workersKvStore,
  errorCodes, errorClasses, _setNowMs,
} = makeApi(wasm, initWasm, () => packageFile(new URL('./dist/authsec_wasm_bg.wasm', import.meta.url)));
