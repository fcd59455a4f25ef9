// (1) Get a token with client credentials and call a protected API with it.
//
//     node get-token.mjs
//
// `callApi` is the agent's side: a `ClientCredentials` gets an OAuth 2.0 access token from the
// token endpoint (client_secret_basic) and keeps it in the Rust core's cache; `client.fetch` puts
// it in the `Authorization: Bearer` header. `main` starts the local authorization server and the
// example API (protected-api.mjs) so that there is something to call.

import { ClientCredentials } from '@authsec/sdk';
import { serve, startLocalAuth } from './local.mjs';
import { createApp } from './protected-api.mjs';

// [START get_token]
async function callApi({ tokenUrl, clientId, clientSecret, apiUrl }) {
  // Create the client once and share it: it caches the token and refreshes it before expiry.
  const client = new ClientCredentials({
    tokenUrl,
    clientId,
    clientSecret,
    scopes: ['read:data'],
    audience: 'https://api.example.test',
  });

  const token = await client.getToken();
  const expiresIn = Math.round(token.expiresAt - Date.now() / 1000);
  console.log(`token: ${token.tokenType}, scopes ${JSON.stringify(token.scopes)}, expires in ${expiresIn} s`);

  // fetch with "Authorization: Bearer <token>"; on a 401 it gets a fresh token and retries once.
  const response = await client.fetch(`${apiUrl}/data`);
  console.log(`GET /data -> ${response.status} ${await response.text()}`);
}
// [END get_token]

const auth = await startLocalAuth();
const api = await serve(createApp(auth));
try {
  console.log(`protected API: ${api.url}`);
  await callApi({ ...auth, apiUrl: api.url });
} finally {
  await api.close();
  await auth.close();
}
console.log('done: get_token');
