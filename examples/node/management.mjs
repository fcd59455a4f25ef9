// (8) Client management: register an AI agent, rotate its secret, read the audit log.
//
//     node management.mjs
//
// `manage` is an operator's script against the management API (`/admin`) of an authsec server:
// the server's bootstrap admin token registers a management client once, and from then on the
// management client's own credentials are used (the admin token is refused once one exists).
// The script's end starts the local authorization server with an admin token, so that there is
// something to manage.

import { randomBytes } from 'node:crypto';
import { Management, ClientCredentials } from '@authsec/sdk';
import { startLocalServer } from '@authsec/sdk/testing';

async function manage({ baseUrl, adminToken }) {
  // Once per server: the bootstrap admin token registers a management client.
  const bootstrap = new Management({ baseUrl, adminToken });
  const ops = await bootstrap.clients.create({
    client_id: 'ops-admin',
    allowed_scopes: ['clients:read', 'clients:write', 'logs:read'],
  });
  console.log(`bootstrap: management client ${ops.client_id} created with the admin token`);
  const refused = await bootstrap.clients.get('ops-admin').catch((e) => e);
  console.log(`admin token after bootstrap: ${refused.code}`);

  // [START management]
  const management = new Management({
    baseUrl, // or domain: 'auth.example.com'
    clientId: ops.client_id,
    clientSecret: ops.client_secret,
  });

  // Register an AI agent; the server generates its secret (shown only in this answer).
  const agent = await management.clients.create({
    name: 'Research agent',
    type: 'ai_agent',
    allowed_scopes: ['read:data'],
    rate_limits: { requests_per_minute: 60 },
  });
  console.log(`registered ${agent.type} ${agent.client_id} (secret ${agent.secret_id}, ${agent.rate_limits.requests_per_minute} requests per minute)`);

  // Rotate its secret: the old one keeps working for an hour, then revoke it.
  const rotated = await management.clients.rotateSecret({ client_id: agent.client_id, overlap: 3600 });
  const left = Math.round(rotated.old_secrets_expire_at - Date.now() / 1000);
  console.log(`rotated: new secret ${rotated.secret_id}, the old one works for ${left} s more`);
  // ... deploy rotated.client_secret to the agent, then:
  await management.clients.revokeSecret({ client_id: agent.client_id, secret_id: agent.secret_id });

  // An agent still using the revoked secret is refused, and the audit log shows it.
  const stale = new ClientCredentials({ tokenUrl: `${baseUrl}/oauth/token`, clientId: agent.client_id, clientSecret: agent.client_secret });
  const refusedOld = await stale.getToken().catch((e) => e);
  console.log(`old secret after revoking: ${refusedOld.code}`);
  for await (const event of management.logs.list({ client_id: agent.client_id, outcome: 'failure' })) {
    console.log(`failed authentication: ${event.event} by ${event.client_id} at ${new Date(event.ts * 1000).toISOString()}`);
  }
  // [END management]

  const fresh = new ClientCredentials({ tokenUrl: `${baseUrl}/oauth/token`, clientId: agent.client_id, clientSecret: rotated.client_secret });
  const token = await fresh.getToken();
  console.log(`new secret: token ${token.tokenType}, scopes ${token.scopes.join(' ')}`);
}

const adminToken = randomBytes(24).toString('base64url');
const server = await startLocalServer({ admin_token: adminToken });
console.log(`authorization server: ${server.issuer} (local, in-process)`);
try {
  await manage({ baseUrl: server.issuer, adminToken });
} finally {
  await server.close();
}
console.log('done: management');
