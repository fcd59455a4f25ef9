// Getting tokens from the local authorization server over real sockets: every client-auth method,
// caching, per-call parameters, discovery, env/YAML config, the docs' AuthsecClient shape, and
// single-flight refreshes under 1,000 concurrent callers.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { inspect } from 'node:util';
import { join } from 'node:path';
import { ClientCredentials, AuthsecClient, Verifier, AccessToken, ConfigError, TokenExpiredError } from '../index.mjs';
import { ManualClock, requestCount, startLocalServer } from '../testing.mjs';
import { SECRET, AUDIENCE, localServer, keyPair } from './helpers.mjs';

const keys = { ec: keyPair('ec', 'ec-1'), rsa: keyPair('rsa', 'rsa-1'), ed25519: keyPair('ed25519', 'ed-1') };

describe('client credentials against the local server', () => {
  let server;
  let verifier;
  before(async () => {
    server = await localServer({
      clients: Object.entries(keys).map(([kind, k]) => ({
        client_id: `keyed-${kind}`,
        jwks: { keys: [k.jwk] },
        allowed_scopes: ['read:data'],
        audiences: [AUDIENCE],
      })),
    });
    verifier = new Verifier({ issuer: server.issuer, audience: [AUDIENCE, 'https://other.example'], jwksUri: server.jwksUri });
  });
  after(() => server.close());

  for (const authMethod of ['client_secret_basic', 'client_secret_post']) {
    test(`${authMethod}: a token, then the same token from the cache`, async () => {
      const c = new ClientCredentials({ tokenUrl: server.tokenEndpoint, clientId: 'agent', clientSecret: SECRET, scopes: ['read:data'], authMethod });
      const t = await c.getToken();
      assert.ok(t instanceof AccessToken);
      assert.equal(t.tokenType, 'Bearer');
      assert.deepEqual([...t.scopes], ['read:data']);
      const claims = await verifier.verify(t.accessToken, { requiredScopes: 'read:data' });
      assert.equal(claims.client_id, 'agent');
      assert.equal(claims.aud, AUDIENCE);
      assert.equal(claims.iss, server.issuer);
      assert.equal(Math.floor(t.expiresAt), claims.exp);
      assert.equal(requestCount(c), 1);
      for (let i = 0; i < 100; i++) assert.equal(await c.getToken(), t);
      assert.equal(requestCount(c), 1);
    });
  }

  for (const kind of Object.keys(keys)) {
    test(`private_key_jwt with a ${kind} key`, async () => {
      const c = new ClientCredentials({
        tokenUrl: server.tokenEndpoint,
        clientId: `keyed-${kind}`,
        privateKey: keys[kind].pem,
        privateKeyId: keys[kind].jwk.kid,
      });
      const claims = await verifier.verify((await c.getToken()).accessToken);
      assert.equal(claims.client_id, `keyed-${kind}`);
    });
  }

  test('private_key_jwt with a private JWK', async () => {
    const jwk = { ...keys.ec.privateKey.export({ format: 'jwk' }), kid: 'ec-1' };
    const c = new ClientCredentials({ tokenUrl: server.tokenEndpoint, clientId: 'keyed-ec', privateKey: JSON.stringify(jwk) });
    assert.equal((await verifier.verify((await c.getToken()).accessToken)).client_id, 'keyed-ec');
  });

  test('per-call audience and scopes are cached separately', async () => {
    const c = new ClientCredentials({ tokenUrl: server.tokenEndpoint, clientId: 'agent', clientSecret: SECRET, scopes: 'read:data' });
    const a = await c.getToken();
    const b = await c.getToken({ audience: 'https://other.example', scopes: 'read:data write:logs' });
    assert.notEqual(a.accessToken, b.accessToken);
    const claims = await verifier.verify(b.accessToken);
    assert.equal(claims.aud, 'https://other.example');
    assert.equal(claims.scope, 'read:data write:logs');
    assert.equal(requestCount(c), 2);
    assert.equal(await c.getToken({ scopes: ['write:logs', 'read:data'], audience: 'https://other.example' }), b);
    assert.equal(await c.getToken(), a);
    assert.equal(requestCount(c), 2);
    await assert.rejects(c.getToken({ scope: 'x' }), /unknown option `scope`/);
  });

  test('invalidate() and invalidateToken()', async () => {
    const c = new ClientCredentials({ tokenUrl: server.tokenEndpoint, clientId: 'agent', clientSecret: SECRET });
    const t1 = await c.getToken();
    c.invalidate();
    const t2 = await c.getToken();
    assert.notEqual(t2.accessToken, t1.accessToken);
    c.invalidateToken(t1); // an old token: the newer one stays
    assert.equal(await c.getToken(), t2);
    c.invalidateToken(t2.accessToken);
    const t3 = await c.getToken();
    assert.notEqual(t3.accessToken, t2.accessToken);
    assert.equal(requestCount(c), 3);
  });

  test('the token endpoint is discovered from the issuer (RFC 8414)', async () => {
    const c = new ClientCredentials({ issuer: server.issuer, clientId: 'agent', clientSecret: SECRET });
    assert.equal((await verifier.verify((await c.getToken()).accessToken)).client_id, 'agent');
  });

  test('fromEnv and fromConfigFile', async () => {
    const env = {
      AUTHSEC_CLIENT_ID: 'agent',
      AUTHSEC_CLIENT_SECRET: SECRET,
      AUTHSEC_TOKEN_URL: server.tokenEndpoint,
      AUTHSEC_SCOPES: 'read:data write:logs',
      PATH: '/ignored',
    };
    const c = ClientCredentials.fromEnv(env);
    assert.deepEqual([...(await c.getToken()).scopes].sort(), ['read:data', 'write:logs']);

    const dir = mkdtempSync(join(tmpdir(), 'authsec-node-'));
    try {
      const file = join(dir, 'authsec.yaml');
      writeFileSync(
        file,
        `authsec:\n  client_id: agent\n  client_secret: \${AUTHSEC_NODE_TEST_SECRET}\n  token_url: ${server.tokenEndpoint}\n  scopes:\n    - write:logs\n`,
      );
      process.env.AUTHSEC_NODE_TEST_SECRET = SECRET;
      const y = ClientCredentials.fromConfigFile(file);
      assert.deepEqual([...(await y.getToken()).scopes], ['write:logs']);
      delete process.env.AUTHSEC_NODE_TEST_SECRET;
      assert.throws(() => ClientCredentials.fromConfigFile(file), /AUTHSEC_NODE_TEST_SECRET/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the docs' AuthsecClient snippet", async () => {
    // As in the product docs, with the local server standing in for the domain.
    const client = new AuthsecClient({ domain: server.issuer, clientId: 'agent', clientSecret: SECRET });
    const token = await client.getClientCredentialsToken({ audience: AUDIENCE, scope: 'read:data write:logs' });
    assert.equal(token.token_type, 'Bearer');
    assert.equal(token.access_token, token.accessToken);
    assert.equal(token.scope, 'read:data write:logs');
    assert.ok(token.expires_in > 3500 && token.expires_in <= 3600, String(token.expires_in));
    const claims = await verifier.verify(token.access_token, { requiredScopes: ['read:data', 'write:logs'] });
    assert.equal(claims.aud, AUDIENCE);
    assert.equal(await client.getClientCredentialsToken({ audience: AUDIENCE, scope: 'write:logs read:data' }), token);
    assert.equal(requestCount(client.client), 1);
  });

  test('AuthsecClient maps a bare domain to https://{domain}/oauth/token', () => {
    const c = new AuthsecClient({ domain: 'auth.example.com', clientId: 'a', clientSecret: SECRET });
    assert.match(inspect(c), /tokenUrl: 'https:\/\/auth\.example\.com\/oauth\/token'/);
    const u = new AuthsecClient({ domain: 'http://127.0.0.1:1/', clientId: 'a', clientSecret: SECRET });
    assert.match(inspect(u), /tokenUrl: 'http:\/\/127\.0\.0\.1:1\/oauth\/token'/);
  });
});

describe('single flight', () => {
  const start = Date.UTC(2030, 0, 1);
  let clock;
  let server;
  before(async () => {
    clock = new ManualClock(start);
    server = await localServer({ clock, token_lifetime: 600 });
  });
  after(() => server.close());

  test('1,000 concurrent getToken() calls on a cold cache send one request', async () => {
    const c = new ClientCredentials({ tokenUrl: server.tokenEndpoint, clientId: 'agent', clientSecret: SECRET, clock });
    const all = await Promise.all(Array.from({ length: 1000 }, () => c.getToken()));
    assert.equal(requestCount(c), 1);
    assert.ok(all.every((t) => t === all[0]));
  });

  test('1,000 concurrent getToken() calls at expiry send exactly one request', async () => {
    const c = new ClientCredentials({ tokenUrl: server.tokenEndpoint, clientId: 'agent', clientSecret: SECRET, clock });
    const first = await c.getToken();
    assert.equal(requestCount(c), 1);
    clock.set(first.expiresAt * 1000 + 1000); // expired
    const all = await Promise.all(Array.from({ length: 1000 }, () => c.getToken()));
    assert.equal(requestCount(c), 2);
    assert.ok(all.every((t) => t === all[0]));
    assert.notEqual(all[0].accessToken, first.accessToken);
    assert.ok(all[0].expiresAt * 1000 > clock.now());
  });

  test('in the refresh window callers get a valid token at once while one refresh runs', async () => {
    const c = new ClientCredentials({ tokenUrl: server.tokenEndpoint, clientId: 'agent', clientSecret: SECRET, clock, refreshBuffer: 120 });
    const first = await c.getToken();
    clock.set(first.expiresAt * 1000 - 60_000); // inside the 120 s buffer, well before expiry
    const all = await Promise.all(Array.from({ length: 1000 }, () => c.getToken()));
    // The still-valid token, or the refreshed one for callers that came after it arrived.
    assert.ok(all.includes(first));
    assert.ok(new Set(all).size <= 2);
    for (let i = 0; i < 400 && (await c.getToken()) === first; i++) await new Promise((r) => setTimeout(r, 5));
    const fresh = await c.getToken();
    assert.notEqual(fresh.accessToken, first.accessToken);
    assert.ok(all.every((t) => t === first || t === fresh));
    assert.equal(requestCount(c), 2);
  });
});

test('a local server starts and stops', async () => {
  const s = await startLocalServer({ signing_alg: 'EdDSA', clients: [{ client_id: 'x', client_secret: SECRET }] });
  assert.match(s.issuer, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(s.tokenEndpoint, `${s.issuer}/oauth/token`);
  assert.equal(s.jwksUri, `${s.issuer}/.well-known/jwks.json`);
  const jwks = await (await fetch(s.jwksUri, { signal: AbortSignal.timeout(5000) })).json();
  assert.equal(jwks.keys[0].crv, 'Ed25519');
  await s.close();
  await s.close();
  await assert.rejects(fetch(s.jwksUri, { signal: AbortSignal.timeout(5000) }));
  await assert.rejects(startLocalServer({ signing_alg: 'HS256' }), /signing_alg|HS256/);
});

test("the local server's helpers: client(), verifier(), token(), on the server's clock", async () => {
  const clock = new ManualClock(Date.UTC(2030, 0, 1));
  const s = await localServer({ clock, token_lifetime: 600 });
  try {
    const t = await s.client({ scopes: 'read:data' }).getToken();
    const claims = await s.verifier().verify(t.accessToken, { requiredScopes: 'read:data' });
    assert.equal(claims.client_id, 'agent');
    assert.equal(claims.aud, AUDIENCE);
    assert.equal(claims.iat * 1000, clock.now(), 'the server issues on the shared clock');
    const raw = await s.token({ scopes: ['write:logs'] });
    assert.equal(typeof raw, 'string');
    assert.equal((await s.verifier({ audience: AUDIENCE }).verify(raw)).scope, 'write:logs');
    assert.throws(() => s.client({ clientId: 'nobody' }), ConfigError);
    clock.advance(700_000); // past exp and the 5 s leeway
    await assert.rejects(s.verifier().verify(t.accessToken), TokenExpiredError);
  } finally {
    await s.close();
  }
});
