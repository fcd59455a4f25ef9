// SPIFFE workload identity against the fake Workload API (@authsec/sdk/testing): JWT-SVIDs fetched
// and verified (the Workload API's bundles, a bundle given or in a file), a key rotation followed
// without a restart, allowed SPIFFE IDs, the SPIFFE error codes, and secretless token requests
// (auth_method spiffe_jwt: client assertion and JWT-bearer grant) against the local server.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { X509Certificate, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  JwtSvidVerifier,
  WorkloadApiClient,
  ClientCredentials,
  spiffeIdMatches,
  ConfigError,
  UnavailableError,
  InvalidTokenError,
  InsufficientScopeError,
} from '../index.mjs';
import { FakeWorkloadApi, startLocalServer } from '../testing.mjs';

const AUD = 'https://api.example';
const AGENT = 'spiffe://example.org/agents/ml-training';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** Poll `check` (which throws until it holds) for at most `ms`; the last error if it never does. */
async function eventually(check, ms = 10_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** An ES256 JWT signed by a key of our own, and that key's bundle (for SVIDs the fake cannot make). */
function selfSigned(claims, header = { alg: 'ES256', kid: 'own', typ: 'JWT' }) {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const b64 = (v) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const input = `${b64(header)}.${b64(claims)}`;
  const sig = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url');
  return { token: `${input}.${sig}`, bundle: { keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'own', use: 'jwt-svid' }] } };
}

const now = () => Math.floor(Date.now() / 1000);

