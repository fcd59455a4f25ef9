// The client the MCP conformance suite runs (tests/mcp-conformance/run.sh): an agent on the
// TypeScript SDK's own client with authsec's McpClientAuth as its fetch, for the
// client-credentials scenarios.
//
// The suite passes the MCP server's URL as the last argument and the credentials in
// MCP_CONFORMANCE_CONTEXT (client_id with client_secret, or with private_key_pem and
// signing_algorithm). It names no authorization server, so the agent takes the one the server's
// metadata names (issuerPolicy 'first_in_metadata').

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpClientAuth } from '@authsec/sdk/mcp';

const url = process.argv.at(-1);
const context = JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT ?? '{}');
const credentials = context.private_key_pem
  ? { authMethod: 'private_key_jwt', privateKey: context.private_key_pem, privateKeyAlg: context.signing_algorithm ?? 'ES256' }
  : { clientSecret: context.client_secret };

const auth = new McpClientAuth(url, { clientId: context.client_id, issuerPolicy: 'first_in_metadata', ...credentials });
const client = new Client({ name: 'authsec-conformance', version: '1.0.0' });
await client.connect(new StreamableHTTPClientTransport(new URL(url), { fetch: auth.fetch }));
const { tools } = await client.listTools();
console.log(`tools: ${tools.map((t) => t.name).join(', ')} (resource ${auth.resource})`);
await client.close();
