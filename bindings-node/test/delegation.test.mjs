// Delegated tokens (RFC 8693 `act`): the verifier options, the claims' `delegation` / `actor`, the
// `allowedActors` callback, DelegationError. The rules are the core's (and the shared vectors pin
// them); these tests pin what the binding adds: types, the callback's wiring, the class.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import * as sdk from '../index.mjs';
import { nativeErrorCodes } from '../testing.mjs';
import { keyPair, signJwt, listen, get } from './helpers.mjs';

const { Verifier, DelegationError, InvalidTokenError, InsufficientScopeError, ConfigError, AuthsecError, requireAuth } = sdk;

const ISSUER = 'https://issuer.example';
const AUD = 'https://api.example';
const key = keyPair('ec', 'k1');
const jwks = { keys: [key.jwk] };

let serial = 0;
/** A signed token for `svc` with `act` (when given) and scopes `read:data`. */
function token(act, extra = {}) {
  const now = Math.floor(Date.now() / 1000);
  const claims = { iss: ISSUER, sub: 'svc', aud: AUD, exp: now + 600, iat: now, jti: `t${++serial}`, scope: 'read:data', ...extra };
  if (act !== undefined) claims.act = act;
  return signJwt('ES256', key.privateKey, 'k1', claims);
}

const CHAIN = { client_id: 'tool', sub: 'tool-sub', act: { sub: 'sub-agent', iss: 'https://other.example', act: { client_id: 'orchestrator' } } };

function verifier(options = {}) {
  return new Verifier({ issuer: ISSUER, audience: AUD, jwks, ...options });
}

describe('claims.delegation and claims.actor', () => {
  test('the chain, current actor first, as frozen {sub, clientId, iss, id}', async () => {
    const claims = await verifier().verify(token(CHAIN));
    assert.deepEqual(
      claims.delegation.map((a) => ({ ...a })),
      [
        { sub: 'tool-sub', clientId: 'tool', iss: undefined, id: 'tool' },
        { sub: 'sub-agent', clientId: undefined, iss: 'https://other.example', id: 'sub-agent' },
        { sub: undefined, clientId: 'orchestrator', iss: undefined, id: 'orchestrator' },
      ],
    );
    assert.equal(claims.actor, claims.delegation[0]);
    assert.ok(Object.isFrozen(claims) && Object.isFrozen(claims.delegation) && Object.isFrozen(claims.actor));
    assert.ok(claims.delegation.every(Object.isFrozen));
    assert.ok(Array.isArray(claims.delegation));
    assert.throws(() => claims.delegation.push({}), TypeError);
  });

  test('not enumerable: spreads and JSON show the payload, the raw act included', async () => {
    const claims = await verifier().verify(token(CHAIN));
    assert.ok(!Object.keys(claims).includes('delegation') && !Object.keys(claims).includes('actor'));
    assert.deepEqual(claims.act, CHAIN);
    assert.deepEqual(JSON.parse(JSON.stringify(claims)).act, CHAIN);
    assert.deepEqual(Object.keys({ ...claims }).sort(), ['act', 'aud', 'exp', 'iat', 'iss', 'jti', 'scope', 'sub']);
    assert.ok(inspect(claims, { depth: 10 }).includes("client_id: 'orchestrator'"));
    assert.ok(!inspect(claims, { depth: 10 }).includes('clientId'));
  });

  test('an undelegated token: an empty chain and a null actor', async () => {
    const claims = await verifier().verify(token());
    assert.deepEqual([...claims.delegation], []);
    assert.ok(Object.isFrozen(claims.delegation));
    assert.equal(claims.actor, null);
  });

  test('a cache hit hands out the same objects', async () => {
    const v = verifier();
    const t = token(CHAIN);
    const first = await v.verify(t);
    const again = await v.verify(t);
    assert.equal(again, first);
    assert.equal(again.delegation, first.delegation);
    assert.equal(again.actor, first.actor);
  });

  test('the accessors win over payload members of the same name', async () => {
    const claims = await verifier().verify(token({ sub: 'agent' }, { actor: 'spoofed', delegation: ['spoofed'] }));
    assert.equal(claims.actor.id, 'agent');
    assert.deepEqual(claims.delegation.map((a) => a.id), ['agent']);
  });

  test('a malformed chain is a DelegationError (invalid_delegation)', async () => {
    for (const act of ['agent', { sub: 'a', exp: 1 }, { iss: 'x' }, { sub: 'a', act: { sub: 'a' } }]) {
      const e = await verifier().verify(token(act)).catch((x) => x);
      assert.ok(e instanceof DelegationError && e instanceof InvalidTokenError, inspect(e));
      assert.equal(e.code, 'invalid_delegation');
      assert.equal(e.category, 'invalid_token');
      assert.equal(e.httpStatus, 401);
    }
  });
});

