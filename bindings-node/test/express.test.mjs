// The Express middleware (requireAuth / requiredScopes) and the fetch wrapper (bearer token, one
// retry with a fresh token on 401), over real sockets with the local authorization server.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import express from 'express';
import { ClientCredentials, Verifier, requireAuth, requiredScopes, authFetch, createAuthFetch, AuthsecError, ConfigError } from '../index.mjs';
import { ManualClock, requestCount } from '../testing.mjs';
import { SECRET, AUDIENCE, DPOP_ALGS, localServer, listen, get } from './helpers.mjs';

describe('Express middleware', () => {
  let server;
  let api;
  let client;
  before(async () => {
    server = await localServer();
    const app = express();
    const auth = requireAuth({ issuer: server.issuer, audience: AUDIENCE, jwksUri: server.jwksUri, realm: 'api' });
    app.get('/data', auth, requiredScopes('read:data'), (req, res) => res.json({ sub: req.auth.payload.sub, scope: req.auth.payload.scope }));
    app.get('/admin', auth, requiredScopes('admin'), (req, res) => res.json({ ok: true }));
    app.get('/either', auth, requiredScopes(['admin', 'write:logs'], { any: true }), (req, res) => res.json({ ok: true }));
    // Discovery: no jwksUri, it comes from the issuer's RFC 8414 metadata.
    app.get('/discovered', requireAuth({ issuer: server.issuer, audience: AUDIENCE, requiredScopes: 'read:data' }), (req, res) =>
      res.json({ client: req.auth.payload.client_id }),
    );
    app.get('/misordered', requiredScopes('read:data'), (req, res) => res.json({}));
    app.use((err, req, res, _next) => res.status(500).json({ handled: err.code ?? 'unknown' }));
    api = await listen(app);
    client = new ClientCredentials({ tokenUrl: server.tokenEndpoint, clientId: 'agent', clientSecret: SECRET, scopes: 'read:data', audience: AUDIENCE });
  });
  after(async () => {
    await api?.close();
    await server?.close();
  });

  test('a valid token: 200 with the claims on req.auth', async () => {
    const t = await client.getToken();
    const r = await get(`${api.url}/data`, { headers: { authorization: t.authorization } });
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { sub: 'agent', scope: 'read:data' });
  });

  test('no token: 401 with a challenge and no error code', async () => {
    // A challenge per scheme the API takes (Bearer and DPoP, each its own header line; fetch's
    // Headers joins them).
    const r = await get(`${api.url}/data`);
    assert.equal(r.status, 401);
    assert.equal(r.headers.get('www-authenticate'), `Bearer realm="api", DPoP algs="${DPOP_ALGS}", realm="api"`);
    assert.deepEqual(await r.json(), { error_description: 'a bearer token is required' });
    // With the scopes given to requireAuth itself, the challenge names them.
    const scoped = await get(`${api.url}/discovered`);
    assert.equal(scoped.status, 401);
    assert.equal(scoped.headers.get('www-authenticate'), `Bearer scope="read:data", DPoP algs="${DPOP_ALGS}", scope="read:data"`);
    const basic = await get(`${api.url}/data`, { headers: { authorization: 'Basic YTpi' } });
    assert.equal(basic.status, 401);
  });

  test('"Bearer" without a token: 400 invalid_request', async () => {
    const r = await get(`${api.url}/data`, { headers: { authorization: 'Bearer ' } });
    assert.equal(r.status, 400);
    assert.match(r.headers.get('www-authenticate'), /error="invalid_request"/);
  });

  test('a bad token: 401 invalid_token', async () => {
    const t = await client.getToken();
    const tampered = t.accessToken.slice(0, -4) + (t.accessToken.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    const r = await get(`${api.url}/data`, { headers: { authorization: `Bearer ${tampered}` } });
    assert.equal(r.status, 401);
    assert.match(r.headers.get('www-authenticate'), /^Bearer realm="api", error="invalid_token", error_description="[^"]+"/);
    const body = await r.json();
    assert.equal(body.error, 'invalid_token');
    assert.ok(!JSON.stringify(body).includes(tampered));
  });

  test('a token without the scope: 403 insufficient_scope', async () => {
    const t = await client.getToken();
    const r = await get(`${api.url}/admin`, { headers: { authorization: t.authorization } });
    assert.equal(r.status, 403);
    assert.match(r.headers.get('www-authenticate'), /error="insufficient_scope".*scope="admin"/);
    assert.equal((await r.json()).error, 'insufficient_scope');
    const any = await get(`${api.url}/either`, { headers: { authorization: t.authorization } });
    assert.equal(any.status, 403);
    const t2 = await client.getToken({ scopes: 'read:data write:logs' });
    const ok = await get(`${api.url}/either`, { headers: { authorization: t2.authorization } });
    assert.equal(ok.status, 200);
  });

  test('the JWKS URL discovered from the issuer', async () => {
    const t = await client.getToken();
    const r = await get(`${api.url}/discovered`, { headers: { authorization: t.authorization } });
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { client: 'agent' });
  });

  test('requiredScopes() without requireAuth() goes to the error handler', async () => {
    const r = await get(`${api.url}/misordered`);
    assert.equal(r.status, 500);
    assert.deepEqual(await r.json(), { handled: 'config_error' });
  });

  test('an expired token: 401 invalid_token', async () => {
    const clock = new ManualClock(Date.now() - 7200_000); // tokens issued two hours ago
    const old = await localServer({ clock, token_lifetime: 600 });
    try {
      const c = new ClientCredentials({ tokenUrl: old.tokenEndpoint, clientId: 'agent', clientSecret: SECRET, clock, audience: AUDIENCE });
      const t = await c.getToken();
      const app = express();
      app.get('/x', requireAuth({ issuer: old.issuer, audience: AUDIENCE, jwksUri: old.jwksUri }), (req, res) => res.json({}));
      const s = await listen(app);
      try {
        const r = await get(`${s.url}/x`, { headers: { authorization: t.authorization } });
        assert.equal(r.status, 401);
        assert.match(r.headers.get('www-authenticate'), /error="invalid_token", error_description="the token expired/);
      } finally {
        await s.close();
      }
    } finally {
      await old.close();
    }
  });

  test('works on plain node:http too', async () => {
    const mw = requireAuth({ issuer: server.issuer, audience: AUDIENCE, jwksUri: server.jwksUri });
    const s = await listen((req, res) => mw(req, res, () => res.end(req.auth.payload.client_id)));
    try {
      const t = await client.getToken();
      const r = await get(s.url, { headers: { authorization: t.authorization } });
      assert.equal(await r.text(), 'agent');
      assert.equal((await get(s.url)).status, 401);
    } finally {
      await s.close();
    }
  });

  test('Verifier.discover: the JWKS from the issuer\'s metadata, fetched before it resolves', async () => {
    const v = await Verifier.discover({ issuer: server.issuer, audience: AUDIENCE });
    const t = await client.getToken();
    assert.equal((await v.verify(t.accessToken)).client_id, 'agent');
    // A wrong issuer fails at discovery, not at the first request.
    await assert.rejects(Verifier.discover({ issuer: `${server.issuer}/nope`, audience: AUDIENCE }), AuthsecError);
    await assert.rejects(Verifier.discover({ audience: AUDIENCE }), ConfigError);
  });

  test('resourceMetadata is named in every challenge; audienceMatch widens the audience check', async () => {
    const prm = 'https://api.example/.well-known/oauth-protected-resource';
    const app = express();
    app.get('/x', requireAuth({ issuer: server.issuer, audience: AUDIENCE, jwksUri: server.jwksUri, realm: 'api', resourceMetadata: prm }), requiredScopes('admin'), (req, res) => res.json({}));
    const s = await listen(app);
    try {
      const none = await get(`${s.url}/x`);
      assert.equal(none.headers.get('www-authenticate'), `Bearer realm="api", resource_metadata="${prm}", DPoP algs="${DPOP_ALGS}", realm="api", resource_metadata="${prm}"`);
      const t = await client.getToken();
      const under = await get(`${s.url}/x`, { headers: { authorization: t.authorization } });
      assert.equal(under.status, 403);
      // The error on the scheme the request used (Bearer); the DPoP challenge follows.
      assert.match(under.headers.get('www-authenticate'), new RegExp(`^Bearer realm="api", error="insufficient_scope", error_description="[^"]+", scope="admin", resource_metadata="${prm}", DPoP algs="${DPOP_ALGS}", realm="api", scope="admin", resource_metadata="${prm}"$`));
    } finally {
      await s.close();
    }
    // The token's aud is AUDIENCE (no path); a verifier for a URL below it.
    const t = await client.getToken();
    const below = `${AUDIENCE}/v1/`;
    const verifier = (audienceMatch) => new Verifier({ issuer: server.issuer, audience: below, jwksUri: server.jwksUri, audienceMatch });
    await assert.rejects(verifier('exact').verify(t.accessToken), { code: 'invalid_audience' });
    await assert.rejects(verifier('trailing_slash').verify(t.accessToken), { code: 'invalid_audience' });
    assert.equal((await verifier('path_prefix').verify(t.accessToken)).aud, AUDIENCE);
    const slash = new Verifier({ issuer: server.issuer, audience: `${AUDIENCE}/`, jwksUri: server.jwksUri, audienceMatch: 'trailing_slash' });
    assert.equal((await slash.verify(t.accessToken)).aud, AUDIENCE);
    assert.throws(() => verifier('loose'), /audience_match/);
  });

  test('misconfiguration fails at startup', () => {
    assert.throws(() => requireAuth({ issuer: server.issuer }), /audience/);
    assert.throws(() => requireAuth({ audience: AUDIENCE, jwksUri: server.jwksUri }), /issuer/);
  });
});

