// Against a real SPIRE server and agent (tests/spire): skipped unless AUTHSEC_SPIRE_DIR is set,
// and failing (not skipping) when AUTHSEC_REQUIRE_SPIRE=1 is set without SPIRE. Run it with
//   tests/spire/run.sh env AUTHSEC_REQUIRE_SPIRE=1 node --test bindings-node/test/spire.test.mjs
// (from the repository root, the addons built: bindings-node/test.sh or npm ci in bindings-node).
//
// The scenario: a JWT-SVID from the agent, verified with the agent's bundles (watched) and with
// the server's bundle file; the local authorization server trusting example.org from that file
// issues an access token to the workload with no secret anywhere (auth_method spiffe_jwt), and the
// token verifies as a protected API checks it; then the JWT key rotates (tests/spire/ctl.sh
// rotate, taint) and everything keeps working with new-kid SVIDs, without a restart; after the
// revoke, the old key's SVIDs are refused by the watched verifier.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { JwtSvidVerifier, WorkloadApiClient, ClientCredentials, InvalidTokenError } from '../index.mjs';
import { startLocalServer } from '../testing.mjs';

const env = process.env;
const haveSpire = Boolean(env.AUTHSEC_SPIRE_DIR && env.SPIFFE_ENDPOINT_SOCKET);
const ctlScript = fileURLToPath(new URL('../../tests/spire/ctl.sh', import.meta.url));
const AUD = 'https://api.example';

if (!haveSpire && env.AUTHSEC_REQUIRE_SPIRE === '1') {
  test('SPIRE is required (AUTHSEC_REQUIRE_SPIRE=1)', () => {
    assert.fail('AUTHSEC_REQUIRE_SPIRE=1 but AUTHSEC_SPIRE_DIR / SPIFFE_ENDPOINT_SOCKET are not set: run this under tests/spire/run.sh');
  });
}

/** tests/spire/ctl.sh OP: its last line (a kid for rotate, taint, revoke). */
function ctl(op) {
  const out = execFileSync(ctlScript, [op], { encoding: 'utf8', timeout: 90_000, stdio: ['ignore', 'pipe', 'inherit'] });
  return out.trim().split('\n').pop();
}

const kidOf = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url')).kid;

/** Poll `check` (which throws until it holds) for at most `ms`. */
async function eventually(check, ms = 20_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

describe('a real SPIRE agent', { skip: haveSpire ? false : 'no SPIRE: run under tests/spire/run.sh' }, () => {
  const spiffeId = env.AUTHSEC_SPIRE_SPIFFE_ID;
  const td = env.AUTHSEC_SPIRE_TRUST_DOMAIN ?? 'example.org';
  let server;
  let watched;
  let agent;

  before(async () => {
    agent = new WorkloadApiClient();
    watched = await JwtSvidVerifier.create({ audience: AUD, workloadApi: true, allowedIds: [`spiffe://${td}/agents/*`] });
    server = await startLocalServer({
      spiffe: { trust_domains: { [td]: { bundle_file: env.AUTHSEC_SPIRE_BUNDLE_FILE } } },
      clients: [{ client_id: 'ml-agent', spiffe_id: `spiffe://${td}/agents/*`, allowed_scopes: ['read:data'], audiences: [AUD] }],
    });
  });
  after(async () => {
    await server?.close();
  });

  /** A token from the local server with no secret, checked as a protected API checks it. */
  async function secretlessToken() {
    const client = new ClientCredentials({
      tokenUrl: server.tokenEndpoint,
      authMethod: 'spiffe_jwt',
      spiffeAudience: server.issuer,
      audience: AUD,
      scopes: 'read:data',
      maxAttempts: 1,
    });
    const token = await client.getToken();
    const claims = await server.verifier({ audience: AUD }).verify(token.accessToken, { requiredScopes: 'read:data' });
    assert.equal(claims.client_id, 'ml-agent');
    return token;
  }

  test('fetch a JWT-SVID and verify it (the agent\'s bundles, and the bundle file)', async () => {
    const svid = await agent.fetchJwtSvid(AUD);
    assert.equal(svid.spiffeId, spiffeId);
    const byFile = await JwtSvidVerifier.create({ audience: AUD, trustDomains: { [td]: { bundleFile: env.AUTHSEC_SPIRE_BUNDLE_FILE } } });
    for (const v of [watched, byFile]) {
      const s = await v.verify(svid.token);
      assert.equal(s.spiffeId, spiffeId);
      assert.equal(s.trustDomain, td);
      assert.equal(s.kid, kidOf(svid.token));
      assert.deepEqual(s.audience, [AUD]);
    }
    const bundles = await agent.fetchJwtBundles();
    assert.ok(bundles[td].keys.some((k) => k.kid === kidOf(svid.token)));
    const x509 = await agent.fetchX509Svid();
    assert.equal(x509.spiffeId, spiffeId);
  });

  test('an access token from the local server with no secret', async () => {
    await secretlessToken();
  });

  test('a JWT key rotation: new-kid SVIDs verify and still get tokens, without a restart', async () => {
    const oldSvid = (await agent.fetchJwtSvid(AUD)).token;
    const oldKid = kidOf(oldSvid);
    const newKid = ctl('rotate');
    assert.notEqual(newKid, oldKid);
    // A fresh audience gets an SVID of the new key (the agent caches per audience).
    const fresh = (await agent.fetchJwtSvid([AUD, `https://rotation-${Date.now()}.example`])).token;
    assert.equal(kidOf(fresh), newKid);
    assert.equal((await eventually(() => watched.verify(fresh))).kid, newKid);
    // Taint the old key: the agent re-signs every SVID, the server's audience included.
    ctl('taint');
    const again = await eventually(async () => {
      const t = (await agent.fetchJwtSvid(server.issuer)).token;
      assert.equal(kidOf(t), newKid);
      return t;
    });
    assert.ok(again);
    // The server reads its bundle file again when it changes (ctl.sh rewrote it).
    await eventually(() => secretlessToken());
    // Revoke: the old key leaves the agent's bundle; the watched verifier follows.
    ctl('revoke');
    await eventually(async () => {
      await assert.rejects(watched.verify(oldSvid), (e) => e instanceof InvalidTokenError && e.code === 'key_not_found');
    });
    assert.equal((await watched.verify(fresh)).kid, newKid);
    await secretlessToken();
  });
});
