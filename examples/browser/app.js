// (5) A page that verifies access tokens with @authsec/wasm: the same Rust core as the Python,
// Node and Go examples, compiled to WebAssembly, with the signature checked by WebCrypto.
//
// The page gets its demo tokens from /demo.json (served by run.mjs, which stands in for your
// app's login flow); the JWKS comes from the authorization server through /jwks.json on the
// page's own origin (the local server sends no CORS headers).

const out = document.getElementById('out');
const print = (line) => {
  out.textContent += `${line}\n`;
};

// [START browser_verify]
import { Verifier, AuthsecError, scopesOf } from '@authsec/wasm';

async function check(verifier, label, token, requiredScopes) {
  try {
    const claims = await verifier.verify(token, { requiredScopes });
    print(`${label}: valid, client ${claims.client_id}, scopes ${JSON.stringify(scopesOf(claims))}`);
  } catch (e) {
    if (!(e instanceof AuthsecError)) throw e;
    print(`${label}: rejected, ${e.code} (HTTP ${e.httpStatus})${e.missingScopes ? `, missing ${e.missingScopes}` : ''}`);
  }
}

async function main() {
  const demo = await (await fetch('/demo.json')).json();
  // One verifier per issuer: it caches the JWKS and the tokens it has verified.
  const verifier = new Verifier({
    issuer: demo.issuer,
    audience: demo.audience,
    jwksUri: new URL('/jwks.json', location.href).href,
  });
  await check(verifier, 'token with read:data', demo.token, ['read:data']);
  await check(verifier, 'same token, needs write:data', demo.token, ['write:data']);
  await check(verifier, 'same token, edited payload', demo.tampered, ['read:data']);
  await check(verifier, 'garbage', 'not-a-jwt', ['read:data']);
  print(`verified-token cache: ${verifier.cachedTokens} token(s)`);
}
// [END browser_verify]

main()
  .then(
    () => print('done: browser'),
    (e) => print(`error: ${e && e.stack ? e.stack : e}`),
  )
  // What the page printed, for run.mjs (the demo's stand-in for a person reading the page).
  .then(() => fetch('/printed', { method: 'POST', body: out.textContent }));