let fake;
let dir;
before(async () => {
  fake = await FakeWorkloadApi.start();
  dir = mkdtempSync(join(tmpdir(), 'authsec-spiffe-test-'));
});
after(() => {
  fake?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the Workload API client', () => {
  test('a JWT-SVID for an audience, its token kept out of inspect and JSON', async () => {
    const client = new WorkloadApiClient(fake.endpoint);
    assert.equal(client.endpoint, fake.endpoint);
    const svid = await client.fetchJwtSvid(AUD);
    assert.equal(svid.spiffeId, fake.spiffeId);
    assert.equal(svid.spiffeId, 'spiffe://example.org/workload');
    assert.match(svid.token, /^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
    assert.ok(!inspect(svid).includes(svid.token) && inspect(svid).includes('***'));
    assert.deepEqual(JSON.parse(JSON.stringify(svid)), { spiffeId: svid.spiffeId, token: '***', hint: svid.hint });
    // A list of audiences, and the SPIFFE ID asked for.
    const two = await client.fetchJwtSvid([AUD, 'https://other.example'], { spiffeId: fake.spiffeId });
    const claims = JSON.parse(Buffer.from(two.token.split('.')[1], 'base64url'));
    assert.deepEqual(claims.aud, [AUD, 'https://other.example']);
    await assert.rejects(client.fetchJwtSvid(AUD, { spiffe_id: 'x' }), ConfigError);
    await assert.rejects(client.fetchJwtSvid([]), (e) => e instanceof ConfigError && e.code === 'config_error');
  });

  test('the JWT bundles, by trust domain', async () => {
    const bundles = await new WorkloadApiClient(fake.endpoint).fetchJwtBundles();
    assert.deepEqual(Object.keys(bundles), ['example.org']);
    assert.ok(bundles['example.org'].keys.some((k) => k.kid === fake.jwtKid));
    assert.deepEqual(bundles['example.org'], fake.jwtBundle());
  });

  test('the X.509-SVID: the chain names the SPIFFE ID, the key stays out of inspect and JSON', async () => {
    const x = await new WorkloadApiClient(fake.endpoint).fetchX509Svid();
    assert.equal(x.spiffeId, fake.spiffeId);
    const leaf = new X509Certificate(x.certChainPem);
    assert.ok(leaf.subjectAltName.includes(`URI:${fake.spiffeId}`), leaf.subjectAltName);
    assert.ok(leaf.checkIssued(new X509Certificate(x.bundlePem)));
    assert.match(x.privateKeyPem, /^-----BEGIN PRIVATE KEY-----\n/);
    assert.ok(leaf.checkPrivateKey((await import('node:crypto')).createPrivateKey(x.privateKeyPem)));
    assert.ok(!inspect(x).includes('PRIVATE KEY') && !JSON.stringify(x).includes('PRIVATE KEY'));
  });

  test('SPIFFE_ENDPOINT_SOCKET is the default endpoint', async () => {
    const before = process.env.SPIFFE_ENDPOINT_SOCKET;
    process.env.SPIFFE_ENDPOINT_SOCKET = fake.endpoint;
    try {
      const client = new WorkloadApiClient();
      assert.equal(client.endpoint, fake.endpoint);
      assert.equal((await client.fetchJwtSvid(AUD)).spiffeId, fake.spiffeId);
    } finally {
      if (before === undefined) delete process.env.SPIFFE_ENDPOINT_SOCKET;
      else process.env.SPIFFE_ENDPOINT_SOCKET = before;
    }
  });

  test('no agent, or no identity yet: UnavailableError workload_api_unavailable (retryable)', async () => {
    const missing = new WorkloadApiClient(`unix://${join(dir, 'nobody.sock')}`);
    await assert.rejects(missing.fetchJwtSvid(AUD), (e) => e instanceof UnavailableError && e.code === 'workload_api_unavailable' && e.retryable);
    fake.denyNext(1);
    await assert.rejects(new WorkloadApiClient(fake.endpoint).fetchJwtSvid(AUD), (e) => e.code === 'workload_api_unavailable');
    assert.ok((await new WorkloadApiClient(fake.endpoint).fetchJwtSvid(AUD)).token);
    assert.throws(() => new WorkloadApiClient('http://127.0.0.1:1'), ConfigError);
  });
});

describe('JwtSvidVerifier', () => {
  test('verifies with the Workload API bundles, a bundle given, and a bundle file', async () => {
    const { token } = await new WorkloadApiClient(fake.endpoint).fetchJwtSvid(AUD);
    const file = join(dir, 'bundle.json');
    writeFileSync(file, JSON.stringify(fake.jwtBundle()));
    const verifiers = [
      await JwtSvidVerifier.create({ audience: AUD, workloadApi: fake.endpoint }),
      await JwtSvidVerifier.create({ audience: [AUD], trustDomains: { 'example.org': { bundle: fake.jwtBundle() } } }),
      await JwtSvidVerifier.create({ audience: AUD, trustDomains: { 'example.org': { bundle: JSON.stringify(fake.jwtBundle()) } } }),
      await JwtSvidVerifier.create({ audience: AUD, trustDomains: { 'example.org': { bundleFile: file } } }),
    ];
    for (const v of verifiers) {
      const svid = await v.verify(token);
      assert.equal(svid.spiffeId, fake.spiffeId);
      assert.equal(svid.trustDomain, 'example.org');
      assert.deepEqual(svid.audience, [AUD]);
      assert.equal(svid.alg, 'ES256');
      assert.equal(svid.kid, fake.jwtKid);
      assert.ok(svid.expiresAt > now() && svid.expiresAt <= now() + 301, `${svid.expiresAt}`);
      assert.equal(typeof svid.issuedAt, 'number');
      assert.equal(svid.claims.sub, fake.spiffeId);
      assert.ok(Object.isFrozen(svid) && Object.isFrozen(svid.claims) && Object.isFrozen(svid.audience));
      assert.deepEqual(v.verifySync(token), svid);
      assert.match(inspect(v), /^JwtSvidVerifier \{ audience: /);
    }
  });

  test('a key rotation is followed without a restart (the Workload API pushes the new bundle)', async () => {
    const client = new WorkloadApiClient(fake.endpoint);
    const watched = await JwtSvidVerifier.create({ audience: AUD, workloadApi: fake.endpoint });
    const pinned = await JwtSvidVerifier.create({ audience: AUD, trustDomains: { 'example.org': { bundle: fake.jwtBundle() } } });
    const oldKid = fake.jwtKid;
    const old = (await client.fetchJwtSvid(AUD)).token;
    fake.rotateJwtKey();
    assert.notEqual(fake.jwtKid, oldKid);
    const fresh = (await client.fetchJwtSvid(AUD)).token;
    const svid = await eventually(() => watched.verifySync(fresh));
    assert.equal(svid.kid, fake.jwtKid);
    assert.equal((await watched.verify(old)).kid, oldKid, 'the old key stays in the bundle');
    // A verifier on the bundle as it was does not know the new key.
    await assert.rejects(pinned.verify(fresh), (e) => e instanceof InvalidTokenError && e.code === 'key_not_found');
  });

  test('allowedIds: exact IDs, trust domains and prefixes; others are spiffe_id_not_allowed', async () => {
    const v = await JwtSvidVerifier.create({ audience: AUD, workloadApi: fake.endpoint, allowedIds: ['spiffe://example.org/agents/*'] });
    const client = new WorkloadApiClient(fake.endpoint);
    const first = fake.spiffeId;
    try {
      const other = (await client.fetchJwtSvid(AUD)).token;
      await assert.rejects(v.verify(other), (e) => e instanceof InsufficientScopeError && e.code === 'spiffe_id_not_allowed');
      assert.throws(() => v.verifySync(other), (e) => e.code === 'spiffe_id_not_allowed');
      fake.setSpiffeId(AGENT);
      const agent = (await client.fetchJwtSvid(AUD)).token;
      assert.equal((await v.verify(agent)).spiffeId, AGENT);
    } finally {
      fake.setSpiffeId(first);
    }
    assert.equal(spiffeIdMatches(AGENT, ['spiffe://example.org/agents/*']), true);
    assert.equal(spiffeIdMatches(AGENT, 'spiffe://example.org'), true);
    assert.equal(spiffeIdMatches(AGENT, [AGENT]), true);
    assert.equal(spiffeIdMatches(AGENT, ['spiffe://example.org/agents/ml']), false);
    assert.equal(spiffeIdMatches(AGENT, ['spiffe://other.org', 'spiffe://example.org/billing/*']), false);
    assert.equal(spiffeIdMatches('spiffe://example.org/agents', ['spiffe://example.org/agents/*']), false);
    assert.throws(() => spiffeIdMatches(AGENT, ['spiffe://example.org/a*']), ConfigError);
    assert.throws(() => spiffeIdMatches('https://example.org/x', ['spiffe://example.org']), (e) => e instanceof InvalidTokenError && e.code === 'invalid_spiffe_id');
  });

  test('the SPIFFE error codes and their classes', async () => {
    // A trust domain without a bundle.
    const { token } = await new WorkloadApiClient(fake.endpoint).fetchJwtSvid(AUD);
    const otherTd = await JwtSvidVerifier.create({ audience: AUD, trustDomains: { 'other.org': { bundle: fake.jwtBundle() } } });
    await assert.rejects(otherTd.verify(token), (e) => e instanceof InvalidTokenError && e.code === 'unknown_trust_domain' && e.httpStatus === 401);
    // A sub that is not a SPIFFE ID.
    const bad = selfSigned({ sub: 'workload', aud: [AUD], exp: now() + 300 });
    const v = await JwtSvidVerifier.create({ audience: AUD, trustDomains: { 'example.org': { bundle: bad.bundle } } });
    await assert.rejects(v.verify(bad.token), (e) => e instanceof InvalidTokenError && e.code === 'invalid_spiffe_id');
    // Another audience, an expired SVID: the core's codes.
    const good = selfSigned({ sub: AGENT, aud: ['https://elsewhere'], exp: now() + 300 });
    const v2 = await JwtSvidVerifier.create({ audience: AUD, trustDomains: { 'example.org': { bundle: good.bundle } } });
    await assert.rejects(v2.verify(good.token), (e) => e.code === 'invalid_audience');
    const expired = selfSigned({ sub: AGENT, aud: [AUD], exp: now() - 600 });
    const v3 = await JwtSvidVerifier.create({ audience: AUD, trustDomains: { 'example.org': { bundle: expired.bundle } } });
    await assert.rejects(v3.verify(expired.token), (e) => e.code === 'token_expired');
    assert.throws(() => v3.verifySync('not a token'), (e) => e instanceof InvalidTokenError && e.code === 'malformed_token');
    await assert.rejects(v3.verify(42), TypeError);
  });

  test('bad options are ConfigErrors; a bundle endpoint not fetched yet is not at hand for verifySync', async () => {
    await assert.rejects(JwtSvidVerifier.create({ audience: AUD }), (e) => e instanceof ConfigError && /trust/.test(e.message));
    await assert.rejects(JwtSvidVerifier.create({ audience: AUD, workloadApi: true, nope: 1 }), (e) => e instanceof ConfigError && /nope/.test(e.message));
    await assert.rejects(JwtSvidVerifier.create({ workloadApi: fake.endpoint }), ConfigError);
    await assert.rejects(
      JwtSvidVerifier.create({ audience: AUD, trustDomains: { 'example.org': { bundle: {}, bundleFile: '/x' } } }),
      (e) => e instanceof ConfigError && /exactly one/.test(e.message),
    );
    await assert.rejects(JwtSvidVerifier.create({ audience: AUD, trustDomains: { 'example.org': { bundleFile: join(dir, 'none.json') } } }), ConfigError);
    assert.throws(() => new JwtSvidVerifier(), TypeError);
    const v = await JwtSvidVerifier.create({ audience: AUD, trustDomains: { 'example.org': { bundleEndpoint: 'http://127.0.0.1:9/bundle' } } });
    const { token } = await new WorkloadApiClient(fake.endpoint).fetchJwtSvid(AUD);
    assert.throws(() => v.verifySync(token), (e) => e instanceof UnavailableError && e.code === 'jwks_unavailable');
  });
});

describe('secretless token requests (auth_method spiffe_jwt) against the local server', () => {
  let server;
  let bundleFile;
  before(async () => {
    bundleFile = join(dir, 'server-bundle.json');
    writeFileSync(bundleFile, JSON.stringify(fake.jwtBundle()));
    server = await startLocalServer({
      spiffe: { trust_domains: { 'example.org': { bundle_file: bundleFile } } },
      clients: [
        {
          client_id: 'ml-agent',
          spiffe_id: 'spiffe://example.org/agents/*',
          allowed_scopes: ['read:data'],
          audiences: [AUD],
          grant_types: ['client_credentials', JWT_BEARER],
        },
      ],
    });
    fake.setSpiffeId(AGENT);
  });
  after(async () => {
    fake.setSpiffeId('spiffe://example.org/workload');
    await server?.close();
  });

  const options = (extra = {}) => ({
    tokenUrl: server.tokenEndpoint,
    authMethod: 'spiffe_jwt',
    spiffeEndpointSocket: fake.endpoint,
    spiffeAudience: server.issuer,
    audience: AUD,
    scopes: ['read:data'],
    ...extra,
  });

  /** The access token as a protected API checks it. */
  async function checked(token) {
    const claims = await server.verifier({ audience: AUD }).verify(token.accessToken, { requiredScopes: 'read:data' });
    assert.equal(claims.client_id, 'ml-agent');
    return claims;
  }

  test('the JWT-SVID as the client assertion: no secret, no client id', async () => {
    const client = new ClientCredentials(options());
    assert.match(inspect(client), /authMethod: 'spiffe_jwt'/);
    const token = await client.getToken();
    await checked(token);
    assert.equal(await client.getToken(), token, 'cached');
  });

  test('the JWT-bearer grant variant', async () => {
    const token = await new ClientCredentials(options({ spiffeGrant: 'jwt_bearer' })).getToken();
    await checked(token);
  });

  test('from AUTHSEC_* variables', async () => {
    const client = ClientCredentials.fromEnv({
      AUTHSEC_AUTH_METHOD: 'spiffe_jwt',
      AUTHSEC_TOKEN_URL: server.tokenEndpoint,
      AUTHSEC_SPIFFE_ENDPOINT_SOCKET: fake.endpoint,
      AUTHSEC_SPIFFE_AUDIENCE: server.issuer,
      AUTHSEC_AUDIENCE: AUD,
      AUTHSEC_SCOPES: 'read:data',
    });
    await checked(await client.getToken());
  });

  test('after a key rotation (the server re-reads its bundle file) new SVIDs still get tokens', async () => {
    fake.rotateJwtKey();
    writeFileSync(bundleFile, JSON.stringify(fake.jwtBundle()));
    const client = new ClientCredentials(options({ spiffeReuseSvid: false, maxAttempts: 1 }));
    const token = await eventually(async () => {
      client.invalidate();
      return client.getToken();
    });
    await checked(token);
  });

  test('a SPIFFE ID the server does not know is refused; no agent is retryable', async () => {
    fake.setSpiffeId('spiffe://example.org/billing');
    try {
      await assert.rejects(new ClientCredentials(options({ maxAttempts: 1 })).getToken(), (e) => e.code === 'invalid_client');
    } finally {
      fake.setSpiffeId(AGENT);
    }
    const missing = new ClientCredentials(options({ spiffeEndpointSocket: `unix://${join(dir, 'nobody.sock')}`, maxAttempts: 1 }));
    await assert.rejects(missing.getToken(), (e) => e instanceof UnavailableError && e.code === 'workload_api_unavailable' && e.retryable);
    assert.throws(() => new ClientCredentials(options({ clientSecret: 'x' })), ConfigError);
  });
});
