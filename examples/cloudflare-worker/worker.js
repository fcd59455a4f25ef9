// A Cloudflare Worker that protects an API with @authsec/wasm: the bearer token is verified against
// the issuer's JWKS (kept in Workers KV across isolates), with the scope the route needs; a failure
// is answered per RFC 6750. Deploy with `wrangler deploy` (wrangler.toml), or run it locally in
// workerd: wasm/test/workerd.test.mjs runs this very file against the local authorization server.
// [START worker]
import wasm from '@authsec/wasm/authsec_wasm_bg.wasm';
import ed25519Fallback from '@authsec/wasm/ed25519_fallback.wasm';
import { initSync, Verifier, AuthsecError, bearerToken, challenge, workersKvStore } from '@authsec/wasm/manual';

// Workers hand over compiled modules (they compile no wasm from bytes): initialise once, at startup.
initSync(wasm, { ed25519Fallback });

let verifier; // one per isolate; env is the same for every request
function verifierFor(env) {
  verifier ??= new Verifier({
    issuer: env.ISSUER,
    audience: env.AUDIENCE,
    jwksUri: env.JWKS_URI,
    jwksCache: workersKvStore(env.JWKS_KV), // a cold isolate reads the JWKS from KV, not the network
  });
  return verifier;
}

export default {
  async fetch(request, env) {
    try {
      const token = bearerToken(request.headers.get('authorization'));
      if (!token) throw null; // no credentials: 401 with a bare challenge
      const claims = await verifierFor(env).verify(token, { requiredScopes: ['read:data'] });
      return Response.json({ sub: claims.sub, scope: claims.scope });
    } catch (e) {
      if (e !== null && !(e instanceof AuthsecError)) throw e;
      const { status, wwwAuthenticate } = challenge(e, { realm: 'api', requiredScopes: 'read:data' });
      return new Response(null, { status, headers: wwwAuthenticate ? { 'www-authenticate': wwwAuthenticate } : {} });
    }
  },
};
// [END worker]
