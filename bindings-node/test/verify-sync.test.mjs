// Verifying on the calling thread: `verify` answers there when the keys are at hand (and still
// fetches a key set it does not have), `verifySync` for middleware that wants no Promise, and the
// `offThread` option that keeps first-sight checks on libuv's thread pool.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Verifier, RequestVerifier, UnavailableError, InvalidTokenError, TokenExpiredError, DelegationError, InsufficientScopeError, ConfigError } from '../index.mjs';
import { AUDIENCE, localServer, keyPair, signJwt } from './helpers.mjs';

const ISS = 'https://issuer.test';
const k = keyPair('ec', 'sync-1');
const other = keyPair('ec', 'sync-1');
const nowS = () => Math.floor(Date.now() / 1000);
const token = (claims = {}, key = k.privateKey) =>
  signJwt('ES256', key, 'sync-1', { iss: ISS, aud: 'api', sub: 's', exp: nowS() + 600, iat: nowS(), scope: 'read:data', jti: `${Math.random()}`, ...claims });
const staticVerifier = (extra = {}) => new Verifier({ issuer: ISS, audience: 'api', jwks: { keys: [k.jwk] }, ...extra });

test('verifySync returns the same claims as verify (and the scopes are checked)', async () => {
  const t = token();
  const a = staticVerifier();
  const b = staticVerifier();
  const sync = a.verifySync(t, { requiredScopes: 'read:data' });
  const viaAsync = await b.verify(t, { requiredScopes: 'read:data' });
  assert.deepEqual({ ...sync }, { ...viaAsync });
  assert.ok(Object.isFrozen(sync));
  assert.deepEqual(sync.delegation, []);
  assert.equal(sync.actor, null);
  assert.deepEqual(Object.keys(sync).sort(), ['aud', 'exp', 'iat', 'iss', 'jti', 'scope', 'sub']);
  // A verified token: the same (cached) object from both.
  assert.equal(a.verifySync(t), await a.verify(t));
  assert.throws(() => a.verifySync(t, { requiredScopes: 'admin' }), (e) => e instanceof InsufficientScopeError && e.code === 'insufficient_scope');
  assert.throws(() => a.verifySync(t, { scope: 'x' }), ConfigError);
  assert.throws(() => a.verifySync(42), TypeError);
});

test('claims keep every member as the token has it: non-ASCII, a NUL in a key, __proto__, nesting', () => {
  const odd = {
    'naïve': 'café ☕',
    'a\u0000b': 'nul in the key',
    ascii: 'plain',
    nested: { list: [1, 'two', { three: 3 }], 'ключ': 'значение' },
    ['__proto__']: { polluted: true },
  };
  const t = token(JSON.parse(JSON.stringify(odd)));
  const claims = staticVerifier().verifySync(t);
  for (const [k, v] of Object.entries(odd)) assert.deepEqual(Object.getOwnPropertyDescriptor(claims, k).value, v, k);
  assert.ok(Object.hasOwn(claims, '__proto__'), '__proto__ is an own member, not the prototype');
  assert.equal(Object.getPrototypeOf(claims), Object.prototype);
  assert.equal({}.polluted, undefined);
  assert.ok(Object.isFrozen(claims.nested) && Object.isFrozen(claims.nested.list) && Object.isFrozen(claims.nested.list[2]));
  assert.deepEqual(JSON.parse(JSON.stringify(claims)), JSON.parse(JSON.stringify({ ...claims })));
});

test('verifySync throws the core errors (expired, bad signature)', () => {
  const v = staticVerifier();
  assert.throws(() => v.verifySync(token({ exp: nowS() - 600 })), (e) => e instanceof TokenExpiredError && e.code === 'token_expired');
  assert.throws(() => v.verifySync(token({}, other.privateKey)), (e) => e instanceof InvalidTokenError && e.code === 'invalid_signature');
});

test("verify's errors reject, never throw synchronously", async () => {
  const v = staticVerifier();
  for (const [bad, code] of [
    [token({ exp: nowS() - 600 }), 'token_expired'],
    [token({}, other.privateKey), 'invalid_signature'],
    ['not.a.jwt', 'malformed_token'],
  ]) {
    let p;
    assert.doesNotThrow(() => {
      p = v.verify(bad);
    });
    assert.ok(p instanceof Promise);
    await assert.rejects(p, (e) => e instanceof InvalidTokenError && e.code === code);
  }
  let p;
  assert.doesNotThrow(() => {
    p = v.verify(42);
  });
  await assert.rejects(p, TypeError);
});

test('offThread: true verifies on the thread pool, with the same claims and errors', async () => {
  const v = staticVerifier({ offThread: true });
  const t = token();
  const claims = await v.verify(t, { requiredScopes: 'read:data' });
  assert.equal(claims.sub, 's');
  assert.equal(await v.verify(t), claims);
  assert.equal(v.verifySync(t), claims);
  await assert.rejects(v.verify(token({ exp: nowS() - 600 })), TokenExpiredError);
  // A binding option, not the core's (which refuses unknown options).
  assert.throws(() => staticVerifier({ offThread: 'yes' }), TypeError);
  assert.throws(() => staticVerifier({ offThread: 1 }), TypeError);
  assert.throws(() => staticVerifier({ offThreads: true }), ConfigError);
});

// Whether `p` settles while only microtasks run: a check done on this thread does; one on
// libuv's thread pool cannot (its answer arrives in a later turn of the event loop).
async function settlesInMicrotasks(p) {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 20; i++) await null;
  return done;
}