describe('the delegation options', () => {
  const refused = async (v, t) => {
    const e = await v.verify(t).catch((x) => x);
    assert.ok(e instanceof DelegationError, inspect(e));
    assert.equal(e.code, 'delegation_not_allowed');
    assert.equal(e.name, 'DelegationError');
    return e;
  };

  test('forbidDelegation', async () => {
    const v = verifier({ forbidDelegation: true });
    await refused(v, token(CHAIN));
    assert.equal((await v.verify(token())).actor, null);
  });

  test('maxDelegationDepth (0 to 16)', async () => {
    await refused(verifier({ maxDelegationDepth: 2 }), token(CHAIN));
    assert.equal((await verifier({ maxDelegationDepth: 3 }).verify(token(CHAIN))).delegation.length, 3);
    await refused(verifier({ max_delegation_depth: 0 }), token({ sub: 'a' }));
    assert.throws(() => verifier({ maxDelegationDepth: 17 }), (e) => e instanceof ConfigError && /max_delegation_depth/.test(e.message));
    assert.throws(() => verifier({ maxDelegationDepth: -1 }), ConfigError);
    assert.throws(() => verifier({ forbidDelegation: 'yes' }), (e) => e instanceof ConfigError && /forbid_delegation/.test(e.message));
  });

  test('allowedActors as a list: the current actor only', async () => {
    assert.equal((await verifier({ allowedActors: ['tool'] }).verify(token(CHAIN))).actor.id, 'tool');
    const e = await refused(verifier({ allowedActors: ['orchestrator'] }), token(CHAIN));
    assert.match(e.message, /"tool"/);
    assert.equal((await verifier({ allowed_actors: ['x'] }).verify(token())).actor, null);
    assert.throws(() => verifier({ allowedActors: 'tool' }), (e) => e instanceof ConfigError && /allowed_actors/.test(e.message));
  });
});

