// @authsec/wasm/spiffe without automatic initialisation (as manual.js, for
// dist/authsec_wasm_spiffe_bg.wasm): the whole API of @authsec/wasm plus JwtSvidVerifier, which
// verifies SPIFFE JWT-SVIDs against the trust bundles it is given, and spiffeIdMatches. A module
// of its own (about 20 KB gzipped more) so that access-token-only users do not load it.
import initWasm, * as wasm from './dist/authsec_wasm_spiffe.js';
import { makeApi, packageFile } from './js/api.js';
import { setEd25519FallbackSource } from './js/glue.js';

export * from './js/errors.js';

setEd25519FallbackSource(() => packageFile(new URL('./dist/ed25519_fallback.wasm', import.meta.url)));

export const {
  init, initSync, Verifier, JwtSvidVerifier, spiffeIdMatches, decode, scopesOf, requireScopes, hasScopes, bearerToken,
  challenge, workersKvStore, errorCodes, errorClasses, _setNowMs,
} = makeApi(wasm, initWasm, () => packageFile(new URL('./dist/authsec_wasm_spiffe_bg.wasm', import.meta.url)));