test("offThread 'auto' (the default): a lone check runs on this thread, a burst goes to the pool", async () => {
  const v = staticVerifier();
  // One at a time, awaited: each on this thread.
  for (let i = 0; i < 5; i++) assert.equal(await settlesInMicrotasks(v.verify(token())), true, `check ${i}`);
  // Three started together: the first here, the two that pile up behind it on the pool.
  const ts = [token(), token(), token()];
  const ps = ts.map((t) => v.verify(t, { requiredScopes: 'read:data' }));
  assert.deepEqual(await Promise.all(ps.map(settlesInMicrotasks)), [true, false, false]);
  const claims = await Promise.all(ps);
  assert.deepEqual(claims.map((c) => c.jti), ts.map((t) => JSON.parse(Buffer.from(t.split('.')[1], 'base64url')).jti));
  // Errors from the pool reject the same way.
  const bad = [v.verify(token()), v.verify(token({ exp: nowS() - 600 }))];
  await assert.rejects(bad[1], TokenExpiredError);
  await bad[0];
  // Once the burst is over, a lone check runs here again.
  assert.equal(await settlesInMicrotasks(v.verify(token())), true);
  // A verified token answers from the cache on this thread, even in a burst.
  const again = [v.verify(ts[0]), v.verify(ts[1])];
  assert.deepEqual(await Promise.all(again.map(settlesInMicrotasks)), [true, true]);
});

test('offThread: false checks every token on this thread; true sends every one to the pool', async () => {
  const here = staticVerifier({ offThread: false });
  const burst = [here.verify(token()), here.verify(token()), here.verify(token())];
  assert.deepEqual(await Promise.all(burst.map(settlesInMicrotasks)), [true, true, true]);
  const pool = staticVerifier({ offThread: true });
  const onPool = pool.verify(token());
  assert.equal(await settlesInMicrotasks(onPool), false);
  // While a check is on the pool, an 'auto' check joins it there (the pool is the process's).
  const auto = staticVerifier({ offThread: 'auto' });
  const joined = auto.verify(token());
  assert.equal(await settlesInMicrotasks(joined), false);
  await Promise.all([onPool, joined]);
  assert.equal(await settlesInMicrotasks(auto.verify(token())), true);
});

describe('a jwksUri verifier on the local server', () => {
  let server;
  before(async () => {
    server = await localServer();
  });
  after(() => server.close());
  const fresh = () => new Verifier({ issuer: server.issuer, audience: AUDIENCE, jwksUri: server.jwksUri });

  test('verifySync before the key set is fetched throws jwks_unavailable, and works after verify()', async () => {
    const v = fresh();
    const t = await server.token();
    assert.throws(
      () => v.verifySync(t),
      (e) => e instanceof UnavailableError && e.code === 'jwks_unavailable' && /not at hand yet/.test(e.message) && /await verify\(\)/.test(e.message),
    );
    const claims = await v.verify(t);
    assert.equal(claims.iss, server.issuer);
    const t2 = await server.token();
    const sync = v.verifySync(t2);
    assert.equal(sync.iss, server.issuer);
    assert.notEqual(sync.jti, claims.jti);
  });

  test('verifySync works after warm()', async () => {
    const v = fresh();
    await v.warm();
    assert.equal(v.verifySync(await server.token()).iss, server.issuer);
  });

  test('verify fetches the key set on first use and succeeds', async () => {
    for (const offThread of [false, true]) {
      const v = new Verifier({ issuer: server.issuer, audience: AUDIENCE, jwksUri: server.jwksUri, offThread });
      const claims = await v.verify(await server.token(), { requiredScopes: 'read:data' });
      assert.equal(claims.iss, server.issuer);
    }
  });

  test('the request verifier fetches the key set on first use, then answers on this thread', async () => {
    const rv = new RequestVerifier(fresh());
    const req = async () => ({ method: 'GET', target: '/x', scheme: 'http', headers: { host: 'api.example', authorization: `Bearer ${await server.token()}` } });
    const first = await rv.verify(await req(), { requiredScopes: 'read:data' });
    assert.equal(first.ok, true, first.error?.message);
    const second = await rv.verify(await req(), { requiredScopes: 'read:data' });
    assert.equal(second.ok, true);
    const refused = await rv.verify(await req(), { requiredScopes: 'admin' });
    assert.equal(refused.ok, false);
    assert.equal(refused.status, 403);
  });
});

describe('allowedActors with verifySync', () => {
  const delegated = (actor) => token({ act: { sub: actor } });

  test('the callback is called synchronously: true accepts, false refuses', () => {
    const seen = [];
    const v = staticVerifier({ allowedActors: (a) => (seen.push(a.id), a.id === 'good') });
    const claims = v.verifySync(delegated('good'), { requiredScopes: 'read:data' });
    assert.equal(claims.actor.id, 'good');
    assert.deepEqual(seen, ['good']);
    assert.throws(() => v.verifySync(delegated('bad')), (e) => e instanceof DelegationError && e.code === 'delegation_not_allowed');
    // The delegation policy before the scopes (the core's order).
    assert.throws(() => v.verifySync(delegated('bad'), { requiredScopes: 'admin' }), DelegationError);
    assert.throws(() => v.verifySync(delegated('good'), { requiredScopes: 'admin' }), InsufficientScopeError);
    // Not called for an undelegated token.
    seen.length = 0;
    assert.equal(v.verifySync(token()).actor, null);
    assert.deepEqual(seen, []);
  });

  test('a Promise-returning callback is a TypeError in verifySync (verify awaits it)', async () => {
    const v = staticVerifier({ allowedActors: async (a) => a.id === 'good' });
    const t = delegated('good');
    assert.throws(() => v.verifySync(t), (e) => e instanceof TypeError && /synchronously/.test(e.message));
    assert.equal((await v.verify(t)).actor.id, 'good');
    const r = staticVerifier({ allowedActors: () => Promise.reject(new Error('no')) });
    assert.throws(() => r.verifySync(delegated('x')), TypeError);
  });
});
