// (2) A long-running agent: many API calls on one cached token, refreshed before it expires.
//
//     node agent.mjs
//
// The local authorization server issues tokens that last only 10 seconds, so within
// 8 seconds the agent's 30 calls show the cache at work: most calls reuse the cached token, and
// the Rust core gets a new one `refreshBuffer` (4 s) before the old one expires, so no call ever
// carries an expired token. Each new token is one request to the token endpoint; the last line
// counts them.

import { setTimeout as sleep } from 'node:timers/promises';
import { ClientCredentials } from '@authsec/sdk';
import { serve, startLocalAuth } from './local.mjs';
import { createApp } from './protected-api.mjs';

const TOKEN_LIFETIME = 10; // seconds; real tokens usually last an hour

// [START agent]
async function runAgent({ tokenUrl, clientId, clientSecret, apiUrl, calls = 30 }) {
  const client = new ClientCredentials({
    tokenUrl,
    clientId,
    clientSecret,
    scopes: ['read:data'],
    audience: 'https://api.example.test',
    refreshBuffer: 4, // seconds before expiry (default 300, at most half the token's lifetime)
  });
  const started = performance.now();
  const secondsLeft = (t) => (t.expiresAt - Date.now() / 1000).toFixed(1);
  let previous = null;
  let tokens = 0;
  for (let call = 1; call <= calls; call++) {
    const token = await client.getToken(); // from the cache, unless it is time to refresh
    let note;
    if (previous === null) {
      tokens++;
      note = `token #${tokens} (new, expires in ${secondsLeft(token)} s)`;
    } else if (token.accessToken !== previous.accessToken) {
      tokens++;
      note = `token #${tokens} (refreshed; #${tokens - 1} had ${secondsLeft(previous)} s left)`;
    } else {
      note = `token #${tokens} (cached)`;
    }
    previous = token;

    const response = await fetch(`${apiUrl}/data`, { headers: { Authorization: token.authorization } });
    if (!response.ok) throw new Error(`GET /data answered ${response.status}`);
    await response.arrayBuffer();
    const t = ((performance.now() - started) / 1000).toFixed(1).padStart(4);
    console.log(`call ${String(call).padStart(2)}  t=${t}s  ${response.status}  ${note}`);
    await sleep(250);
  }
  console.log(`calls: ${calls}, token requests: ${tokens}, calls on a cached token: ${calls - tokens}`);
}
// [END agent]

const auth = await startLocalAuth({ tokenLifetime: TOKEN_LIFETIME });
const api = await serve(createApp(auth));
try {
  console.log(`protected API: ${api.url}; tokens last ${TOKEN_LIFETIME} s`);
  await runAgent({ ...auth, apiUrl: api.url });
} finally {
  await api.close();
  await auth.close();
}
console.log('done: agent');
