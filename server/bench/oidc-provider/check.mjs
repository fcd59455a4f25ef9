// Asks a server for one token and verifies it before the benchmark measures anything: HTTP 200, a
// JWT whose header alg is the expected one, a signature that verifies with the server's published
// JWKS (found through its metadata), and the expected aud and scope.
//   node check.mjs <token endpoint> <issuer> <alg> <client_id> <client_secret> <body>
// Prints the header and claims on success; exits 1 with the reason otherwise.
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';

const [tokenUrl, issuer, alg, clientId, clientSecret, body] = process.argv.slice(2);
const fail = (msg) => { console.error(`check: ${msg}`); process.exit(1); };
const res = await fetch(tokenUrl, {
  method: 'POST',
  headers: {
    authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
    'content-type': 'application/x-www-form-urlencoded',
  },
  body,
});
const text = await res.text();
if (res.status !== 200) fail(`${tokenUrl} answered ${res.status}: ${text}`);
const token = JSON.parse(text).access_token;
if (typeof token !== 'string' || token.split('.').length !== 3) fail(`no JWT access token in ${text}`);
const header = decodeProtectedHeader(token);
if (header.alg !== alg) fail(`the token is signed with ${header.alg}, not ${alg}`);
let jwksUri;
for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
  const m = await fetch(issuer + path);
  if (m.ok) { jwksUri = (await m.json()).jwks_uri; break; }
}
if (!jwksUri) fail(`${issuer} publishes no metadata with a jwks_uri`);
const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(jwksUri)), {
  algorithms: [alg],
  issuer,
}).catch((e) => fail(`the token does not verify: ${e.message}`));
console.log(JSON.stringify({ header, claims: payload }));
