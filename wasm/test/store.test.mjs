// The pluggable JWKS cache (`jwksCache`): edge isolates lose memory between requests, so a
// verifier in a cold isolate takes the JWKS an earlier one saved (no fetch), in a KV-shaped store.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Verifier, AuthsecError, workersKvStore } from '../index.js';
import { AUDIENCE, serverConfig, startAuthServer, clientCredentials, countingProxy } from './support/auth-server.mjs';

const CLIENT = { clientId: 'wasm-store', clientSecret: 'wasm-store-Secret-7c1e90d2' };
const JWKS_PATH = '/.well-known/jwks.json';
let server;
let proxy;

before(async () => {
  server = await startAuthServer(serverConfig(CLIENT));
  proxy = await countingProxy(server.issuer);
});
after(async () => {
  await proxy?.close();
  await server?.stop();
});

/** A Workers-KV-like store: async get/put with a TTL. */
function kv() {
  const map = new Map();
  return {
    map,
    async get(key) {
      return map.get(key)?.value ?? null;
    },
    async set(key, value, ttlSeconds) {
      map.set(key, { value, ttlSeconds });
    },
  };
}

test('a cold verifier uses the stored JWKS instead of fetching', async () => {
  const store = kv();
  const token = (await clientCredentials(server.tokenEndpoint, { ...CLIENT, scope: 'read:data', audience: AUDIENCE }))
    .access_token;
  const opts = { issuer: server.issuer, audience: AUDIENCE, jwksUri: proxy.origin + JWKS_PATH, jwksCache: store };
  const first = new Verifier(opts);
  assert.equal((await first.verify(token, { requiredScopes: 'read:data' })).client_id, CLIENT.clientId);
  assert.equal(proxy.count(JWKS_PATH), 1);
  const [[key, entry]] = [...store.map];
  assert.equal(key, `authsec:jwks:${proxy.origin}${JWKS_PATH}`);
  assert.ok(entry.ttlSeconds > 0 && entry.ttlSeconds <= 86400, `ttl ${entry.ttlSeconds}`);
  assert.match(JSON.parse(entry.value).jwks, /"keys"/);

  // A new isolate: new verifier, same store, no fetch.
  const cold = new Verifier(opts);
  assert.equal((await cold.verify(token)).client_id, CLIENT.clientId);
  assert.equal(proxy.count(JWKS_PATH), 1, 'the stored JWKS was used');

  // A store holding garbage is not trusted: the verifier fetches.
  for (const k of store.map.keys()) store.map.set(k, { value: '{"jwks":"nope","fresh_until_ms":9e15}', ttlSeconds: 1 });
  await new Verifier(opts).verify(token);
  assert.equal(proxy.count(JWKS_PATH), 2);

  // A synchronous store works too; a store that throws is ignored.
  const sync = new Map();
  await new Verifier({ ...opts, jwksCache: { get: (k) => sync.get(k), set: (k, v) => sync.set(k, v) } }).verify(token);
  assert.equal(sync.size, 1);
  const broken = { get() { throw new Error('kv down'); }, set() { throw new Error('kv down'); } };
  assert.equal((await new Verifier({ ...opts, jwksCache: broken }).verify(token)).client_id, CLIENT.clientId);
});

test('jwksCache must be a store, and only with jwksUri', () => {
  assert.throws(() => new Verifier({ issuer: 'https://i', audience: 'a', jwksUri: 'https://i/jwks', jwksCache: {} }),
    (e) => e instanceof AuthsecError && e.code === 'config_error');
  assert.throws(() => new Verifier({ issuer: 'https://i', audience: 'a', jwks: { keys: [] }, jwksCache: kv() }),
    (e) => e instanceof AuthsecError && e.code === 'config_error' && /jwksUri/.test(e.message));
});

/** A fake Workers KV namespace with KV's rules: string values, null for a missing key, and an
 * expirationTtl of at least 60 seconds or the put is refused. */
function kvNamespace() {
  const map = new Map();
  return {
    map,
    async get(key) {
      const e = map.get(key);
      return e && e.expires > Date.now() ? e.value : null;
    },
    async put(key, value, options) {
      if (typeof value !== 'string') throw new TypeError('KV put: the value must be a string here');
      const ttl = options?.expirationTtl;
      if (ttl !== undefined && !(Number.isInteger(ttl) && ttl >= 60)) {
        throw new Error(`KV PUT failed: 400 Invalid expiration_ttl of ${ttl}. Expiration TTL must be at least 60.`);
      }
      map.set(key, { value, ttl, expires: Date.now() + (ttl ?? 1e9) * 1000 });
    },
  };
}

test('workersKvStore: a KV namespace as the JWKS store, TTLs raised to KV\'s 60 s minimum', async () => {
  const ns = kvNamespace();
  const token = (await clientCredentials(server.tokenEndpoint, { ...CLIENT, scope: 'read:data', audience: AUDIENCE }))
    .access_token;
  const before = proxy.count(JWKS_PATH);
  const opts = { issuer: server.issuer, audience: AUDIENCE, jwksUri: proxy.origin + JWKS_PATH, jwksCache: workersKvStore(ns) };
  assert.equal((await new Verifier(opts).verify(token)).client_id, CLIENT.clientId);
  assert.equal(proxy.count(JWKS_PATH), before + 1);
  const [[key, entry]] = [...ns.map];
  assert.equal(key, `authsec:jwks:${proxy.origin}${JWKS_PATH}`);
  assert.ok(Number.isInteger(entry.ttl) && entry.ttl >= 60, `ttl ${entry.ttl}`);
  // A cold isolate reads it back from KV: no fetch.
  assert.equal((await new Verifier(opts).verify(token)).client_id, CLIENT.clientId);
  assert.equal(proxy.count(JWKS_PATH), before + 1);

  // Short freshness (a server saying max-age=1) is still stored: for 60 s, the minimum KV takes.
  const raw = workersKvStore(ns);
  await raw.set('k', 'v', 1);
  await raw.set('k2', 'v', 90.5);
  assert.equal(ns.map.get('k').ttl, 60);
  assert.equal(ns.map.get('k2').ttl, 91);
  assert.equal(await raw.get('missing'), null);

  for (const bad of [undefined, null, {}, { get() {} }]) {
    assert.throws(() => workersKvStore(bad), (e) => e instanceof AuthsecError && e.code === 'config_error');
  }
});
