// (6) Proof of possession: a DPoP-bound token (RFC 9449) that is useless to whoever copies it.
//
//     node dpop.mjs
//
// The agent holds a key of its own (generated in memory) and proves it with every request: a
// signed `DPoP` proof for that method and URL. The authorization server binds the token to the key
// (`cnf.jkt`) and the API checks the proof, refuses a replayed one, and asks for its own nonce
// first. A thief with the token alone gets nowhere: sent as Bearer it is refused, and a proof by
// another key does not match the binding. The local authorization server (in-process, on
// 127.0.0.1) requires proofs from this client and demands its nonces too.

import { randomBytes } from 'node:crypto';
import express from 'express';
import { ClientCredentials, requireAuth } from '@authsec/sdk';
import { startLocalServer } from '@authsec/sdk/testing';
import { API_AUDIENCE, serve } from './local.mjs';

// [START dpop]
function createApi({ issuer, jwksUri }) {
  const app = express();
  // dpop 'required': only DPoP-bound tokens, each with a proof by its key; dpopNonce: the API
  // hands out nonces (401 use_dpop_nonce + DPoP-Nonce) and accepts proofs that carry a current one.
  const auth = requireAuth({ issuer, audience: API_AUDIENCE, jwksUri, dpop: 'required', dpopNonce: true, requiredScopes: 'read:data' });
  app.get('/data', auth, (req, res) => res.json({ scheme: req.auth.scheme, key: req.auth.dpopThumbprint }));
  return app;
}

async function callApi({ tokenUrl, clientId, clientSecret }, url) {
  // dpop: true makes a key for this client: every token request carries a proof, the tokens are
  // bound to the key, and client.fetch signs a proof for each request (answering the API's nonce
  // challenge with one retry).
  const agent = new ClientCredentials({ tokenUrl, clientId, clientSecret, scopes: ['read:data'], dpop: true });
  const res = await agent.fetch(url);
  console.log(`agent: ${res.status} ${JSON.stringify(await res.json())} (its key: ${agent.dpopThumbprint})`);

  // Someone who copied the token from a log: as Bearer, and with a proof by their own key.
  const token = await agent.getToken();
  const asBearer = await fetch(url, { headers: { authorization: `Bearer ${token.accessToken}` } });
  console.log(`stolen token as Bearer: ${asBearer.status} ${asBearer.headers.get('www-authenticate')}`);
  const thief = new ClientCredentials({ tokenUrl, clientId: 'nobody', clientSecret: 'x', dpop: true });
  const withOtherKey = await fetch(url, { headers: thief.authorize(token, 'GET', url) });
  console.log(`stolen token with another key's proof: ${withOtherKey.status} ${withOtherKey.headers.get('www-authenticate')}`);
}
// [END dpop]

const clientSecret = randomBytes(24).toString('base64url');
const authServer = await startLocalServer({
  clients: [
    {
      client_id: 'example-agent',
      client_secret: clientSecret,
      allowed_scopes: ['read:data'],
      audiences: [API_AUDIENCE],
      dpop_bound_access_tokens: true, // the server refuses this client's token requests without a proof
    },
  ],
  default_audience: API_AUDIENCE,
  dpop: { nonce: true }, // and asks for its own nonce in them
});
console.log(`authorization server: ${authServer.issuer} (local, in-process)`);
const api = await serve(createApi({ issuer: authServer.issuer, jwksUri: authServer.jwksUri }));
try {
  await callApi({ tokenUrl: authServer.tokenEndpoint, clientId: 'example-agent', clientSecret }, `${api.url}/data`);
} finally {
  await api.close();
  await authServer.close();
}
console.log('done: dpop');