describe('allowedActors as a callback', () => {
  test('called with the current actor; true accepts', async () => {
    const seen = [];
    const v = verifier({
      allowedActors: (actor) => {
        seen.push(actor);
        return actor.id === 'tool';
      },
    });
    const claims = await v.verify(token(CHAIN));
    assert.equal(seen.length, 1);
    assert.equal(seen[0], claims.actor);
    assert.equal(seen[0].id, 'tool');
    assert.ok(Object.isFrozen(seen[0]));
  });

  test('false refuses with DelegationError (delegation_not_allowed), naming the actor', async () => {
    const v = verifier({ allowedActors: () => false });
    const t = token(CHAIN);
    for (let i = 0; i < 2; i++) {
      // The second time the token is in the verified-token cache: still refused.
      const e = await v.verify(t).catch((x) => x);
      assert.ok(e instanceof DelegationError && e instanceof InvalidTokenError && e instanceof AuthsecError, inspect(e));
      assert.equal(e.code, 'delegation_not_allowed');
      assert.match(e.message, /"tool"/);
      assert.match(e.stack, /delegation\.test\.mjs|verifier\.js/);
    }
  });

  test('not called for an undelegated token', async () => {
    let calls = 0;
    const v = verifier({
      allowedActors: () => {
        calls++;
        return false;
      },
    });
    const claims = await v.verify(token(), { requiredScopes: 'read:data' });
    assert.equal(claims.sub, 'svc');
    assert.equal(calls, 0);
  });

  test('a Promise of the answer; a thrown error propagates; anything but a boolean is a TypeError', async () => {
    assert.equal((await verifier({ allowedActors: async (a) => a.id === 'tool' }).verify(token(CHAIN))).actor.id, 'tool');
    await assert.rejects(verifier({ allowedActors: async () => false }).verify(token(CHAIN)), DelegationError);
    const boom = new Error('registry down');
    await assert.rejects(
      verifier({
        allowedActors: () => {
          throw boom;
        },
      }).verify(token(CHAIN)),
      (e) => e === boom,
    );
    for (const answer of [undefined, 1, 'yes', null]) {
      await assert.rejects(verifier({ allowedActors: () => answer }).verify(token(CHAIN)), TypeError);
    }
  });

  test('before the scope check (the core order), and with it', async () => {
    const t = token(CHAIN);
    await assert.rejects(verifier({ allowedActors: () => false }).verify(t, { requiredScopes: 'admin' }), DelegationError);
    const e = await verifier({ allowedActors: () => true })
      .verify(t, { requiredScopes: ['read:data', 'admin'] })
      .catch((x) => x);
    assert.ok(e instanceof InsufficientScopeError, inspect(e));
    assert.deepEqual([...e.missingScopes], ['admin']);
    await assert.rejects(verifier({ allowedActors: () => true }).verify(t, { anyScopes: 'x y' }), InsufficientScopeError);
    assert.equal((await verifier({ allowedActors: () => true }).verify(t, { anyScopes: 'x read:data' })).sub, 'svc');
  });

  test('with the core options; the callback is not passed to the core', async () => {
    await assert.rejects(verifier({ allowedActors: () => true, maxDelegationDepth: 1 }).verify(token(CHAIN)), DelegationError);
    assert.throws(() => verifier({ allowedActors: () => true, allowed_actors: ['tool'] }), ConfigError);
    assert.equal((await verifier({ allowed_actors: (a) => a.id === 'tool' }).verify(token(CHAIN))).actor.id, 'tool');
  });

  test('in requireAuth: a refused actor is a 401 invalid_token', async () => {
    const auth = requireAuth({ issuer: ISSUER, audience: AUD, jwks, allowedActors: (a) => a.id !== 'tool', realm: 'api' });
    const srv = await listen((req, res) =>
      auth(req, res, () => {
        res.end(JSON.stringify({ actor: req.auth.payload.actor?.id ?? null }));
      }),
    );
    try {
      const call = (t) => get(`${srv.url}/`, { headers: { authorization: `Bearer ${t}` } });
      const refused = await call(token(CHAIN));
      assert.equal(refused.status, 401);
      assert.match(refused.headers.get('www-authenticate'), /error="invalid_token"/);
      assert.equal((await refused.json()).error, 'invalid_token');
      const ok = await call(token({ client_id: 'sub-agent' }));
      assert.equal(ok.status, 200);
      assert.deepEqual(await ok.json(), { actor: 'sub-agent' });
    } finally {
      await srv.close();
    }
  });
});

test('DelegationError: the core names it for both codes, under InvalidTokenError', () => {
  const codes = nativeErrorCodes().filter((c) => c.class === 'DelegationError').map((c) => c.code);
  assert.deepEqual(codes, ['invalid_delegation', 'delegation_not_allowed']);
  assert.ok(sdk.ERROR_CODES.includes('invalid_delegation') && sdk.ERROR_CODES.includes('delegation_not_allowed'));
  assert.equal(Object.getPrototypeOf(DelegationError), InvalidTokenError);
  const e = new DelegationError('x', { code: 'delegation_not_allowed' });
  assert.equal(e.name, 'DelegationError');
  assert.equal(e.category, 'invalid_token');
  assert.equal(e.httpStatus, 401);
  assert.equal(e.retryable, false);
});
