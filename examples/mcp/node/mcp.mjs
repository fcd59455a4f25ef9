// MCP authorization end to end, in one command:
//
//     node mcp.mjs
//
// starts the local authorization server (in-process, 127.0.0.1) with the MCP server registered as
// an `mcp_server` client (its URL is the audience of tokens for it) and one agent,
// `example-agent`, that may get files:read and files:write for it (not files:admin); serves the
// MCP server (server.mjs) on 127.0.0.1 and an ephemeral port; runs the agent (agent.mjs); stops.

import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { startLocalServer } from '@authsec/sdk/testing';
import { createMcpApp } from './server.mjs';
import { runAgent } from './agent.mjs';

// The MCP server's port first: its URL is registered with the authorization server.
let app = (req, res) => res.writeHead(503).end();
const http = createServer((req, res) => app(req, res));
await new Promise((resolve, reject) => {
  http.once('error', reject);
  http.listen(0, '127.0.0.1', resolve);
});
const url = `http://127.0.0.1:${http.address().port}/mcp`;

const clientSecret = randomBytes(24).toString('base64url');
const as = await startLocalServer({
  clients: [
    { client_id: 'example-files', type: 'mcp_server', client_secret: randomBytes(24).toString('base64url'), resource: url },
    {
      client_id: 'example-agent',
      type: 'ai_agent',
      client_secret: clientSecret,
      allowed_scopes: ['mcp', 'files:read', 'files:write'],
      audiences: ['example-files'], // the MCP server's client id stands for its URL
    },
  ],
});
try {
  console.log(`authorization server: ${as.issuer} (local, in-process)`);
  app = createMcpApp({ resource: url, issuer: as.issuer });
  console.log(`server: ${url} (tools need mcp plus files:read, files:write or files:admin)`);
  await runAgent({ url, issuer: as.issuer, clientId: 'example-agent', clientSecret });
} finally {
  await new Promise((resolve) => {
    http.close(() => resolve());
    http.closeAllConnections();
  });
  await as.close();
}
console.log('done: mcp');
