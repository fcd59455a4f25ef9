// @authsec/wasm against the local authorization server (`authsec server`, over 127.0.0.1): a token
// from the client-credentials grant is verified with the JWKS fetched from the server's jwks_uri
// (through a counting proxy, to see how often it is fetched), for each signing algorithm the
// server offers; then insufficient scope, garbage tokens, key rotation within the unknown-kid
// cooldown, and a JWKS URL nobody listens on.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import {
  Verifier, AuthsecError, InsufficientScopeError, InvalidTokenError, NetworkError, UnavailableError, challenge,
} from '../index.js';
import { AUDIENCE, serverConfig, startAuthServer, clientCredentials, countingProxy, deadPort } from './support/auth-server.mjs';

const CLIENT = { clientId: 'wasm-agent', clientSecret: 'wasm-test-Secret-5d81c0a7e2' };
const ADMIN = 'wasm-test-admin-token-93b1f6';
const JWKS_PATH = '/.well-known/jwks.json';

const config = (alg) => serverConfig(CLIENT, { alg, adminToken: ADMIN });

/** The rejection of `promise`, asserted to be an AuthsecError. */
async function rejection(promise) {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof AuthsecError, `not an AuthsecError: ${e}`);
    assert.ok(e instanceof Error);
    assert.equal(typeof e.message, 'string');
    return e;
  }
  assert.fail('expected a rejection');
}

for (const alg of ['ES256', 'RS256', 'EdDSA']) {
  describe(`remote JWKS from authsec server (${alg})`, { timeout: 60_000 }, () => {
    let server;
    let proxy;
    const token = async (scope = 'read:data write:logs') =>
      (await clientCredentials(server.tokenEndpoint, { ...CLIENT, scope, audience: AUDIENCE })).access_token;
    const verifier = (extra = {}) =>
      new Verifier({ issuer: server.issuer, audience: AUDIENCE, jwksUri: proxy.origin + JWKS_PATH, ...extra });

    before(async () => {
      server = await startAuthServer(config(alg));
      proxy = await countingProxy(server.issuer);
    });
    after(async () => {
      await proxy?.close();
      await server?.stop();
    });

    test('a client-credentials token verifies, with the JWKS fetched once for many verifications', async () => {
      assert.match(server.issuer, /^http:\/\/127\.0\.0\.1:\d+$/);
      const [t1, t2] = [await token(), await token('read:data')];
      const v = verifier();
      const claims = await v.verify(t1, { requiredScopes: ['read:data', 'write:logs'] });
      assert.equal(claims.iss, server.issuer);
      assert.deepEqual([claims.aud].flat(), [AUDIENCE]);
      assert.equal(claims.client_id, CLIENT.clientId);
      assert.equal(claims.scope, 'read:data write:logs');
      assert.equal(typeof claims.jti, 'string');
      assert.ok(claims.exp > Date.now() / 1000);
      assert.equal(proxy.count(JWKS_PATH), 1);

      // The same token again (cache), another token (first sight, same key), scope forms.
      for (let i = 0; i < 5; i++) assert.equal((await v.verify(t1)).jti, claims.jti);
      const c2 = await v.verify(t2, { requiredScopes: 'read:data' });
      assert.equal(c2.scope, 'read:data');
      assert.notEqual(c2.jti, claims.jti);
      await v.verify(t2, { anyScopes: ['admin', 'read:data'] });
      assert.equal(v.cachedTokens, 2);

      // A fresh verifier with first-sight verifications in flight together: one shared fetch.
      const before = proxy.count(JWKS_PATH);
      const tokens = await Promise.all(Array.from({ length: 6 }, () => token()));
      const w = verifier();
      const all = await Promise.all(tokens.map((t) => w.verify(t, { requiredScopes: ['read:data'] })));
      assert.equal(new Set(all.map((c) => c.jti)).size, tokens.length);
      assert.equal(proxy.count(JWKS_PATH) - before, 1, 'concurrent first-sight verifications share one JWKS fetch');
      assert.equal(proxy.count(JWKS_PATH), 2);
      v.free();
      w.free();
    });

    test('insufficient scope: 403 AuthsecError naming the missing scopes (first sight and cached)', async () => {
      const t = await token('read:data');
      const v = verifier();
      for (const round of ['first sight', 'cached']) {
        const e = await rejection(v.verify(t, { requiredScopes: ['read:data', 'admin'] }));
        assert.equal(e.code, 'insufficient_scope', round);
        assert.equal(e.httpStatus, 403, round);
        assert.deepEqual(e.missingScopes, ['admin'], round);
        assert.equal(e.name, 'InsufficientScopeError');
        assert.ok(e instanceof InsufficientScopeError && e.category === 'insufficient_scope' && !e.retryable);
      }
      const e = await rejection(v.verify(t, { requiredScopes: 'admin' }));
      const answer = challenge(e, { realm: 'api', requiredScopes: ['admin'] });
      assert.equal(answer.status, 403);
      assert.match(answer.wwwAuthenticate, /^Bearer realm="api", error="insufficient_scope"/);
      // The token itself is fine: without the extra scope it verifies.
      assert.equal((await v.verify(t, { requiredScopes: ['read:data'] })).scope, 'read:data');
      v.free();
    });

    test('garbage tokens: malformed_token (401), without touching the JWKS', async () => {
      const v = verifier();
      const before = proxy.count(JWKS_PATH);
      for (const bad of ['garbage', 'a.b.c', '', 'eyJhbGciOiJFUzI1NiJ9..', (await token()).split('.').slice(0, 2).join('.')]) {
        const e = await rejection(v.verify(bad));
        assert.equal(e.code, 'malformed_token', JSON.stringify(bad));
        assert.equal(e.httpStatus, 401);
        assert.ok(e instanceof InvalidTokenError);
      }
      const e = await rejection(v.verify(undefined));
      assert.equal(e.code, 'malformed_token');
      assert.equal(proxy.count(JWKS_PATH), before);
      v.free();
    });
  });
}