describe('fetch wrapper', () => {
  let server;
  let verifier;
  before(async () => {
    server = await localServer();
    verifier = new Verifier({ issuer: server.issuer, audience: AUDIENCE, jwksUri: server.jwksUri });
  });
  after(() => server.close());

  /** A resource that answers 401 for revoked tokens and echoes the body. */
  async function resource(revoked) {
    const seen = [];
    const s = await listen(async (req, res) => {
      const chunks = [];
      for await (const c of req) chunks.push(c);
      const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      seen.push({ token, body: Buffer.concat(chunks).toString(), method: req.method, custom: req.headers['x-custom'] });
      let ok = false;
      try {
        await verifier.verify(token);
        ok = !revoked.has(token);
      } catch {}
      res.statusCode = ok ? 200 : 401;
      if (!ok) res.setHeader('www-authenticate', 'Bearer error="invalid_token"');
      res.end(ok ? 'ok' : 'no');
    });
    return { ...s, seen };
  }

  test('adds the bearer token; retries once with a fresh token on 401', async () => {
    const revoked = new Set();
    const r = await resource(revoked);
    try {
      const c = new ClientCredentials({ tokenUrl: server.tokenEndpoint, clientId: 'agent', clientSecret: SECRET, audience: AUDIENCE });
      const ok = await c.fetch(r.url, { headers: { 'x-custom': '1' }, signal: AbortSignal.timeout(10_000) });
      assert.equal(ok.status, 200);
      assert.equal(requestCount(c), 1);
      const stale = r.seen[0].token;
      revoked.add(stale); // the resource now refuses it (e.g. revoked)
      const again = await authFetch(c, `${r.url}/p`, { method: 'POST', body: '{"a":1}', headers: { 'x-custom': '2' } });
      assert.equal(again.status, 200);
      assert.equal(requestCount(c), 2, 'one new token');
      assert.equal(r.seen.length, 3);
      assert.equal(r.seen[1].token, stale);
      assert.notEqual(r.seen[2].token, stale);
      assert.deepEqual(
        r.seen.slice(1).map((s) => [s.method, s.body, s.custom]),
        [
          ['POST', '{"a":1}', '2'],
          ['POST', '{"a":1}', '2'],
        ],
      );
      // The fresh token is cached: no token request for the next call.
      const f = createAuthFetch(c);
      assert.equal((await f(r.url)).status, 200);
      assert.equal(requestCount(c), 2);
    } finally {
      await r.close();
    }
  });

  /** Fetch through `authFetch` from a resource that answers every request 401 (with `challenge`). */
  async function fetchRefused(challenge) {
    let calls = 0;
    const s = await listen((req, res) => {
      calls++;
      res.statusCode = 401;
      if (challenge !== undefined) res.setHeader('www-authenticate', challenge);
      res.end();
    });
    try {
      const c = new ClientCredentials({ tokenUrl: server.tokenEndpoint, clientId: 'agent', clientSecret: SECRET });
      const r = await c.fetch(s.url);
      return { status: r.status, calls, tokenRequests: requestCount(c) };
    } finally {
      await s.close();
    }
  }

  test('a 401 whose challenge says insufficient_scope is returned at once (the core decides)', async () => {
    const r = await fetchRefused('Bearer error="insufficient_scope", scope="admin"');
    assert.equal(r.status, 401);
    assert.equal(r.calls, 1);
    assert.equal(r.tokenRequests, 1);
  });

  test('a second 401 is returned, not retried again', async () => {
    const r = await fetchRefused();
    assert.equal(r.status, 401);
    assert.equal(r.calls, 2);
    assert.equal(r.tokenRequests, 2);
  });
});
