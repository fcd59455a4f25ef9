// Client management, the JS layer: every core operation has its method and sends what it names,
// lists are fetched lazily a page at a time, Dates become Unix seconds, and secrets stay out of
// util.inspect, JSON and error messages. Against a stub /admin API on 127.0.0.1 that records
// each request (the real server's management API: management-server.test.mjs).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import {
  Management,
  AuthsecManagement,
  ManagedClient,
  NewSecret,
  AuditEvent,
  Paginated,
  ConfigError,
  ManagementError,
  AuthsecError,
} from '../index.mjs';
import sdk from '../index.js';
import { listen } from './helpers.mjs';

const ADMIN_TOKEN = 'adm-T0ken-never-shown-4f2a';
const GENERATED = 'gen-S3cret-never-shown-9c1d';
const PAGES = { '': [['c-1', 'c-2'], 'c0'], c0: [['c-3', 'c-4'], 'c0b'], c0b: [['c-5'], null] };

/** A stub management API: answers by path, records `METHOD path?query` and bodies. */
async function stubAdmin() {
  const seen = [];
  const srv = await listen((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const url = new URL(req.url, 'http://x');
      seen.push({ method: req.method, path: url.pathname, search: url.search, query: Object.fromEntries(url.searchParams), body: body ? JSON.parse(body) : null, auth: req.headers.authorization });
      const send = (status, v) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(v === undefined ? '' : JSON.stringify(v));
      };
      const p = url.pathname;
      if (req.method === 'DELETE' && !p.includes('/secrets/')) return send(204);
      if (p === '/admin/clients/missing') return send(404, { error: 'not_found', error_description: 'no client missing' });
      if (p === '/admin/clients/leaky') {
        return send(400, { error: 'invalid_client_metadata', error_description: `client_secret ${GENERATED} / ${ADMIN_TOKEN} is invalid` });
      }
      if (req.method === 'GET' && p === '/admin/clients') {
        // Three pages: c-1 c-2 | c-3 c-4 | c-5.
        const [ids, next] = PAGES[url.searchParams.get('cursor') ?? ''];
        return send(200, { clients: ids.map((client_id) => ({ client_id, type: 'm2m' })), next_cursor: next });
      }
      if (req.method === 'GET' && p === '/admin/logs') {
        return send(200, { logs: [{ id: 7, ts: 1700000000.5, event: 'token', outcome: 'failure', client_id: 'c-1', reason: 'bad secret' }], next_cursor: null });
      }
      if (req.method === 'GET' && ['/admin/scopes', '/admin/roles', '/admin/keys'].includes(p)) {
        return send(200, { [p.slice(7)]: [], next_cursor: null });
      }
      if (req.method === 'POST' && p === '/admin/clients') {
        return send(201, { client_id: 'c-new', type: 'm2m', client_secret: GENERATED, secret_id: 'sid_aaaaaaaaaaaa', secrets: [] });
      }
      if (p.endsWith('/secrets') && req.method === 'POST') {
        return send(200, { client_id: 'c-1', client_secret: GENERATED, secret_id: 'sid_bbbbbbbbbbbb', old_secrets_expire_at: 1700086400, secrets: [] });
      }
      if (p.includes('/secrets/')) return send(200, { client_id: 'c-1', secrets: [] });
      if (p.startsWith('/admin/roles/')) return send(200, { name: 'reader', scopes: ['a'], audiences: [] });
      return send(req.method === 'POST' ? 201 : 200, { name: 'x', client_id: 'c-1', kid: 'k' });
    });
  });
  return { ...srv, seen };
}

