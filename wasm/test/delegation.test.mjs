// Delegated tokens (RFC 8693 act), the verifier side: the options the core reads
// (forbidDelegation, maxDelegationDepth, allowedActors), the allowedActors callback (the only
// host-side decision, the user's own), claims.delegation / claims.actor, and DelegationError.
// Tokens and keys from the shared vectors (verify_delegation.json), with its clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Verifier, AuthsecError, DelegationError, InvalidTokenError, InsufficientScopeError, ConfigError } from '../index.js';

const doc = JSON.parse(readFileSync(new URL('../../tests/vectors/verify_delegation.json', import.meta.url), 'utf8'));
const byName = Object.fromEntries(doc.cases.map((c) => [c.name, c]));
const token = (name) => byName[name].token;
const THREE = token('act_chain_of_three'); // tool, acting for sub-agent, acting for orchestrator
const PLAIN = token('act_absent');
const NOW = { nowMs: byName.act_absent.options.now * 1000 };

function verifier(extra = {}) {
  return new Verifier({ issuer: 'https://issuer.example', audience: 'https://api.example', jwks: doc.jwks.main, ...extra }, NOW);
}

async function refused(promise, code) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof DelegationError && e instanceof InvalidTokenError && e instanceof AuthsecError, String(e));
    assert.equal(e.code, code);
    assert.equal(e.name, 'DelegationError');
    assert.equal(e.category, 'invalid_token');
    assert.equal(e.httpStatus, 401);
    return true;
  });
}

test('claims.delegation and claims.actor: the chain the core read, current actor first, frozen', async () => {
  const claims = await verifier().verify(THREE);
  assert.deepEqual(
    claims.delegation.map((a) => ({ ...a })),
    [
      { sub: 'tool', clientId: 'tool', iss: undefined, id: 'tool' },
      { sub: 'sub-agent', clientId: 'sub-agent', iss: undefined, id: 'sub-agent' },
      { sub: 'orchestrator', clientId: 'orchestrator', iss: undefined, id: 'orchestrator' },
    ],
  );
  assert.equal(claims.actor, claims.delegation[0]);
  assert.ok(Object.isFrozen(claims.delegation) && claims.delegation.every(Object.isFrozen));
  // Not enumerable: spreads and JSON show exactly the payload, whose raw act holds the chain.
  assert.ok(!Object.keys(claims).includes('delegation') && !Object.keys(claims).includes('actor'));
  assert.deepEqual(Object.keys(JSON.parse(JSON.stringify(claims))).sort(), Object.keys(claims).sort());
  assert.equal(claims.act.client_id, 'tool');
  assert.equal(claims.act.act.act.sub, 'orchestrator');
  // A member the token lacks is undefined; the id is client_id, else sub.
  const other = await verifier().verify(token('act_sub_and_iss_only'));
  assert.deepEqual({ ...other.actor }, { sub: 'agent@example', clientId: undefined, iss: 'https://other-issuer.example', id: 'agent@example' });
  // From the verified-token cache, the same.
  const v = verifier();
  await v.verify(THREE);
  assert.equal(v.cachedTokens, 1);
  assert.deepEqual((await v.verify(THREE)).delegation.map((a) => a.id), ['tool', 'sub-agent', 'orchestrator']);
});

test('an undelegated token: an empty chain and no actor', async () => {
  const claims = await verifier().verify(PLAIN);
  assert.deepEqual(claims.delegation, []);
  assert.ok(Object.isFrozen(claims.delegation));
  assert.equal(claims.actor, null);
  assert.equal(claims.act, undefined);
});

