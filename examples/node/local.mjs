// Set-up shared by the examples: the local authorization server and a way to serve an app.
//
// None of this is needed in production, where your identity provider issues the tokens and your
// API runs under its own server. The examples start both in-process, on 127.0.0.1 and ephemeral
// ports, so that each one runs with a single command and stops by itself.

import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { startLocalServer } from '@authsec/sdk/testing';

/** The audience of the example API: tokens are issued for it and the API accepts only those. */
export const API_AUDIENCE = 'https://api.example.test';
/** The client (an agent) registered with the local authorization server. */
export const AGENT_ID = 'example-agent';

/**
 * Start the local authorization server with one client, `example-agent`, which may ask for
 * `read:data` and `write:data` tokens for API_AUDIENCE lasting `tokenLifetime` seconds.
 * Resolves to where it is and the agent's credentials; `close()` stops it.
 */
export async function startLocalAuth({ tokenLifetime = 3600 } = {}) {
  const clientSecret = randomBytes(24).toString('base64url');
  const server = await startLocalServer({
    clients: [
      {
        client_id: AGENT_ID,
        client_secret: clientSecret,
        allowed_scopes: ['read:data', 'write:data'],
        audiences: [API_AUDIENCE],
        token_lifetime: tokenLifetime,
      },
    ],
    default_audience: API_AUDIENCE,
    token_lifetime: tokenLifetime,
  });
  console.log(`authorization server: ${server.issuer} (local, in-process)`);
  return {
    issuer: server.issuer,
    tokenUrl: server.tokenEndpoint,
    jwksUri: server.jwksUri,
    clientId: AGENT_ID,
    clientSecret,
    close: () => server.close(),
  };
}

/** Serve a request handler (an Express app) on 127.0.0.1 and an ephemeral port. */
export async function serve(app) {
  const server = createServer(app);
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // idle keep-alive connections too
      }),
  };
}
