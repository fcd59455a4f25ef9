// MCP authorization with the real MCP SDK (@modelcontextprotocol/sdk 1.x): an MCP server protected
// by McpServerAuth (tokens from the local authorization server, where the server is registered as
// an `mcp_server` client with its URL as resource) and agents using the SDK's own client over
// McpClientAuth's fetch. Everything over real sockets on 127.0.0.1.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import express from 'express';
import { z } from 'zod';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { InvalidTokenError, InsufficientScopeError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServerAuth, McpClientAuth, mcpFetch } from '../mcp.mjs';
import { ConfigError, InvalidScopeError, requireAuth } from '../index.mjs';
import { ManualClock, startLocalServer } from '../testing.mjs';
import { DPOP_ALGS, listen, get } from './helpers.mjs';

const SECRET = 'mcp-S3cret-Value-5b1d9e7a';
const OPERATION_SCOPES = {
  'tools/call:write_file': 'files:write',
  'tools/call:read_*': 'files:read',
  'prompts/get:review': 'review',
  'resources/read:file:///private/*': 'private',
};

/** Side effects of the tools: a refused call must leave them untouched. */
const ran = { write_file: 0, read_file: 0, whoami: 0 };

/** A fresh McpServer (the SDK's), its lists filtered by `auth`. */
function buildServer(auth) {
  const server = new McpServer({ name: 'files', version: '1.0.0' });
  // filterLists before the tools are registered: the handlers are wrapped as the SDK sets them.
  auth.filterLists(server);
  server.registerTool('read_file', { description: 'read a file', inputSchema: { path: z.string() } }, async ({ path }) => {
    ran.read_file++;
    return { content: [{ type: 'text', text: `contents of ${path}` }] };
  });
  server.registerTool('write_file', { description: 'write a file', inputSchema: { path: z.string(), text: z.string() } }, async ({ path }) => {
    ran.write_file++;
    return { content: [{ type: 'text', text: `wrote ${path}` }] };
  });
  server.registerTool('whoami', { description: 'the caller' }, async (extra) => {
    ran.whoami++;
    const a = extra.authInfo;
    const shown = { ...a, resource: String(a.resource), extra: { ...a.extra, claims: undefined, delegation: a.extra.delegation.map((actor) => actor.id), aud: a.extra.claims.aud } };
    return { content: [{ type: 'text', text: JSON.stringify(shown) }] };
  });
  server.registerPrompt('review', { description: 'review' }, () => ({ messages: [{ role: 'user', content: { type: 'text', text: 'review' } }] }));
  server.registerPrompt('hello', { description: 'hello' }, () => ({ messages: [{ role: 'user', content: { type: 'text', text: 'hello' } }] }));
  server.registerResource('public', 'file:///public/a.txt', {}, async (uri) => ({ contents: [{ uri: uri.href, text: 'public' }] }));
  server.registerResource('private', 'file:///private/b.txt', {}, async (uri) => ({ contents: [{ uri: uri.href, text: 'private' }] }));
  return server;
}

/** The MCP endpoint, stateless: a server and a transport per request (the SDK's example). */
function mcpHandler(auth, { json = true } = {}) {
  return async (req, res) => {
    const server = buildServer(auth);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: json });
    res.on('close', () => {
      transport.close();
      server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  };
}

/** A JSON-RPC request to `url`, answered as JSON; `{ status, challenge, body }`. */
async function rpc(url, method, params, token) {
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  if (token !== undefined) headers.authorization = token === null ? 'Bearer' : `Bearer ${token}`;
  const r = await get(url, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) });
  const text = await r.text();
  return { status: r.status, challenge: r.headers.get('www-authenticate'), body: text ? JSON.parse(text) : null };
}

/** Start an agent (the SDK's Client) on `fetch`. */
async function connect(url, fetch) {
  const client = new Client({ name: 'test-agent', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { fetch }));
  return client;
}

const names = (list) => list.map((i) => i.uri ?? i.name).sort();

