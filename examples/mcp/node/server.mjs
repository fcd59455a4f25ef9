// An MCP server (the official TypeScript SDK, @modelcontextprotocol/sdk) protected by authsec:
// a small file store whose tools need scopes.
//
//     node mcp.mjs       runs it with an agent against the local authorization server (see there)
//
// Standalone (for the MCP conformance suite, or any authorization server):
//
//     MCP_PORT=8000 MCP_RESOURCE=http://127.0.0.1:8000/mcp MCP_ISSUER=https://auth.example.com \
//       [MCP_JWKS_URI=https://auth.example.com/jwks.json] [MCP_AUDIENCE_MATCH=path_prefix] node server.mjs
//
// MCP_PORT is the port to listen on (127.0.0.1), MCP_RESOURCE the server's URL as clients reach
// it (the audience its tokens must carry), MCP_ISSUER the authorization server whose tokens it
// accepts; without MCP_JWKS_URI the keys are discovered from the issuer's metadata;
// MCP_AUDIENCE_MATCH is exact (the default), trailing_slash or path_prefix. It serves until
// SIGINT or SIGTERM.

import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { z } from 'zod';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { McpServerAuth } from '@authsec/sdk/mcp';

/** The files the server holds (in memory). */
const files = new Map([['notes.txt', 'hello from notes.txt']]);

/** The MCP server of one request: four tools over `files`. */
function filesServer(auth) {
  const server = new McpServer({ name: 'example-files', version: '1.0.0' });
  auth.filterLists(server); // tools/list shows what the caller's token may call
  const text = (t) => ({ content: [{ type: 'text', text: t }] });
  server.registerTool('list_files', { description: 'List the files' }, async () => text([...files.keys()].join(', ')));
  server.registerTool('read_file', { description: 'Read a file', inputSchema: { name: z.string() } }, async ({ name }) =>
    text(files.get(name) ?? `no file ${name}`),
  );
  server.registerTool('write_file', { description: 'Write a file', inputSchema: { name: z.string(), text: z.string() } }, async ({ name, text: t }) => {
    files.set(name, t);
    return text(`wrote ${name} (${t.length} bytes)`);
  });
  server.registerTool('delete_file', { description: 'Delete a file', inputSchema: { name: z.string() } }, async ({ name }) =>
    text(files.delete(name) ? `deleted ${name}` : `no file ${name}`),
  );
  return server;
}

// [START mcp_server]
export function createMcpApp({ resource, issuer, jwksUri, audienceMatch }) {
  // One line of policy: who may call this server, and which scopes each tool needs. The metadata
  // (RFC 9728), the challenges, token verification (issuer, audience = resource, expiry) and the
  // scope checks are authsec's; a refused call never reaches the SDK.
  const auth = new McpServerAuth({
    resource,
    authorizationServers: [issuer],
    metadata: { resource_name: 'Example files', scopes_supported: ['mcp', 'files:read', 'files:write', 'files:admin'] },
    requiredScopes: 'mcp',
    operationScopes: {
      'tools/call:list_files': 'files:read',
      'tools/call:read_file': 'files:read',
      'tools/call:write_file': 'files:write',
      'tools/call:delete_file': 'files:admin',
    },
    verifier: { ...(jwksUri && { jwksUri }), ...(audienceMatch && { audienceMatch }) },
  });

  const app = express();
  app.use(auth.middleware()); // /.well-known/oauth-protected-resource[/mcp], and 401/403 before the SDK
  app.all(new URL(resource).pathname, async (req, res) => {
    // Stateless: a server and a transport per request; req.auth is the SDK's AuthInfo.
    const server = filesServer(auth);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      transport.close();
      server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  });
  return app;
}
// [END mcp_server]

/** Serve `app` on 127.0.0.1 and `port` (0: an ephemeral one); resolves to `{ port, close }`. */
export async function serve(app, port = 0) {
  const server = createServer(app);
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    port: server.address().port,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function main() {
  const { MCP_PORT, MCP_RESOURCE, MCP_ISSUER, MCP_JWKS_URI, MCP_AUDIENCE_MATCH } = process.env;
  if (!MCP_PORT || !MCP_RESOURCE || !MCP_ISSUER) {
    console.error('set MCP_PORT, MCP_RESOURCE and MCP_ISSUER (optional: MCP_JWKS_URI, MCP_AUDIENCE_MATCH); see the top of server.mjs');
    process.exit(2);
  }
  const app = createMcpApp({ resource: MCP_RESOURCE, issuer: MCP_ISSUER, jwksUri: MCP_JWKS_URI, audienceMatch: MCP_AUDIENCE_MATCH });
  const s = await serve(app, Number(MCP_PORT));
  console.log(`server: ${MCP_RESOURCE} (listening on 127.0.0.1:${s.port}, tokens from ${MCP_ISSUER})`);
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => s.close().then(() => process.exit(0)));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
