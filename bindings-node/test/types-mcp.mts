// Type-checked (not run) by `tsc --noEmit` in test.sh: @authsec/sdk/mcp as an ESM user sees it,
// against the real MCP SDK's types (its AuthInfo, OAuthTokenVerifier, FetchLike, transports).
import express from 'express';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { OAuthTokenVerifier } from '@modelcontextprotocol/sdk/server/auth/provider.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { McpServerAuth, McpClientAuth, mcpFetch, type McpAuthInfo, type McpRequest } from '@authsec/sdk/mcp';
import mcp from '@authsec/sdk/mcp';
import type { Actor } from '@authsec/sdk';

export function server(): express.Express {
  const auth = new McpServerAuth({
    resource: 'https://mcp.example.com/mcp',
    authorizationServers: ['https://auth.example.com'],
    metadata: { scopes_supported: ['mcp', 'files:write'], resource_name: 'Files' },
    requiredScopes: 'mcp',
    operationScopes: { 'tools/call:write_file': 'files:write', 'resources/read:file:///private/*': ['private'] },
    verifier: { audienceMatch: 'trailing_slash', leeway: 10, allowedActors: (actor: Actor) => actor.id === 'tool' },
  });
  const prm: string = auth.metadataUrl;
  const paths: readonly string[] = auth.wellKnownPaths;
  void prm;
  void paths;
  const app = express();
  app.use(auth.middleware());
  app.post('/mcp', async (req, res) => {
    const server = auth.filterLists(new McpServer({ name: 'files', version: '1.0.0' }));
    server.registerTool('whoami', { description: 'who' }, async (extra) => ({
      content: [{ type: 'text', text: extra.authInfo?.clientId ?? '' }],
    }));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    await server.connect(transport);
    // req.auth is the SDK's AuthInfo as the SDK's transport types it.
    const sdkInfo: AuthInfo | undefined = req.auth;
    const sub: string | undefined = req.auth?.payload.sub;
    void sdkInfo;
    void sub;
    await transport.handleRequest(req, res, req.body);
    const typed = req as McpRequest;
    const info: McpAuthInfo | undefined = typed.auth;
    const url: URL | undefined = info?.resource;
    const chain: readonly Actor[] | undefined = info?.extra.delegation;
    void url;
    void chain;
  });
  // For the SDK's own bearer gate (requireBearerAuth({ verifier })).
  const verifier: OAuthTokenVerifier = auth.tokenVerifier();
  void verifier;
  const allowed: boolean = auth.allows('tools/call', 'write_file', ['mcp']);
  void allowed;
  const challenge = auth.scopeChallenge()({ request: { method: 'tools/call', params: { name: 'x' } }, authInfo: { scopes: [] } });
  const scopes: string[] | undefined = challenge?.scopes;
  void scopes;
  return app;
}

export async function agent(): Promise<void> {
  const auth = new McpClientAuth('https://mcp.example.com/mcp', {
    issuer: 'https://auth.example.com',
    clientId: 'agent',
    clientSecret: process.env.SECRET ?? '',
    scopes: ['files:read'],
  });
  const f: FetchLike = auth.fetch;
  const client = new Client({ name: 'agent', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL('https://mcp.example.com/mcp'), { fetch: f }));
  await auth.discover();
  const resource: string | null = auth.resource;
  const scopes: string[] = auth.scopes;
  void resource;
  void scopes;
  const g: FetchLike = mcpFetch('https://mcp.example.com/mcp', { issuer: 'https://i', clientId: 'a', privateKeyFile: 'key.pem', fetch });
  void g;
  void McpClientAuth.fromEnv(new URL('https://mcp.example.com/mcp'));
  void mcp.McpServerAuth;
}
