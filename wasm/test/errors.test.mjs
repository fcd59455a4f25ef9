// The error classes: the package's AuthsecError subclasses are the core's class tree (the same
// names and parents in every authsec language), and every code raises the class, category and
// retryable flag the core gives it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as pkg from '../index.js';
import { makeError } from '../js/glue.js';

test('the exported classes are the core class tree', () => {
  const tree = pkg.errorClasses();
  assert.equal(tree.length, 15);
  for (const { name, parent } of tree) {
    const C = pkg[name];
    assert.equal(typeof C, 'function', `${name} is exported`);
    assert.equal(Object.getPrototypeOf(C), pkg[parent], `${name} extends ${parent}`);
    assert.equal(C.prototype.name, name);
  }
  const exported = Object.keys(pkg).filter((k) => k.endsWith('Error') && k !== 'AuthsecError');
  assert.deepEqual(exported.sort(), tree.map((c) => c.name).sort(), 'no class outside the tree');
});

test('every code raises the class, category and retryable flag the core gives it', () => {
  const codes = pkg.errorCodes();
  assert.equal(codes.length, 45);
  for (const c of codes) {
    const e = makeError(c.code, 'm');
    assert.ok(e instanceof pkg.AuthsecError && e instanceof Error, c.code);
    assert.ok(e instanceof pkg[c.class], `${c.code} is a ${c.class}`);
    assert.equal(e.name, c.class);
    assert.equal(e.code, c.code);
    assert.equal(e.category, c.category);
    assert.equal(e.retryable, c.retryable);
    assert.equal(e.httpStatus, c.httpStatus);
    assert.equal(e.status, undefined, 'status is reserved for an upstream HTTP status');
  }
  const by = Object.fromEntries(codes.map((c) => [c.code, c]));
  assert.equal(by.rate_limited.class, 'RateLimitedError');
  assert.equal(by.workload_api_unavailable.class, 'UnavailableError');
  assert.equal(by.workload_api_unavailable.retryable, true);
  for (const code of ['invalid_spiffe_id', 'unknown_trust_domain']) {
    assert.equal(by[code].class, 'InvalidTokenError', code);
    assert.equal(by[code].httpStatus, 401, code);
  }
  assert.equal(by.spiffe_id_not_allowed.class, 'InsufficientScopeError');
  assert.equal(by.spiffe_id_not_allowed.httpStatus, 403);
  for (const code of ['invalid_dpop_proof', 'use_dpop_nonce']) {
    assert.equal(by[code].class, 'InvalidTokenError', code);
    assert.equal(by[code].httpStatus, 401, code);
  }
  assert.equal(by.timeout.class, 'TimeoutError');
  assert.ok(makeError('timeout', 'x') instanceof pkg.NetworkError);
  assert.equal(by.token_expired.category, 'invalid_token');
  for (const code of ['invalid_delegation', 'delegation_not_allowed']) {
    assert.equal(by[code].class, 'DelegationError');
    assert.equal(by[code].category, 'invalid_token');
    const e = makeError(code, 'x');
    assert.ok(e instanceof pkg.DelegationError && e instanceof pkg.InvalidTokenError, code);
  }
  assert.equal(Object.getPrototypeOf(pkg.DelegationError), pkg.InvalidTokenError);
  for (const code of ['not_found', 'conflict', 'invalid_client_metadata', 'access_denied']) {
    assert.equal(by[code].class, 'ManagementError', code);
    assert.equal(by[code].category, 'management', code);
    assert.equal(by[code].retryable, false, code);
  }
});

test('challenge: the core answer for an error object, no challenge for a 5xx', () => {
  const scope = makeError('insufficient_scope', 'lacks admin');
  scope.missingScopes = ['admin'];
  const c = pkg.challenge(scope, { realm: 'api', requiredScopes: 'read' });
  assert.equal(c.status, 403);
  assert.equal(c.error, 'insufficient_scope');
  assert.match(c.wwwAuthenticate, /scope="read admin"$/);
  const down = pkg.challenge(makeError('jwks_unavailable', 'down'));
  assert.deepEqual({ ...down }, { status: 503 });
  assert.deepEqual({ ...pkg.challenge(null, { realm: 'api' }) }, { status: 401, wwwAuthenticate: 'Bearer realm="api"' });
  assert.throws(() => pkg.challenge({ code: 'nope' }), (e) => e instanceof pkg.ConfigError);
  // An MCP server's (RFC 9728): the metadata URL in the challenge, still no error code without a token.
  const prm = 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp';
  assert.deepEqual(
    { ...pkg.challenge(null, { requiredScopes: 'mcp', resourceMetadata: prm }) },
    { status: 401, wwwAuthenticate: `Bearer scope="mcp", resource_metadata="${prm}"` },
  );
});