describe('MCP server and agent with @modelcontextprotocol/sdk', () => {
  let as; // the local authorization server
  let foreign; // another one, whose tokens this server must refuse
  let expired; // a token for this server that expired an hour ago
  let http; // the MCP server's listener
  let url; // its MCP endpoint
  let prm; // its metadata URL
  let auth;
  let handled = 0; // requests that reached the MCP route
  const refusing = []; // the Authorization headers the always-refusing endpoints saw

  before(async () => {
    let app = null;
    http = await listen((req, res) => app(req, res));
    url = `${http.url}/mcp`;
    prm = `${http.url}/.well-known/oauth-protected-resource/mcp`;
    const clients = [
      { client_id: 'files-mcp', type: 'mcp_server', client_secret: SECRET, resource: url },
      { client_id: 'agent', type: 'ai_agent', client_secret: SECRET, allowed_scopes: ['mcp', 'files:read', 'files:write', 'review', 'private'], audiences: ['files-mcp', 'https://other.example'], may_act: ['sub-agent'] },
      { client_id: 'sub-agent', type: 'ai_agent', client_secret: SECRET, allowed_scopes: ['mcp', 'files:read'], audiences: ['files-mcp'], grant_types: ['urn:ietf:params:oauth:grant-type:token-exchange'] },
      { client_id: 'reader', type: 'ai_agent', client_secret: SECRET, allowed_scopes: ['mcp', 'files:read'], audiences: ['files-mcp'] },
      { client_id: 'nobase', client_secret: SECRET, allowed_scopes: ['files:read'], audiences: [url] },
    ];
    // The server starts two hours ago, issues a token that has expired by now, then moves to now.
    const clock = new ManualClock(Date.now() - 2 * 3600_000);
    as = await startLocalServer({ clients, clock });
    expired = (await as.client({ clientId: 'agent' }).getToken({ resource: url, scopes: 'mcp files:write' })).accessToken;
    clock.set(Date.now());
    foreign = await startLocalServer({ clients });
    auth = new McpServerAuth({
      resource: url,
      authorizationServers: [as.issuer],
      metadata: { scopes_supported: ['mcp', 'files:read', 'files:write', 'review', 'private'], resource_name: 'Files' },
      requiredScopes: 'mcp',
      operationScopes: OPERATION_SCOPES,
    });
    const inner = express();
    // Endpoints under the server's URL that refuse every request, before the middleware: for the
    // agent's retry bound.
    for (const [path, status] of [['/mcp/always-401', 401], ['/mcp/always-403', 403]]) {
      inner.post(path, (req, res) => {
        refusing.push(req.headers.authorization ?? null);
        const noToken = req.headers.authorization === undefined;
        res.statusCode = noToken ? 401 : status;
        const error = noToken ? '' : status === 401 ? 'error="invalid_token", ' : 'error="insufficient_scope", scope="mcp files:write", ';
        res.setHeader('www-authenticate', `Bearer ${error}resource_metadata="${prm}"`);
        res.end();
      });
    }
    inner.use(auth.middleware());
    const mcp = mcpHandler(auth);
    inner.all('/mcp', (req, res) => {
      handled++;
      return mcp(req, res);
    });
    app = inner;
  });
  after(async () => {
    await http?.close();
    await as?.close();
    await foreign?.close();
  });

  /** A token from the local server for `clientId` (a new token request every time). */
  const token = (clientId, params = {}) => as.client({ clientId }).getToken({ resource: url, ...params }).then((t) => t.accessToken);

  test('the RFC 9728 metadata at both well-known paths', async () => {
    for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
      const r = await get(`${http.url}${path}`);
      assert.equal(r.status, 200, path);
      assert.equal(r.headers.get('access-control-allow-origin'), '*');
      assert.deepEqual(await r.json(), {
        resource: url,
        authorization_servers: [as.issuer],
        bearer_methods_supported: ['header'],
        scopes_supported: ['mcp', 'files:read', 'files:write', 'review', 'private'],
        resource_name: 'Files',
      });
    }
    assert.equal(auth.metadataUrl, prm);
    assert.deepEqual(auth.wellKnownPaths, ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']);
    assert.equal((await get(`${http.url}/.well-known/oauth-protected-resource`, { method: 'OPTIONS' })).status, 204);
  });

  test('no token: 401 with resource_metadata and scope, no error code; the SDK never runs', async () => {
    const before = handled;
    const r = await rpc(url, 'tools/list', {});
    assert.equal(r.status, 401);
    assert.equal(r.challenge, `Bearer scope="mcp", resource_metadata="${prm}"`);
    assert.equal(r.body.error, undefined);
    const basic = await get(url, { method: 'POST', headers: { authorization: 'Basic YTpi' }, body: '{}' });
    assert.equal(basic.status, 401);
    assert.equal(basic.headers.get('www-authenticate'), `Bearer scope="mcp", resource_metadata="${prm}"`);
    const empty = await rpc(url, 'tools/list', {}, null); // "Bearer" without a token
    assert.equal(empty.status, 400);
    assert.match(empty.challenge, /^Bearer error="invalid_request", error_description="[^"]+", scope="mcp", resource_metadata="/);
    assert.equal(handled, before);
  });

  /** A 401 invalid_token whose description matches `why`. */
  function assertInvalidToken(r, why) {
    assert.equal(r.status, 401);
    const m = /^Bearer error="invalid_token", error_description="([^"]+)", scope="mcp", resource_metadata="([^"]+)"$/.exec(r.challenge);
    assert.ok(m, r.challenge);
    assert.match(m[1], why);
    assert.equal(m[2], prm);
    assert.equal(r.body.error, 'invalid_token');
  }

  test('wrong audience, expired, foreign issuer: 401 invalid_token', async () => {
    const before = { ...ran };
    const handledBefore = handled;
    const otherAudience = await token('agent', { resource: undefined, audience: 'https://other.example', scopes: 'mcp files:write' });
    assertInvalidToken(await rpc(url, 'tools/call', { name: 'write_file', arguments: { path: 'a', text: 'b' } }, otherAudience), /audience/);

    assertInvalidToken(await rpc(url, 'tools/call', { name: 'write_file', arguments: { path: 'a', text: 'b' } }, expired), /expired/);

    const fromForeign = (await foreign.client({ clientId: 'agent' }).getToken({ resource: url, scopes: 'mcp files:write' })).accessToken;
    assertInvalidToken(await rpc(url, 'tools/call', { name: 'write_file', arguments: { path: 'a', text: 'b' } }, fromForeign), /issuer|key/);

    assertInvalidToken(await rpc(url, 'tools/list', {}, 'not.a.jwt'), /./);
    assert.deepEqual(ran, before);
    assert.equal(handled, handledBefore);
  });

  test('under-scoped: 403 insufficient_scope naming every scope the call needs; the tool never runs', async () => {
    const reader = await token('reader', { scopes: 'mcp files:read' });
    const r = await rpc(url, 'tools/call', { name: 'write_file', arguments: { path: 'a', text: 'b' } }, reader);
    assert.equal(r.status, 403);
    const m = /^Bearer error="insufficient_scope", error_description="([^"]+)", scope="mcp files:write", resource_metadata="([^"]+)"$/.exec(r.challenge);
    assert.ok(m, r.challenge);
    assert.match(m[1], /files:write/);
    assert.equal(m[2], prm);
    assert.equal(r.body.error, 'insufficient_scope');
    assert.equal(ran.write_file, 0);

    // Without the base scope, every request is refused (a list too).
    const nobase = await token('nobase', { scopes: 'files:read' });
    const list = await rpc(url, 'tools/list', {}, nobase);
    assert.equal(list.status, 403);
    assert.equal(list.challenge.replace(/error_description="[^"]+", /, ''), `Bearer error="insufficient_scope", scope="mcp", resource_metadata="${prm}"`);
    const read = await rpc(url, 'tools/call', { name: 'read_file', arguments: { path: 'a' } }, nobase);
    assert.equal(read.status, 403);
    assert.match(read.challenge, /scope="mcp files:read"/);

    // A resource and a prompt with scopes of their own.
    const priv = await rpc(url, 'resources/read', { uri: 'file:///private/b.txt' }, reader);
    assert.equal(priv.status, 403);
    assert.match(priv.challenge, /scope="mcp private"/);
    const review = await rpc(url, 'prompts/get', { name: 'review' }, reader);
    assert.equal(review.status, 403);
    assert.match(review.challenge, /scope="mcp review"/);
    assert.equal(ran.read_file, 0);
  });

  test('an unreadable body: 400 invalid_request, the SDK never runs', async () => {
    const reader = await token('reader', { scopes: 'mcp files:read' });
    const before = handled;
    for (const body of ['{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{}}', 'not json']) {
      const r = await get(url, { method: 'POST', headers: { authorization: `Bearer ${reader}`, 'content-type': 'application/json' }, body });
      assert.equal(r.status, 400, body);
      assert.match(r.headers.get('www-authenticate'), /^Bearer error="invalid_request"/);
    }
    const big = await get(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${reader}`, 'content-type': 'application/json' },
      body: `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"${'x'.repeat(5 << 20)}"}}`,
    });
    assert.equal(big.status, 400);
    assert.match(await big.text(), /larger than/);
    assert.equal(handled, before);
  });

  test('an allowed request reaches the SDK with the body and AuthInfo', async () => {
    const reader = await token('reader', { scopes: 'mcp files:read' });
    const r = await rpc(url, 'tools/call', { name: 'read_file', arguments: { path: 'notes.txt' } }, reader);
    assert.equal(r.status, 200);
    assert.equal(r.body.result.content[0].text, 'contents of notes.txt');
    const w = await rpc(url, 'tools/call', { name: 'whoami', arguments: {} }, reader);
    const info = JSON.parse(w.body.result.content[0].text);
    assert.equal(info.token, reader);
    assert.equal(info.clientId, 'reader');
    assert.deepEqual([...info.scopes].sort(), ['files:read', 'mcp']);
    assert.equal(typeof info.expiresAt, 'number');
    assert.ok(info.expiresAt > Date.now() / 1000);
    assert.equal(info.resource, url);
    assert.equal(info.resourceMetadataUrl, prm);
    assert.deepEqual(info.extra, { sub: 'reader', iss: as.issuer, delegation: [], aud: url });
  });

  test('a delegated token: the act chain in AuthInfo', async () => {
    const subject = await token('agent', { scopes: 'mcp files:read' });
    const delegated = (await as.client({ clientId: 'sub-agent' }).downstreamToken(subject, { resource: url, scopes: 'mcp files:read' })).accessToken;
    const w = await rpc(url, 'tools/call', { name: 'whoami', arguments: {} }, delegated);
    const info = JSON.parse(w.body.result.content[0].text);
    assert.equal(info.extra.sub, 'agent');
    assert.deepEqual(info.extra.delegation, ['sub-agent']);
    assert.equal(info.payload.act.sub, 'sub-agent');
    // An allowedActors callback in the verifier options stays a callback (the core gets the rest).
    const seen = [];
    const strict = new McpServerAuth({
      resource: url,
      authorizationServers: [as.issuer],
      requiredScopes: 'mcp',
      verifier: { leeway: 1, allowedActors: (actor) => seen.push(actor.id) && actor.id === 'tool' },
    });
    await assert.rejects(strict.tokenVerifier().verifyAccessToken(delegated), (e) => e instanceof InvalidTokenError && /sub-agent/.test(e.message));
    assert.deepEqual(seen, ['sub-agent']);
    assert.equal((await strict.tokenVerifier().verifyAccessToken(subject)).clientId, 'agent');
  });

  test('lists are cut to what the token may use', async () => {
    const reader = await token('reader', { scopes: 'mcp files:read' });
    const tools = await rpc(url, 'tools/list', {}, reader);
    assert.deepEqual(names(tools.body.result.tools), ['read_file', 'whoami']);
    // The rest of each item is the SDK's, unchanged.
    assert.deepEqual(tools.body.result.tools.find((t) => t.name === 'read_file').inputSchema.required, ['path']);
    assert.deepEqual(names((await rpc(url, 'prompts/list', {}, reader)).body.result.prompts), ['hello']);
    assert.deepEqual(names((await rpc(url, 'resources/list', {}, reader)).body.result.resources), ['file:///public/a.txt']);
    const all = await token('agent', { scopes: 'mcp files:read files:write review private' });
    assert.deepEqual(names((await rpc(url, 'tools/list', {}, all)).body.result.tools), ['read_file', 'whoami', 'write_file']);
    assert.deepEqual(names((await rpc(url, 'prompts/list', {}, all)).body.result.prompts), ['hello', 'review']);
    assert.deepEqual(names((await rpc(url, 'resources/list', {}, all)).body.result.resources), ['file:///private/b.txt', 'file:///public/a.txt']);
    assert.equal(auth.allows('tools/call', 'write_file', ['mcp']), false);
    assert.equal(auth.allows('tools/call', 'write_file', ['mcp', 'files:write']), true);
  });

  test('an agent on the SDK client: discovery from the 401, a token for the resource, a tool call', async () => {
    const sends = []; // each request's statuses, through the agent's own fetch
    const counting = async (request) => {
      const r = await fetch(request);
      sends.push(r.status);
      return r;
    };
    const agent = new McpClientAuth(url, { issuer: as.issuer, clientId: 'agent', clientSecret: SECRET, scopes: ['files:read'], fetch: counting });
    assert.equal(agent.resource, null);
    const client = await connect(url, agent.fetch);
    try {
      // The first request went without a token; its 401 started discovery.
      assert.deepEqual(sends.slice(0, 2), [401, 200]);
      assert.equal(agent.resource, url);
      // The configured scopes, then those the 401 named.
      assert.deepEqual(agent.scopes, ['files:read', 'mcp']);
      assert.deepEqual(names((await client.listTools()).tools), ['read_file', 'whoami']);
      const r = await client.callTool({ name: 'read_file', arguments: { path: 'notes.txt' } });
      assert.equal(r.content[0].text, 'contents of notes.txt');
      const who = JSON.parse((await client.callTool({ name: 'whoami', arguments: {} })).content[0].text);
      assert.equal(who.clientId, 'agent');
      assert.equal(who.extra.aud, url); // the token was asked for with resource=<the server's URL>

      // Step-up: write_file needs files:write, which the token lacks but the client may have.
      const writes = ran.write_file;
      const before = sends.length;
      const w = await client.callTool({ name: 'write_file', arguments: { path: 'out.txt', text: 'hi' } });
      assert.deepEqual(sends.slice(before), [403, 200]);
      assert.equal(w.isError, undefined);
      assert.equal(w.content[0].text, 'wrote out.txt');
      assert.equal(ran.write_file, writes + 1);
      assert.deepEqual(agent.scopes, ['files:read', 'mcp', 'files:write']);
      assert.deepEqual(names((await client.listTools()).tools), ['read_file', 'whoami', 'write_file']);
    } finally {
      await client.close();
    }
  });

  test('step-up the client is not allowed: the call fails and the tool never runs', async () => {
    const agent = new McpClientAuth(url, { issuer: as.issuer, clientId: 'reader', clientSecret: SECRET });
    const client = await connect(url, agent.fetch);
    try {
      const writes = ran.write_file;
      await assert.rejects(client.callTool({ name: 'write_file', arguments: { path: 'x', text: 'y' } }), InvalidScopeError);
      assert.equal(ran.write_file, writes);
      const r = await client.callTool({ name: 'read_file', arguments: { path: 'after' } });
      assert.equal(r.content[0].text, 'contents of after');
    } finally {
      await client.close();
    }
  });

  test('the fetch wrapper sends a request at most three times', async () => {
    const options = { issuer: as.issuer, clientId: 'agent', clientSecret: SECRET, scopes: 'files:read' };
    // 401 to every token: discovery, then one fresh token, then the 401 is the answer.
    refusing.length = 0;
    const r401 = await mcpFetch(url, options)(`${url}/always-401`, { method: 'POST', body: '{}' });
    assert.equal(r401.status, 401);
    assert.equal(refusing.length, 3);
    assert.equal(refusing[0], null);
    assert.match(refusing[1], /^Bearer /);
    assert.notEqual(refusing[2], refusing[1]);
    // 403 insufficient_scope to every token: discovery, one step-up, then the 403 is the answer.
    refusing.length = 0;
    const agent = new McpClientAuth(url, options);
    const r403 = await agent.fetch(`${url}/always-403`, { method: 'POST', body: '{}' });
    assert.equal(r403.status, 403);
    assert.equal(refusing.length, 3);
    assert.deepEqual(agent.scopes, ['files:read', 'mcp', 'files:write']);

    // Metadata that names another resource: discovery fails, nothing is sent again.
    let sent = 0;
    const s = await listen((req, res) => {
      sent++;
      res.statusCode = 401;
      res.setHeader('www-authenticate', `Bearer resource_metadata="${prm}"`);
      res.end();
    });
    try {
      const f = mcpFetch(`${s.url}/mcp`, options);
      await assert.rejects(f(`${s.url}/mcp`, { method: 'POST', body: '{}' }), /not this MCP server/);
      assert.equal(sent, 1);
    } finally {
      await s.close();
    }
  });

  test('McpClientAuth.fromEnv: the agent configured by AUTHSEC_* variables', async () => {
    const env = { AUTHSEC_ISSUER: as.issuer, AUTHSEC_CLIENT_ID: 'reader', AUTHSEC_CLIENT_SECRET: SECRET, PATH: '/bin' };
    const client = await connect(url, McpClientAuth.fromEnv(url, env).fetch);
    try {
      const r = await client.callTool({ name: 'read_file', arguments: { path: 'env' } });
      assert.equal(r.content[0].text, 'contents of env');
    } finally {
      await client.close();
    }
    assert.throws(() => McpClientAuth.fromEnv(url, { AUTHSEC_CLIENT_ID: 'reader', AUTHSEC_CLIENT_SECRET: SECRET }), /issuer/);
  });

  test('issuerPolicy first_in_metadata: no issuer, the one the server names is pinned', async () => {
    const agent = new McpClientAuth(url, { issuerPolicy: 'first_in_metadata', clientId: 'reader', clientSecret: SECRET });
    const client = await connect(url, agent.fetch);
    try {
      const r = await client.callTool({ name: 'read_file', arguments: { path: 'tofu' } });
      assert.equal(r.content[0].text, 'contents of tofu');
    } finally {
      await client.close();
    }
    assert.equal(agent.resource, url);
    assert.throws(() => new McpClientAuth(url, { clientId: 'reader', clientSecret: SECRET }), /issuer/);
    assert.throws(
      () => new McpClientAuth(url, { issuerPolicy: 'tofu', clientId: 'reader', clientSecret: SECRET }),
      /issuer_policy/,
    );
  });

  test('tokenVerifier() behind the SDK\'s requireBearerAuth', async () => {
    const verifier = auth.tokenVerifier();
    const reader = await token('reader', { scopes: 'mcp files:read' });
    const info = await verifier.verifyAccessToken(reader);
    assert.equal(info.clientId, 'reader');
    assert.deepEqual([...info.scopes].sort(), ['files:read', 'mcp']);
    assert.ok(info.resource instanceof URL);
    assert.equal(info.resource.href, url);
    await assert.rejects(verifier.verifyAccessToken('not.a.jwt'), InvalidTokenError);
    const nobase = await token('nobase', { scopes: 'files:read' });
    await assert.rejects(verifier.verifyAccessToken(nobase), InsufficientScopeError);

    const app = express();
    app.use(auth.metadataRouter());
    app.use(express.json());
    app.post('/mcp', requireBearerAuth({ verifier, resourceMetadataUrl: auth.metadataUrl, expectedResource: new URL(url) }), mcpHandler(auth));
    const s = await listen(app);
    try {
      // metadataRouter(): the document at both well-known paths; everything else passes on.
      for (const path of auth.wellKnownPaths) {
        const m = await fetch(`${s.url}${path}`);
        assert.equal(m.status, 200);
        assert.deepEqual(await m.json(), auth.metadata);
      }
      const ok = await rpc(`${s.url}/mcp`, 'tools/list', {}, reader);
      assert.equal(ok.status, 200);
      assert.deepEqual(names(ok.body.result.tools), ['read_file', 'whoami']);
      const other = await token('agent', { resource: undefined, audience: 'https://other.example' });
      const bad = await rpc(`${s.url}/mcp`, 'tools/list', {}, other);
      assert.equal(bad.status, 401);
      // The SDK writes this challenge itself, the core's message unescaped in it (quotes and all).
      assert.ok(bad.challenge.startsWith('Bearer error="invalid_token", error_description="the token is for another audience'), bad.challenge);
      assert.ok(bad.challenge.endsWith(`", resource_metadata="${prm}"`), bad.challenge);
      assert.equal(bad.body.error, 'invalid_token');
      const under = await rpc(`${s.url}/mcp`, 'tools/list', {}, nobase);
      assert.equal(under.status, 403);
      assert.match(under.challenge, /^Bearer error="insufficient_scope"/);
    } finally {
      await s.close();
    }
  });

  test('after express.json(), and on plain node:http', async () => {
    const reader = await token('reader', { scopes: 'mcp files:read' });
    const app = express();
    app.use(express.json());
    app.use(auth.middleware());
    app.post('/mcp', mcpHandler(auth));
    const s = await listen(app);
    const mw = auth.middleware();
    const plain = await listen((req, res) => mw(req, res, () => mcpHandler(auth)(req, res)));
    try {
      for (const base of [s.url, plain.url]) {
        const ok = await rpc(`${base}/mcp`, 'tools/call', { name: 'read_file', arguments: { path: 'p' } }, reader);
        assert.equal(ok.status, 200, base);
        assert.equal(ok.body.result.content[0].text, 'contents of p');
        const refused = await rpc(`${base}/mcp`, 'tools/call', { name: 'write_file', arguments: { path: 'p', text: 't' } }, reader);
        assert.equal(refused.status, 403);
        assert.match(refused.challenge, /scope="mcp files:write"/);
      }
      assert.equal(ran.write_file, 1); // the step-up call above only
    } finally {
      await s.close();
      await plain.close();
    }
  });

  test('over HTTP/2 (bodies without content-length): the body is read and checked all the same', async () => {
    const mw = auth.middleware();
    const h2 = http2.createServer((req, res) => mw(req, res, (err) => (err ? res.writeHead(500).end(String(err)) : mcpHandler(auth)(req, res))));
    await new Promise((resolve) => h2.listen(0, '127.0.0.1', resolve));
    const session = http2.connect(`http://127.0.0.1:${h2.address().port}`);
    /** POST `body` to /mcp with `token`; `{ status, body }`. */
    const post = (token, body) =>
      new Promise((resolve, reject) => {
        const stream = session.request({ ':method': 'POST', ':path': '/mcp', authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' });
        let status;
        let text = '';
        stream.on('response', (h) => (status = h[':status'])).on('data', (d) => (text += d)).on('end', () => resolve({ status, text })).on('error', reject);
        stream.end(body);
      });
    try {
      const reader = await token('reader', { scopes: 'mcp files:read' });
      const writes = ran.write_file;
      const call = (name) => JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: { path: 'h2', text: 't' } } });
      const refused = await post(reader, call('write_file'));
      assert.equal(refused.status, 403);
      assert.equal(JSON.parse(refused.text).error, 'insufficient_scope');
      assert.equal(ran.write_file, writes);
      const ok = await post(reader, call('read_file'));
      assert.equal(ok.status, 200);
      assert.equal(JSON.parse(ok.text).result.content[0].text, 'contents of h2');
      const empty = await post(reader, '');
      assert.equal(empty.status, 400); // the SDK's parse error: nothing was left for it to read
    } finally {
      session.close();
      await new Promise((resolve) => h2.close(resolve));
    }
  });

  test('requireAuth in front of the SDK: its req.auth is the SDK\'s AuthInfo too', async () => {
    const app = express();
    app.use(express.json());
    app.post('/mcp', requireAuth({ issuer: as.issuer, audience: url, jwksUri: as.jwksUri, resourceMetadata: prm, requiredScopes: 'mcp' }), mcpHandler(auth));
    const s = await listen(app);
    try {
      const reader = await token('reader', { scopes: 'mcp files:read' });
      const w = await rpc(`${s.url}/mcp`, 'tools/call', { name: 'whoami', arguments: {} }, reader);
      const info = JSON.parse(w.body.result.content[0].text);
      assert.equal(info.clientId, 'reader');
      assert.deepEqual([...info.scopes].sort(), ['files:read', 'mcp']);
      assert.equal(info.expiresAt, info.payload.exp);
      assert.deepEqual(info.extra, { sub: 'reader', iss: as.issuer, delegation: [], aud: url });
      const none = await rpc(`${s.url}/mcp`, 'tools/list', {});
      // requireAuth takes DPoP too: a challenge per scheme, Bearer first (fetch joins the two lines).
      assert.equal(none.challenge, `Bearer scope="mcp", resource_metadata="${prm}", DPoP algs="${DPOP_ALGS}", scope="mcp", resource_metadata="${prm}"`);
    } finally {
      await s.close();
    }
  });

  test('misconfiguration fails at construction', () => {
    assert.throws(() => new McpServerAuth({ resource: url }), ConfigError);
    assert.throws(() => new McpServerAuth({ resource: url, authorizationServers: [as.issuer], verifier: { skipAudienceCheck: true } }), /cannot be skipped/);
    assert.throws(() => new McpServerAuth({ resource: url, authorizationServers: [as.issuer], operationScopes: { 'tools/call:a*b': 'x' } }), ConfigError);
    assert.throws(() => new McpClientAuth(url, { clientId: 'agent', clientSecret: SECRET }), /issuer/);
    assert.throws(() => auth.filterLists({}), TypeError);
  });
});