test('forbidDelegation, maxDelegationDepth, allowedActors (a list): the core refuses with DelegationError', async () => {
  await refused(verifier({ forbidDelegation: true }).verify(THREE), 'delegation_not_allowed');
  assert.equal((await verifier({ forbidDelegation: true }).verify(PLAIN)).actor, null);
  await refused(verifier({ maxDelegationDepth: 2 }).verify(THREE), 'delegation_not_allowed');
  assert.equal((await verifier({ maxDelegationDepth: 3 }).verify(THREE)).delegation.length, 3);
  // The current actor only: listing an earlier one does not admit the token.
  await refused(verifier({ allowedActors: ['sub-agent', 'orchestrator'] }).verify(THREE), 'delegation_not_allowed');
  assert.equal((await verifier({ allowedActors: ['tool'] }).verify(THREE)).actor.id, 'tool');
  assert.equal((await verifier({ allowed_actors: ['tool'] }).verify(THREE)).actor.id, 'tool');
  // A malformed chain: invalid_delegation, whatever the options.
  await refused(verifier().verify(token('act_cycle')), 'invalid_delegation');
  // The core reads the options: out of range or of the wrong type is a ConfigError.
  assert.throws(() => verifier({ maxDelegationDepth: 17 }), ConfigError);
  assert.throws(() => verifier({ forbidDelegation: 'yes' }), ConfigError);
  assert.throws(() => verifier({ allowedActors: 'tool' }), ConfigError);
});

test('allowedActors as a function: called with the current actor after a delegated token verified', async () => {
  const seen = [];
  const v = verifier({
    allowedActors: (actor) => {
      seen.push(actor);
      return actor.id === 'tool';
    },
  });
  const claims = await v.verify(THREE);
  assert.equal(seen.length, 1);
  assert.equal(seen[0], claims.actor, 'called with claims.actor');
  assert.equal(seen[0].id, 'tool');
  // Again from the cache: asked again.
  await v.verify(THREE);
  assert.equal(seen.length, 2);
  assert.equal(v.cachedTokens, 1);
  // Never for an undelegated token.
  assert.equal((await v.verify(PLAIN)).actor, null);
  assert.equal(seen.length, 2);

  // false refuses with the core's actor_refused error.
  const deny = verifier({ allowed_actors: async () => false });
  await assert.rejects(deny.verify(THREE), (e) => {
    assert.ok(e instanceof DelegationError);
    assert.equal(e.code, 'delegation_not_allowed');
    assert.match(e.message, /"tool" is not allowed by this resource/);
    return true;
  });
  assert.equal((await deny.verify(PLAIN)).sub, 'svc-reporting');
  // Anything but a boolean is the caller's bug.
  await assert.rejects(verifier({ allowedActors: () => 'yes' }).verify(THREE), TypeError);
  // The callback's own error passes through.
  const boom = new Error('boom');
  await assert.rejects(
    verifier({
      allowedActors: () => {
        throw boom;
      },
    }).verify(THREE),
    (e) => e === boom,
  );
  // A function and a list under the two spellings: which one applies would be a guess.
  assert.throws(() => verifier({ allowedActors: () => true, allowed_actors: ['tool'] }), ConfigError);
});

test('allowedActors callback: the verify options are read first, the scopes checked after the actor', async () => {
  let calls = 0;
  const v = verifier({
    allowedActors: () => {
      calls++;
      return true;
    },
  });
  await assert.rejects(v.verify(THREE, { bogus: 1 }), ConfigError);
  assert.equal(calls, 0, 'an unknown verify option fails before the token is looked at');
  await assert.rejects(v.verify(THREE, { requiredScopes: ['admin'] }), (e) => {
    assert.ok(e instanceof InsufficientScopeError);
    assert.deepEqual(e.missingScopes, ['admin']);
    return true;
  });
  assert.equal(calls, 1);
  assert.equal((await v.verify(THREE, { requiredScopes: 'read:data', anyScopes: ['x', 'write:logs'] })).actor.id, 'tool');
  assert.equal(calls, 2);
  // A refused actor is the answer even when scopes are missing too (the core's order).
  const deny = verifier({ allowedActors: () => false });
  await assert.rejects(deny.verify(THREE, { requiredScopes: 'admin' }), DelegationError);
  // And a token that fails verification never reaches the callback.
  await refused(v.verify(token('act_cycle')), 'invalid_delegation');
  assert.equal(calls, 2);
});