describe('management: the JS layer', () => {
  let stub;
  let m;
  before(async () => {
    stub = await stubAdmin();
    m = new Management({ baseUrl: stub.url, adminToken: ADMIN_TOKEN });
  });
  after(() => stub.close());

  it('is exported under both names, from CommonJS and ESM', () => {
    assert.equal(AuthsecManagement, Management);
    assert.equal(sdk.Management, Management);
    assert.equal(sdk.ManagedClient, ManagedClient);
  });

  it('wraps every core operation in a method that sends that operation', async () => {
    // Each operation's method (namespace + camelCase), the call that exercises it, and the request it must send.
    const calls = {
      'clients.create': [() => m.clients.create({ type: 'm2m' }), 'POST /admin/clients'],
      'clients.get': [() => m.clients.get('c 1/x'), 'GET /admin/clients/c%201%2Fx'],
      'clients.list': [() => m.clients.list({ type: 'm2m' }).toArray(), 'GET /admin/clients'],
      'clients.update': [() => m.clients.update({ client_id: 'c-1', name: 'n' }), 'PATCH /admin/clients/c-1'],
      'clients.delete': [() => m.clients.delete({ client_id: 'c-1' }), 'DELETE /admin/clients/c-1'],
      'clients.rotate_secret': [() => m.clients.rotateSecret({ client_id: 'c-1', overlap: 0 }), 'POST /admin/clients/c-1/secrets'],
      'clients.revoke_secret': [() => m.clients.revokeSecret({ client_id: 'c-1' }), 'DELETE /admin/clients/c-1/secrets/old'],
      'scopes.create': [() => m.scopes.create({ name: 'read:data', description: 'd' }), 'POST /admin/scopes'],
      'scopes.list': [() => m.scopes.list().toArray(), 'GET /admin/scopes'],
      'scopes.delete': [() => m.scopes.delete('read:data'), 'DELETE /admin/scopes/read%3Adata'],
      'roles.create': [() => m.roles.create({ name: 'reader', scopes: ['a'] }), 'POST /admin/roles'],
      'roles.get': [() => m.roles.get('reader'), 'GET /admin/roles/reader'],
      'roles.list': [() => m.roles.list().toArray(), 'GET /admin/roles'],
      'roles.update': [() => m.roles.update({ name: 'reader', scopes: ['b'], audiences: [] }), 'PUT /admin/roles/reader'],
      'roles.delete': [() => m.roles.delete({ name: 'reader' }), 'DELETE /admin/roles/reader'],
      'logs.list': [() => m.logs.list({ outcome: 'failure' }).toArray(), 'GET /admin/logs'],
      'keys.list': [() => m.keys.list().toArray(), 'GET /admin/keys'],
      'keys.rotate': [() => m.keys.rotate(), 'POST /admin/keys/rotate'],
    };
    assert.deepEqual(Object.keys(calls).sort(), [...Management.operations()].sort());
    for (const op of Management.operations()) {
      const [ns, name] = op.split('.');
      const method = name.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
      assert.equal(typeof m[ns][method], 'function', `${op}: management.${ns}.${method}`);
      const before = stub.seen.length;
      await calls[op][0]();
      const sent = stub.seen.slice(before).map((r) => `${r.method} ${r.path}`);
      assert.ok(sent.includes(calls[op][1]), `${op} sent ${sent.join(', ')}`);
      assert.equal(stub.seen.at(-1).auth, `Bearer ${ADMIN_TOKEN}`);
    }
  });

  it('passes the arguments as the wire names them', async () => {
    stub.seen.length = 0;
    await m.clients.rotateSecret({ client_id: 'c-1', overlap: 3600 });
    await m.clients.revokeSecret({ client_id: 'c-1', secret_id: 'sid_cccccccccccc' });
    await m.clients.create({ type: 'ai_agent', rate_limits: { requests_per_minute: 3 } });
    assert.deepEqual(stub.seen[0].body, { overlap: 3600 });
    assert.equal(stub.seen[1].path, '/admin/clients/c-1/secrets/sid_cccccccccccc');
    assert.deepEqual(stub.seen[2].body, { type: 'ai_agent', rate_limits: { requests_per_minute: 3 } });
  });

  it('fetches list pages lazily, pageSize at a time, following next_cursor', async () => {
    stub.seen.length = 0;
    const list = m.clients.list({ pageSize: 2, type: 'm2m' });
    assert.ok(list instanceof Paginated);
    assert.equal(stub.seen.length, 0, 'nothing is sent before iterating');
    const it = list[Symbol.asyncIterator]();
    assert.equal((await it.next()).value.client_id, 'c-1');
    assert.equal(stub.seen.length, 1, 'one page for the first item');
    const ids = ['c-1'];
    for (let r = await it.next(); !r.done; r = await it.next()) ids.push(r.value.client_id);
    assert.deepEqual(ids, ['c-1', 'c-2', 'c-3', 'c-4', 'c-5']);
    assert.deepEqual(
      stub.seen.map((r) => r.query),
      [{ limit: '2', type: 'm2m' }, { limit: '2', type: 'm2m', cursor: 'c0' }, { limit: '2', type: 'm2m', cursor: 'c0b' }],
    );
    const pages = [];
    for await (const page of m.clients.list({ pageSize: 2 }).pages()) pages.push([page.items.map((c) => c.client_id), page.next_cursor]);
    assert.deepEqual(pages, [[['c-1', 'c-2'], 'c0'], [['c-3', 'c-4'], 'c0b'], [['c-5'], null]]);
    assert.ok((await m.clients.list().toArray()).every((c) => c instanceof ManagedClient));
  });

  it('sends since/until Dates as Unix seconds, and event lists as repeated parameters', async () => {
    stub.seen.length = 0;
    const since = new Date(1700000000250);
    const events = await m.logs.list({ client_id: 'c-1', event: 'token', outcome: 'failure', since, until: 1700000100 }).toArray();
    assert.deepEqual(stub.seen[0].query, { client_id: 'c-1', event: 'token', outcome: 'failure', since: '1700000000.25', until: '1700000100' });
    assert.ok(events[0] instanceof AuditEvent);
    assert.equal(events[0].reason, 'bad secret', "the event's other fields are kept");
    stub.seen.length = 0;
    await m.logs.list({ event: ['token', 'token_exchange'] }).toArray();
    assert.equal(stub.seen[0].search, '?event=token&event=token_exchange');
  });

  it('keeps a generated secret readable by name but out of inspect, JSON and spreads', async () => {
    const created = await m.clients.create({});
    assert.ok(created instanceof ManagedClient);
    assert.equal(created.client_secret, GENERATED);
    assert.equal(created.secret_id, 'sid_aaaaaaaaaaaa');
    const { client_secret } = created;
    assert.equal(client_secret, GENERATED);
    for (const shown of [inspect(created, { depth: 5 }), JSON.stringify(created), JSON.stringify({ ...created }), String(Object.keys(created))]) {
      assert.ok(!shown.includes(GENERATED), shown);
    }
    assert.match(inspect(created), /^ManagedClient \{.*client_secret: '\*\*\*'/s);
    const rotated = await m.clients.rotateSecret('c-1');
    assert.ok(rotated instanceof NewSecret);
    assert.equal(rotated.client_secret, GENERATED);
    assert.ok(!inspect(rotated).includes(GENERATED) && !JSON.stringify(rotated).includes(GENERATED));
    assert.ok(Object.isFrozen(rotated));
    assert.ok(!inspect(m).includes(ADMIN_TOKEN));
    assert.match(inspect(m), /credentials: 'admin_token'/);
  });

  it('raises the core errors as AuthsecError subclasses, with no secret in the message', async () => {
    const missing = await m.clients.get({ client_id: 'missing' }).catch((e) => e);
    assert.ok(missing instanceof ManagementError, inspect(missing));
    assert.equal(missing.code, 'not_found');
    const leaky = await m.clients.get('leaky').catch((e) => e);
    assert.equal(leaky.code, 'invalid_client_metadata');
    assert.ok(!leaky.message.includes(ADMIN_TOKEN), leaky.message);
    const unknownArg = await m.clients.get({ client_id: 'c-1', bogus: 1 }).catch((e) => e);
    assert.ok(unknownArg instanceof ConfigError && /bogus/.test(unknownArg.message), unknownArg.message);
    const noId = await m.clients.rotateSecret({}).catch((e) => e);
    assert.ok(noId instanceof ConfigError && /client_id/.test(noId.message), noId.message);
    const unknownOp = await m.call('clients.frobnicate', {}).catch((e) => e);
    assert.ok(unknownOp instanceof AuthsecError && /clients\.frobnicate/.test(unknownOp.message), unknownOp.message);
    await assert.rejects(() => m.clients.get(42), TypeError);
  });

  it('reads its settings in the core: an unknown one, or neither base URL nor domain, is a ConfigError', () => {
    assert.throws(() => new Management({ baseUrl: stub.url, adminToken: 'x', clientSecrett: 'y' }), (e) => e instanceof ConfigError && /clientSecrett/.test(e.message));
    assert.throws(() => new Management({ adminToken: 'x' }), (e) => e instanceof ConfigError && /base_url|domain/.test(e.message));
    assert.throws(() => new Management(), TypeError);
    const viaDomain = new Management({ domain: 'auth.example.com', clientId: 'ops', clientSecret: 'never-shown-7' });
    assert.equal(inspect(viaDomain), "Management { baseUrl: 'auth.example.com', clientId: 'ops' }");
  });
});
