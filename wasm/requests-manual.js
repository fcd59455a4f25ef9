// @authsec/wasm/requests without automatic initialisation (as manual.js, for
// dist/authsec_wasm_requests_bg.wasm): the whole API of @authsec/wasm plus RequestVerifier, which
// checks whole requests to a protected resource (Bearer and DPoP credentials, DPoP proofs with
// nonces and a replay cache, certificate-bound tokens). A module of its own (about 40 KB gzipped
// more) so that bearer-only users do not load it.
import initWasm, * as wasm from './dist/authsec_wasm_requests.js';
import { makeApi, packageFile } from './js/api.js';
import { setEd25519FallbackSource } from './js/glue.js';

export * from './js/errors.js';

setEd25519FallbackSource(() => packageFile(new URL('./dist/ed25519_fallback.wasm', import.meta.url)));

export const {
  init, initSync, Verifier, RequestVerifier, JwtSvidVerifier, spiffeIdMatches, decode, scopesOf, requireScopes, hasScopes, bearerToken, challenge,
  workersKvStore, errorCodes, errorClasses, _setNowMs,
} = makeApi(wasm, initWasm, () => packageFile(new URL('./dist/authsec_wasm_requests_bg.wasm', import.meta.url)));
