// MCP authorization with the v2 split packages (@modelcontextprotocol/server, /node, /express,
// /client 2.x): the same middleware, list filter, verifier and fetch; and scopeChallenge(), the
// v2 SDK's per-tool hook, backed by the core's operation scopes.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import express from 'express';
import * as z from 'zod';
import * as v2server from '@modelcontextprotocol/server';
import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import { requireBearerAuth } from '@modelcontextprotocol/express';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { McpServerAuth, McpClientAuth } from '../mcp.mjs';
import { startLocalServer } from '../testing.mjs';
import { listen, get } from './helpers.mjs';

const SECRET = 'mcp2-S3cret-Value-8c2e4f1b';
const ran = { write_file: 0 };

/** A v2 McpServer; `challenge`: the tools' scopeChallenge handler. */
function buildServer(auth, challenge) {
  const server = auth.filterLists(new v2server.McpServer({ name: 'files', version: '2.0.0' }));
  const scoped = challenge === undefined ? {} : { scopeChallenge: challenge };
  server.registerTool('read_file', { description: 'read', inputSchema: z.object({ path: z.string() }), ...scoped }, async ({ path }) => ({
    content: [{ type: 'text', text: `contents of ${path}` }],
  }));
  server.registerTool('write_file', { description: 'write', inputSchema: z.object({ path: z.string() }), ...scoped }, async ({ path }) => {
    ran.write_file++;
    return { content: [{ type: 'text', text: `wrote ${path}` }] };
  });
  server.registerTool('whoami', { description: 'who' }, async (ctx) => ({
    content: [{ type: 'text', text: JSON.stringify({ clientId: ctx.http?.authInfo?.clientId, resource: String(ctx.http?.authInfo?.resource) }) }],
  }));
  return server;
}

function handler(auth, challenge) {
  return async (req, res) => {
    const server = buildServer(auth, challenge);
    const transport = new NodeStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => {
      transport.close();
      server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  };
}

async function rpc(url, method, params, token) {
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const r = await get(url, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  const text = await r.text();
  return { status: r.status, challenge: r.headers.get('www-authenticate'), body: text ? JSON.parse(text) : null };
}

describe('MCP authorization with the v2 SDK packages', () => {
  let as;
  let http;
  let url;
  let prm;
  let auth;
  before(async () => {
    let app = null;
    http = await listen((req, res) => app(req, res));
    url = `${http.url}/mcp`;
    prm = `${http.url}/.well-known/oauth-protected-resource/mcp`;
    as = await startLocalServer({
      clients: [
        { client_id: 'files-mcp', type: 'mcp_server', client_secret: SECRET, resource: url },
        { client_id: 'agent', type: 'ai_agent', client_secret: SECRET, allowed_scopes: ['mcp', 'files:read', 'files:write'], audiences: ['files-mcp'] },
        { client_id: 'reader', type: 'ai_agent', client_secret: SECRET, allowed_scopes: ['mcp', 'files:read'], audiences: ['files-mcp'] },
      ],
    });
    auth = new McpServerAuth({
      resource: url,
      authorizationServers: [as.issuer],
      requiredScopes: 'mcp',
      operationScopes: { 'tools/call:write_file': 'files:write', 'tools/call:read_file': 'files:read' },
    });
    const a = express();
    // The SDK's own bearer gate with authsec's verifier (v2's OAuthError), and per-tool scopes by
    // scopeChallenge() alone (before the middleware, which guards every path after it).
    const gate = requireBearerAuth({ verifier: auth.tokenVerifier({ errors: v2server }), resourceMetadataUrl: prm });
    a.post('/sdk-gate', express.json(), gate, handler(auth, auth.scopeChallenge()));
    a.use(auth.middleware());
    a.all('/mcp', handler(auth));
    app = a;
  });
  after(async () => {
    await http?.close();
    await as?.close();
  });

  const token = (clientId, scopes) => as.client({ clientId }).getToken({ resource: url, scopes }).then((t) => t.accessToken);

  test('the middleware in front of NodeStreamableHTTPServerTransport: refusals, AuthInfo, lists', async () => {
    const none = await rpc(url, 'tools/list', {});
    assert.equal(none.status, 401);
    assert.equal(none.challenge, `Bearer scope="mcp", resource_metadata="${prm}"`);
    const reader = await token('reader', 'mcp files:read');
    const refused = await rpc(url, 'tools/call', { name: 'write_file', arguments: { path: 'x' } }, reader);
    assert.equal(refused.status, 403);
    assert.match(refused.challenge, new RegExp(`^Bearer error="insufficient_scope", error_description="[^"]+", scope="mcp files:write", resource_metadata="${prm}"$`));
    assert.equal(ran.write_file, 0);
    const who = await rpc(url, 'tools/call', { name: 'whoami', arguments: {} }, reader);
    assert.deepEqual(JSON.parse(who.body.result.content[0].text), { clientId: 'reader', resource: url });
    const list = await rpc(url, 'tools/list', {}, reader);
    assert.deepEqual(list.body.result.tools.map((t) => t.name).sort(), ['read_file', 'whoami']);
  });

  test('the SDK\'s requireBearerAuth with tokenVerifier({ errors }) and scopeChallenge()', async () => {
    const gate = `${http.url}/sdk-gate`;
    const reader = await token('reader', 'mcp files:read');
    const ok = await rpc(gate, 'tools/call', { name: 'read_file', arguments: { path: 'p' } }, reader);
    assert.equal(ok.status, 200);
    assert.equal(ok.body.result.content[0].text, 'contents of p');
    // The v2 SDK answers the scope challenge itself: HTTP 403 with every scope the call needs.
    const refused = await rpc(gate, 'tools/call', { name: 'write_file', arguments: { path: 'x' } }, reader);
    assert.equal(refused.status, 403);
    assert.equal(refused.challenge, `Bearer error="insufficient_scope", error_description="Insufficient scope", scope="mcp files:write", resource_metadata="${prm}"`);
    assert.equal(ran.write_file, 0);
    const bad = await rpc(gate, 'tools/list', {}, 'not.a.jwt');
    assert.equal(bad.status, 401);
    assert.match(bad.challenge, /^Bearer error="invalid_token"/);
    assert.equal(auth.scopeChallenge()({ request: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'write_file' } } }), undefined);
  });

  test('an agent on the v2 Client: discovery, a tool call, step-up', async () => {
    const agent = new McpClientAuth(url, { issuer: as.issuer, clientId: 'agent', clientSecret: SECRET, scopes: 'files:read' });
    const client = new Client({ name: 'agent', version: '2.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(url), { fetch: agent.fetch }));
    try {
      assert.equal((await client.callTool({ name: 'read_file', arguments: { path: 'a' } })).content[0].text, 'contents of a');
      const w = await client.callTool({ name: 'write_file', arguments: { path: 'b' } });
      assert.equal(w.content[0].text, 'wrote b');
      assert.equal(ran.write_file, 1);
      assert.deepEqual(agent.scopes, ['files:read', 'mcp', 'files:write']);
    } finally {
      await client.close();
    }
  });
});
