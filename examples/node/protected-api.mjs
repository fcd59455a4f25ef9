// (3) A protected API: Express verifies bearer tokens with @authsec/sdk and requires scopes.
//
//     node protected-api.mjs
//
// `createApp` is the API: `GET /data` needs a token with `read:data`, `POST /data` one with
// `write:data`. The `requireAuth` middleware verifies the token (signature against the issuer's
// JWKS, issuer, audience, expiry) and its scopes in the Rust core, and answers refusals itself:
// 401 without a token or with a bad one, 403 when a scope is missing, each with an RFC 6750
// `WWW-Authenticate` challenge. `main` starts the local authorization server, serves the API on
// 127.0.0.1 and calls it four times to show each answer.

import { fileURLToPath } from 'node:url';
import express from 'express';
import { ClientCredentials, Verifier, requireAuth, scopesOf } from '@authsec/sdk';
import { API_AUDIENCE, serve, startLocalAuth } from './local.mjs';

// [START protected_api]
export function createApp({ issuer, jwksUri }) {
  // One verifier for the whole app: it caches the issuer's signing keys (JWKS) and every token
  // it has verified, so a repeated token is answered without a signature check.
  const verifier = new Verifier({ issuer, audience: 'https://api.example.test', jwksUri });
  const canRead = requireAuth({ verifier, requiredScopes: 'read:data', realm: 'example-api' });
  const canWrite = requireAuth({ verifier, requiredScopes: 'write:data', realm: 'example-api' });

  const app = express();
  app.get('/data', canRead, (req, res) => {
    const claims = req.auth.payload;
    res.json({ client_id: claims.client_id, scopes: scopesOf(claims) });
  });
  app.post('/data', canWrite, (req, res) => {
    res.json({ stored_by: req.auth.payload.client_id });
  });
  return app;
}
// [END protected_api]

/** The same token with its payload edited to claim `write:data` too: the signature no longer
 * matches, so the API must refuse it. */
function tamper(token) {
  const [header, payload, signature] = token.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
  claims.scope = 'read:data write:data';
  return `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
}

async function show(what, response) {
  const body = await response.text();
  if (response.status === 200) console.log(`${what} -> 200 ${body}`);
  else console.log(`${what} -> ${response.status} WWW-Authenticate: ${response.headers.get('www-authenticate')}`);
}

async function main() {
  const auth = await startLocalAuth();
  const api = await serve(createApp(auth));
  try {
    console.log(`protected API: ${api.url} (GET /data needs read:data, POST /data needs write:data)`);

    // An agent that asked only for read:data.
    const client = new ClientCredentials({
      tokenUrl: auth.tokenUrl,
      clientId: auth.clientId,
      clientSecret: auth.clientSecret,
      scopes: ['read:data'],
      audience: API_AUDIENCE,
    });
    const token = await client.getToken();
    const bearer = { Authorization: token.authorization };

    await show('GET /data with a read:data token', await fetch(`${api.url}/data`, { headers: bearer }));
    await show('GET /data without a token', await fetch(`${api.url}/data`));
    const forged = { Authorization: `Bearer ${tamper(token.accessToken)}` };
    await show('GET /data with a tampered token', await fetch(`${api.url}/data`, { headers: forged }));
    await show('POST /data with a read:data token', await fetch(`${api.url}/data`, { method: 'POST', headers: bearer }));
  } finally {
    await api.close();
    await auth.close();
  }
  console.log('done: protected_api');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
