// Client management against the real local server (its /admin API, contract of issue 18): the
// bootstrap with the admin token, every client type, secret rotation under load with no request
// lost, per-agent rate limits, the audit log, pagination, scopes, roles, and a client secret file
// read again after a rotation.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Management, ClientCredentials, ManagedClient, NewSecret, ManagementError, InvalidClientError, RateLimitedError } from '../index.mjs';
import { startLocalServer, requestCount } from '../testing.mjs';

const ADMIN_TOKEN = 'bootstrap-Adm1n-Token-5e8b0c';
const MANAGEMENT_SCOPES = ['clients:read', 'clients:write', 'scopes:read', 'scopes:write', 'roles:read', 'roles:write', 'logs:read'];

/** A token with a client's secret (no cache between calls: one token request each, no retries). */
async function tokenWith(server, clientId, clientSecret) {
  return new ClientCredentials({ tokenUrl: server.tokenEndpoint, clientId, clientSecret, maxAttempts: 1 }).getToken();
}

/** Every item of a Paginated. */
const all = (list) => list.toArray();

describe('management against the local server', () => {
  let server;
  let dir;
  let bootstrap;
  let ops;
  let verifier;
  /** The management client the bootstrap test made (the other tests need it). */
  const mgmt = () => ops ?? assert.fail('no management client: the bootstrap test failed');

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'authsec-mgmt-'));
    server = await startLocalServer({ admin_token: ADMIN_TOKEN, audit_log: join(dir, 'audit.log') });
    verifier = server.verifier({ audience: server.issuer });
    bootstrap = new Management({ baseUrl: server.issuer, adminToken: ADMIN_TOKEN });
  });
  after(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('bootstraps a management client with the admin token, which is then refused', async () => {
    const created = await bootstrap.clients.create({ client_id: 'ops', name: 'Operations', allowed_scopes: MANAGEMENT_SCOPES });
    assert.ok(created instanceof ManagedClient);
    assert.equal(created.client_id, 'ops');
    assert.equal(created.type, 'm2m');
    assert.equal(typeof created.client_secret, 'string');
    assert.match(created.secret_id, /^sid_[A-Za-z0-9_-]{12}$/);
    assert.ok(!inspect(created).includes(created.client_secret) && !JSON.stringify(created).includes(created.client_secret));
    const m = new Management({ baseUrl: server.issuer, clientId: created.client_id, clientSecret: created.client_secret });
    const got = await m.clients.get('ops');
    assert.deepEqual([...got.effective_scopes].sort(), [...MANAGEMENT_SCOPES].sort());
    assert.equal(got.client_secret, undefined, 'a secret is shown only when created');
    const refused = await bootstrap.clients.list().toArray().catch((e) => e);
    assert.ok(refused instanceof ManagementError, inspect(refused));
    assert.equal(refused.code, 'access_denied');
    assert.equal(refused.oauthError, 'invalid_token');
    assert.match(refused.message, /bootstrap/i);
    assert.ok(!refused.message.includes(ADMIN_TOKEN));
    ops = m;
  });

  it('creates every client type, and each client-credentials type gets a token that verifies', async () => {
    const m2m = await mgmt().clients.create({ client_id: 'type-m2m', allowed_scopes: ['read:data'] });
    const agent = await mgmt().clients.create({ client_id: 'type-agent', type: 'ai_agent', rate_limits: { requests_per_minute: 100, tokens_per_day: 1000 } });
    const mcp = await mgmt().clients.create({ client_id: 'type-mcp', type: 'mcp_server', resource: 'https://mcp.example.test/mcp' });
    const web = await mgmt().clients.create({ client_id: 'type-web', type: 'web', callbacks: ['https://app.example.test/callback'] });
    const mobile = await mgmt().clients.create({ client_id: 'type-mobile', type: 'mobile', callbacks: ['com.example.app:/callback'] });
    assert.deepEqual([m2m.type, agent.type, mcp.type, web.type, mobile.type], ['m2m', 'ai_agent', 'mcp_server', 'web', 'mobile']);
    assert.deepEqual(agent.rate_limits, { requests_per_minute: 100, tokens_per_day: 1000 });
    assert.equal(mcp.resource, 'https://mcp.example.test/mcp');
    assert.deepEqual(web.callbacks, ['https://app.example.test/callback']);
    assert.deepEqual(mobile.callbacks, ['com.example.app:/callback']);
    assert.deepEqual(web.grant_types, ['authorization_code', 'refresh_token']);
    assert.deepEqual(mobile.grant_types, ['authorization_code', 'refresh_token']);
    for (const c of [m2m, agent, mcp, web]) assert.equal(typeof c.client_secret, 'string', `${c.type} is confidential`);
    assert.equal(mobile.client_secret, undefined, 'a mobile app is public');
    assert.deepEqual(mobile.secrets, []);
    for (const c of [m2m, agent, mcp]) {
      const token = await tokenWith(server, c.client_id, c.client_secret);
      const claims = await verifier.verify(token.accessToken);
      assert.equal(claims.client_id ?? claims.sub, c.client_id);
    }
    const bad = await mgmt().clients.create({ type: 'mobile', callbacks: ['com.example.app:/cb'], client_secret: 'a-mobile-secret-1' }).catch((e) => e);
    assert.ok(bad instanceof ManagementError, inspect(bad));
    assert.equal(bad.code, 'invalid_client_metadata');
    assert.match(bad.message, /client_secret/);
    assert.ok(!bad.message.includes('a-mobile-secret-1'));
  });

  it('rotates a secret under load (100 token requests/s) without losing a request, then revokes the old one', async () => {
    const c = await mgmt().clients.create({ client_id: 'busy', rate_limit: 100000 });
    const old = { secret: c.client_secret, id: c.secret_id };
    let current = { secret: old.secret, which: 'old' };
    const RATE = 100;
    const WORKERS = 4;
    const DURATION_MS = 3000;
    const MAX = (RATE * DURATION_MS) / 1000;
    const outcome = { ok: 0, old: 0, new: 0, failures: [] };
    const t0 = performance.now();
    const worker = async (w) => {
      for (let i = w; i < MAX; i += WORKERS) {
        const wait = t0 + (i * 1000) / RATE - performance.now();
        if (wait > 0) await sleep(wait);
        const { secret, which } = current;
        try {
          await tokenWith(server, 'busy', secret);
          outcome.ok++;
          outcome[which]++;
        } catch (e) {
          outcome.failures.push(`${which}: ${e.code} ${e.message}`);
        }
      }
    };
    const rotation = (async () => {
      await sleep(1000);
      const rotated = await mgmt().clients.rotateSecret({ client_id: 'busy' });
      current = { secret: rotated.client_secret, which: 'new' };
      return rotated;
    })();
    const [rotated] = await Promise.all([rotation, ...Array.from({ length: WORKERS }, (_, w) => worker(w))]);
    const elapsed = performance.now() - t0;
    assert.deepEqual(outcome.failures, []);
    assert.equal(outcome.ok, MAX, 'every request got a token');
    assert.ok(outcome.old > 0 && outcome.new > 0, `old ${outcome.old}, new ${outcome.new}`);
    assert.ok(elapsed < 20000, `${MAX} requests took ${elapsed} ms`);
    assert.ok(rotated instanceof NewSecret);
    assert.notEqual(rotated.secret_id, old.id);
    assert.ok(Math.abs(rotated.old_secrets_expire_at - (Date.now() / 1000 + 86400)) < 120, 'the default overlap is a day');
    assert.deepEqual(rotated.secrets.map((s) => s.id).sort(), [old.id, rotated.secret_id].sort());

    const revoked = await mgmt().clients.revokeSecret({ client_id: 'busy', secret_id: old.id });
    // Only the new secret is usable (a revoked one may still be listed, expired).
    const now = Date.now() / 1000;
    const usable = revoked.secrets.filter((s) => s.expires_at === null || s.expires_at > now);
    assert.deepEqual(usable.map((s) => s.id), [rotated.secret_id]);
    const refused = await tokenWith(server, 'busy', old.secret).catch((e) => e);
    assert.ok(refused instanceof InvalidClientError, inspect(refused));
    assert.equal(refused.code, 'invalid_client');
    assert.ok(!refused.message.includes(old.secret));
    await tokenWith(server, 'busy', rotated.client_secret);

    // The audit log says which secret each issuance used.
    const used = new Set();
    for await (const e of mgmt().logs.list({ client_id: 'busy', event: 'token', outcome: 'success', pageSize: 200 })) used.add(e.secret_id);
    assert.ok(used.has(old.id) && used.has(rotated.secret_id), [...used].join(' '));
  });

  it("enforces an ai_agent's requests_per_minute: the 4th token request is rate_limited", async () => {
    const a = await mgmt().clients.create({ client_id: 'slow-agent', type: 'ai_agent', rate_limits: { requests_per_minute: 3 } });
    for (let i = 0; i < 3; i++) await tokenWith(server, a.client_id, a.client_secret);
    const limited = await tokenWith(server, a.client_id, a.client_secret).catch((e) => e);
    assert.ok(limited instanceof RateLimitedError, inspect(limited));
    assert.equal(limited.code, 'rate_limited');
    assert.ok(limited.retryAfter > 0 && limited.retryAfter <= 60, `retryAfter ${limited.retryAfter}`);
  });

  it('logs a failed authentication, and pages the log without gaps or repeats', async () => {
    const c = await mgmt().clients.create({ client_id: 'audited' });
    await tokenWith(server, 'audited', c.client_secret);
    await tokenWith(server, 'audited', c.client_secret);
    const wrong = await tokenWith(server, 'audited', 'not-the-secret-0').catch((e) => e);
    assert.equal(wrong.code, 'invalid_client');
    const since = new Date(Date.now() - 60_000);
    const failures = await all(mgmt().logs.list({ client_id: 'audited', outcome: 'failure', since }));
    assert.equal(failures.length, 1, inspect(failures));
    assert.equal(failures[0].event, 'token');
    assert.equal(failures[0].outcome, 'failure');
    assert.equal(failures[0].client_id, 'audited');
    assert.ok(!JSON.stringify(failures).includes('not-the-secret-0'));

    const before = await all(mgmt().logs.list({ client_id: 'audited', pageSize: 200 }));
    assert.ok(before.length >= 3, `${before.length} events`);
    const pages = [];
    for await (const page of mgmt().logs.list({ client_id: 'audited', pageSize: 2 }).pages()) pages.push(page.items);
    const paged = pages.flat();
    const afterAll = await all(mgmt().logs.list({ client_id: 'audited', pageSize: 200 }));
    assert.ok(pages.length >= 2 && pages.every((p) => p.length <= 2), pages.map((p) => p.length).join(' '));
    assert.equal(new Set(paged.map((e) => e.id)).size, paged.length, 'no repeats');
    for (let i = 1; i < paged.length; i++) assert.ok(paged[i - 1].ts >= paged[i].ts, 'newest first');
    const pagedIds = new Set(paged.map((e) => e.id));
    for (const e of before) assert.ok(pagedIds.has(e.id), `event ${e.id} missing from the pages`);
    const allIds = new Set(afterAll.map((e) => e.id));
    for (const e of paged) assert.ok(allIds.has(e.id));
  });

  it('pages clients.list across pages, ordered by client_id', async () => {
    for (let i = 0; i < 5; i++) await mgmt().clients.create({ client_id: `page-${i}` });
    const pages = [];
    for await (const page of mgmt().clients.list({ pageSize: 2 }).pages()) pages.push(page.items.map((c) => c.client_id));
    const ids = pages.flat();
    assert.ok(pages.length >= 3 && pages.every((p) => p.length <= 2));
    assert.equal(new Set(ids).size, ids.length);
    assert.deepEqual(ids, [...ids].sort());
    for (let i = 0; i < 5; i++) assert.ok(ids.includes(`page-${i}`));
    assert.deepEqual(ids, (await all(mgmt().clients.list({ pageSize: 200 }))).map((c) => c.client_id));
    const agents = await all(mgmt().clients.list({ type: 'ai_agent' }));
    assert.ok(agents.length >= 2 && agents.every((c) => c.type === 'ai_agent'));
  });

  it('registers, lists and deletes scopes; deleting one in use is a conflict', async () => {
    const s = await mgmt().scopes.create({ name: 'read:reports', description: 'Read reports' });
    assert.equal(s.name, 'read:reports');
    const again = await mgmt().scopes.create('read:reports').catch((e) => e);
    assert.ok(again instanceof ManagementError && again.code === 'conflict', inspect(again));
    await mgmt().clients.create({ client_id: 'reporter', allowed_scopes: ['read:reports'] });
    const listed = (await all(mgmt().scopes.list())).find((x) => x.name === 'read:reports');
    assert.equal(listed.description, 'Read reports');
    assert.deepEqual(listed.clients, ['reporter']);
    const inUse = await mgmt().scopes.delete('read:reports').catch((e) => e);
    assert.ok(inUse instanceof ManagementError && inUse.code === 'conflict', inspect(inUse));
    assert.match(inUse.message, /reporter/);
    await mgmt().clients.delete('reporter');
    await mgmt().scopes.delete({ name: 'read:reports' });
    assert.ok(!(await all(mgmt().scopes.list())).some((x) => x.name === 'read:reports'));
  });

  it('round-trips a role; an update changes only what it names', async () => {
    const r = await mgmt().roles.create({ name: 'auditor', scopes: ['read:logs'], audiences: ['https://api.example.test'] });
    assert.equal(r.name, 'auditor');
    assert.deepEqual((await mgmt().roles.get('auditor')).scopes, ['read:logs']);
    assert.ok((await all(mgmt().roles.list())).some((x) => x.name === 'auditor'));
    const u = await mgmt().roles.update({ name: 'auditor', scopes: ['read:logs', 'read:metrics'] });
    assert.deepEqual(u.scopes, ['read:logs', 'read:metrics']);
    assert.deepEqual(u.audiences, ['https://api.example.test']);
    await mgmt().roles.delete('auditor');
    const gone = await mgmt().roles.get('auditor').catch((e) => e);
    assert.equal(gone.code, 'not_found');
  });

  it('answers not_found for a missing client', async () => {
    const e = await mgmt().clients.get({ client_id: 'no-such-client' }).catch((x) => x);
    assert.ok(e instanceof ManagementError, inspect(e));
    assert.equal(e.code, 'not_found');
    assert.equal(e.status, 404);
    const d = await mgmt().clients.delete('no-such-client').catch((x) => x);
    assert.equal(d.code, 'not_found');
  });

  it('reads a client_secret_file again after invalid_client (rotation with overlap 0)', async () => {
    const c = await mgmt().clients.create({ client_id: 'from-file' });
    const file = join(dir, 'secret');
    writeFileSync(file, `${c.client_secret}\n`);
    const client = new ClientCredentials({ tokenUrl: server.tokenEndpoint, clientId: 'from-file', clientSecretFile: file, maxAttempts: 1 });
    await client.getToken();
    const rotated = await mgmt().clients.rotateSecret({ client_id: 'from-file', overlap: 0 });
    writeFileSync(file, `${rotated.client_secret}\n`);
    client.invalidate();
    const sent = requestCount(client);
    const token = await client.getToken();
    assert.equal(requestCount(client) - sent, 2, 'refused with the old secret, then sent once more with the file read again');
    const claims = await verifier.verify(token.accessToken);
    assert.equal(claims.client_id ?? claims.sub, 'from-file');
    assert.ok(!inspect(client).includes(rotated.client_secret));
  });
});