describe('remote JWKS: rotation, failures and policy', { timeout: 60_000 }, () => {
  let server;
  let proxy;
  const token = async () =>
    (await clientCredentials(server.tokenEndpoint, { ...CLIENT, scope: 'read:data', audience: AUDIENCE })).access_token;
  const verifier = (extra = {}) =>
    new Verifier({ issuer: server.issuer, audience: AUDIENCE, jwksUri: proxy.origin + JWKS_PATH, ...extra });

  before(async () => {
    server = await startAuthServer(config('ES256'));
    proxy = await countingProxy(server.issuer);
  });
  after(async () => {
    await proxy?.close();
    await server?.stop();
  });

  test('a rotated key: unknown kid within the cooldown is not refetched; a new verifier gets both keys', async () => {
    const old = await token();
    const v = verifier();
    await v.verify(old);
    assert.equal(proxy.count(JWKS_PATH), 1);

    const res = await fetch(`${server.issuer}/admin/keys/rotate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ activate_in: 0 }),
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(res.status, 200, await res.clone().text());
    const rotated = await res.json();
    const fresh = await token();
    const kid = (t) => JSON.parse(Buffer.from(t.split('.')[0], 'base64url')).kid;
    assert.notEqual(kid(fresh), kid(old));
    assert.equal(kid(fresh), rotated.kid);

    // The first fetch started under 30 s ago: no refetch for the unknown kid.
    const e = await rejection(v.verify(fresh));
    assert.equal(e.code, 'key_not_found');
    assert.equal(e.httpStatus, 401);
    assert.equal(proxy.count(JWKS_PATH), 1);
    assert.equal((await v.verify(old)).iss, server.issuer);

    // A new verifier fetches the published set, which holds the new key and still the old one.
    const w = verifier();
    assert.equal((await w.verify(fresh)).iss, server.issuer);
    assert.equal((await w.verify(old)).iss, server.issuer);
    assert.equal(proxy.count(JWKS_PATH), 2);
    v.free();
    w.free();
  });

  test('wrong issuer or audience against real tokens', async () => {
    const t = await token();
    const a = verifier({ audience: 'https://other.example' });
    assert.equal((await rejection(a.verify(t))).code, 'invalid_audience');
    const i = verifier({ issuer: 'http://127.0.0.1:1' });
    assert.equal((await rejection(i.verify(t))).code, 'invalid_issuer');
    a.free();
    i.free();
  });

  test('jwksUri on a port nothing listens on: jwks_unavailable (503)', async () => {
    const port = await deadPort();
    const v = new Verifier({ issuer: server.issuer, audience: AUDIENCE, jwksUri: `http://127.0.0.1:${port}${JWKS_PATH}` });
    const t = await token();
    for (let i = 0; i < 2; i++) {
      const e = await rejection(v.verify(t));
      assert.equal(e.code, 'jwks_unavailable');
      assert.equal(e.httpStatus, 503);
      assert.ok(e instanceof NetworkError && e instanceof UnavailableError && e.retryable === false);
      assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
    }
    v.free();
  });

  test('a JWKS endpoint answering 500: jwks_unavailable, and no new attempt right after a failure', async () => {
    let hits = 0;
    const broken = createServer((req, res) => {
      hits++;
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('down');
    });
    await new Promise((resolve) => broken.listen(0, '127.0.0.1', resolve));
    try {
      const v = new Verifier({ issuer: server.issuer, audience: AUDIENCE, jwksUri: `http://127.0.0.1:${broken.address().port}/jwks` });
      const t = await token();
      assert.equal((await rejection(v.verify(t))).code, 'jwks_unavailable');
      const after1 = hits;
      assert.ok(after1 >= 1);
      assert.equal((await rejection(v.verify(t))).code, 'jwks_unavailable');
      assert.equal(hits, after1, 'a failed fetch is not retried on the very next verification');
      v.free();
    } finally {
      broken.closeAllConnections?.();
      await new Promise((resolve) => broken.close(resolve));
    }
  });

  test('a JWKS endpoint answering with a redirect: not followed, jwks_unavailable naming the 302', async () => {
    const paths = [];
    const redirecting = createServer((req, res) => {
      paths.push(req.url);
      res.writeHead(302, { location: server.jwksUri });
      res.end();
    });
    await new Promise((resolve) => redirecting.listen(0, '127.0.0.1', resolve));
    try {
      const v = new Verifier({ issuer: server.issuer, audience: AUDIENCE, jwksUri: `http://127.0.0.1:${redirecting.address().port}/jwks` });
      const e = await rejection(v.verify(await token()));
      assert.equal(e.code, 'jwks_unavailable');
      assert.match(e.message, /HTTP 302/);
      // The key set the redirect points at (a valid one) was never fetched through it.
      assert.deepEqual(paths, ['/jwks']);
      v.free();
    } finally {
      redirecting.closeAllConnections?.();
      await new Promise((resolve) => redirecting.close(resolve));
    }
  });

  test('plain http to a non-loopback host is refused unless allowInsecureHttp', async () => {
    assert.throws(
      () => new Verifier({ issuer: server.issuer, audience: AUDIENCE, jwksUri: 'http://jwks.invalid/keys' }),
      (e) => e instanceof AuthsecError && e.code === 'insecure_transport',
    );
    const v = new Verifier({ issuer: server.issuer, audience: AUDIENCE, jwksUri: 'http://jwks.invalid/keys', allowInsecureHttp: true });
    v.free();
  });
});
