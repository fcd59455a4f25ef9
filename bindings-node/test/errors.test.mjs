// Error classes and codes (kept equal to the core's list), and secrets kept out of
// util.inspect, JSON and error messages.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { readFileSync } from 'node:fs';
import * as sdk from '../index.mjs';
import { nativeErrorCodes, nativeErrorClasses } from '../testing.mjs';
import { fromNative } from '../lib/internal.js';
import { SECRET, AUDIENCE, localServer, keyPair } from './helpers.mjs';

const {
  AuthsecError,
  TokenRequestError,
  InvalidClientError,
  InvalidScopeError,
  UnavailableError,
  NetworkError,
  TimeoutError,
  ServerError,
  RateLimitedError,
  ConfigError,
  InvalidTokenError,
  TokenExpiredError,
  DelegationError,
  InsufficientScopeError,
  InternalError,
  ManagementError,
  ERROR_CODES,
  ClientCredentials,
  AuthsecClient,
  Verifier,
} = sdk;

describe('error codes', () => {
  test('the JS list equals the core list, in order', () => {
    const core = nativeErrorCodes().map((c) => c.code);
    assert.deepEqual([...ERROR_CODES], core, 'lib/errors.js CODE_CLASSES drifted from the core ErrorCode::ALL');
    assert.deepEqual(
      sdk.errorCodes().map((c) => c.code),
      core,
    );
    for (const c of sdk.errorCodes()) assert.ok(c.description.length > 10, c.code);
  });

  test('the README error table lists the same codes', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const table = readme.split('<!-- error-codes:start -->')[1].split('<!-- error-codes:end -->')[0];
    const codes = [...table.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]);
    assert.deepEqual(codes, [...ERROR_CODES]);
  });

  test('the class tree is the core\'s: names and parents', () => {
    const declared = Object.entries(sdk).filter(([, v]) => typeof v === 'function' && (v === AuthsecError || v.prototype instanceof AuthsecError));
    const core = nativeErrorClasses();
    assert.deepEqual(declared.map(([n]) => n).sort(), ['AuthsecError', ...core.map((c) => c.name)].sort());
    for (const { name, parent } of core) {
      assert.equal(Object.getPrototypeOf(sdk[name]), sdk[parent ?? 'AuthsecError'], `${name} extends ${parent ?? 'AuthsecError'}`);
      assert.equal(sdk[name].name, name);
      assert.equal(new sdk[name]('x').name, name);
    }
    assert.equal(Object.getPrototypeOf(AuthsecError), Error);
  });

  test('classes follow the core classification', () => {
    for (const c of nativeErrorCodes()) {
      const e = errorFor(c.code);
      assert.ok(e instanceof AuthsecError && e instanceof Error, c.code);
      assert.ok(e instanceof sdk[c.class], `${c.code} is a ${c.class}`);
      assert.equal(e.constructor.name, c.class, c.code);
      assert.equal(e.category, c.category, c.code);
      if (c.category === 'invalid_token') assert.ok(e instanceof InvalidTokenError, `${c.code} is a token error`);
      else assert.ok(!(e instanceof InvalidTokenError), `${c.code} is not a token error`);
      if (c.retryable) assert.ok(e instanceof UnavailableError && e.retryable, `${c.code} is retryable`);
      else assert.ok(!e.retryable, c.code);
    }
    assert.ok(errorFor('invalid_client') instanceof InvalidClientError);
    assert.ok(errorFor('invalid_client') instanceof TokenRequestError);
    assert.ok(errorFor('invalid_scope') instanceof InvalidScopeError);
    assert.ok(errorFor('timeout') instanceof TimeoutError);
    assert.ok(errorFor('timeout') instanceof NetworkError);
    assert.ok(errorFor('rate_limited') instanceof RateLimitedError);
    assert.ok(errorFor('rate_limited') instanceof UnavailableError && !(errorFor('rate_limited') instanceof NetworkError));
    assert.ok(errorFor('server_error') instanceof ServerError && errorFor('server_error') instanceof UnavailableError);
    assert.ok(errorFor('internal_error') instanceof InternalError);
    for (const code of ['not_found', 'conflict', 'invalid_client_metadata', 'access_denied']) {
      assert.ok(errorFor(code) instanceof ManagementError, code);
      assert.equal(errorFor(code).category, 'management', code);
      assert.ok(!errorFor(code).retryable, code);
    }
    assert.equal(errorFor('jwks_unavailable').category, 'unavailable');
    assert.equal(errorFor('invalid_key').category, 'config');
    assert.ok(errorFor('token_expired') instanceof TokenExpiredError);
    for (const code of ['invalid_delegation', 'delegation_not_allowed']) {
      assert.ok(errorFor(code) instanceof DelegationError && errorFor(code) instanceof InvalidTokenError, code);
      assert.ok(!(errorFor(code) instanceof TokenExpiredError), code);
    }
    assert.ok(errorFor('config_error') instanceof ConfigError);
    assert.ok(errorFor('insecure_transport') instanceof ConfigError);
    assert.ok(errorFor('insufficient_scope') instanceof InsufficientScopeError);
    assert.ok(!(errorFor('insufficient_scope') instanceof InvalidTokenError));
  });

  test('HTTP status and challenge come from the core', () => {
    const e = new InsufficientScopeError('needs admin', { code: 'insufficient_scope', missingScopes: ['admin'] });
    assert.equal(e.httpStatus, 403);
    assert.match(e.wwwAuthenticate('api'), /^Bearer realm="api", error="insufficient_scope", error_description="needs admin", scope="admin"$/);
    assert.equal(new TokenExpiredError('x', { code: 'token_expired' }).httpStatus, 401);
    assert.equal(new NetworkError('x', { code: 'jwks_unavailable' }).httpStatus, 503);
  });
});

/** A native-shaped error for `code`, through the conversion every addon error takes. */
function errorFor(code) {
  return fromNative(Object.assign(new Error(`a ${code} error`), { code }));
}

describe('errors from real calls', () => {
  let server;
  before(async () => {
    server = await localServer();
  });
  after(() => server.close());

  test('invalid_client: class, code, status, stack; no secret', async () => {
    const wrongSecret = 'Wr0ng-S3cret-for-test-123';
    const c = new ClientCredentials({ tokenUrl: server.tokenEndpoint, clientId: 'agent', clientSecret: wrongSecret });
    const err = await c.getToken().catch((e) => e);
    assert.ok(err instanceof InvalidClientError);
    assert.ok(err instanceof TokenRequestError && err instanceof AuthsecError && err instanceof Error);
    assert.equal(err.code, 'invalid_client');
    assert.equal(err.category, 'token_request');
    assert.equal(err.name, 'InvalidClientError');
    assert.equal(err.status, 401);
    assert.equal(err.retryable, false);
    assert.match(err.stack, /errors\.test\.mjs/);
    for (const text of [err.message, err.stack, inspect(err), JSON.stringify(err)]) {
      assert.ok(!text.includes(wrongSecret), `secret leaked: ${text}`);
      assert.ok(!text.includes(SECRET));
    }
  });

  test('invalid_scope', async () => {
    const c = new ClientCredentials({ tokenUrl: server.tokenEndpoint, clientId: 'agent', clientSecret: SECRET, scopes: 'root' });
    const err = await c.getToken().catch((e) => e);
    assert.ok(err instanceof InvalidScopeError, inspect(err));
    assert.equal(err.code, 'invalid_scope');
  });

  test('network_error for a closed port', async () => {
    const c = new ClientCredentials({ tokenUrl: 'http://127.0.0.1:9/oauth/token', clientId: 'a', clientSecret: SECRET, maxAttempts: 1 });
    const err = await c.getToken().catch((e) => e);
    assert.ok(err instanceof NetworkError, inspect(err));
    assert.equal(err.code, 'network_error');
    assert.equal(err.category, 'unavailable');
    assert.equal(err.retryable, true);
    assert.ok(!err.message.includes(SECRET));
  });

  test('config errors are thrown synchronously and name the setting', () => {
    assert.throws(() => new ClientCredentials({ clientId: 'a', clientSecret: SECRET }), (e) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.code, 'config_error');
      assert.match(e.message, /token_url/);
      assert.ok(!e.message.includes(SECRET));
      return true;
    });
    assert.throws(
      () => new ClientCredentials({ tokenUrl: server.tokenEndpoint, clientId: 'a', clientSecert: SECRET }),
      (e) => e instanceof ConfigError && /clientSecert/.test(e.message) && !e.message.includes(SECRET),
    );
    assert.throws(
      () => new ClientCredentials({ tokenUrl: 'http://auth.example.com/token', clientId: 'a', clientSecret: SECRET }),
      (e) => e instanceof ConfigError && e.code === 'insecure_transport',
    );
    assert.throws(() => new Verifier({ issuer: 'https://i', jwks: { keys: [] } }), (e) => e instanceof ConfigError && /audience/.test(e.message));
    assert.throws(
      () => new Verifier({ issuer: 'https://i', audience: 'a', jwks: { keys: [] }, algorithm: ['RS256'] }),
      (e) => e instanceof ConfigError && /algorithm/.test(e.message),
    );
    assert.throws(() => new Verifier({ issuer: 'https://i', audience: 'a', jwks: { keys: [] }, algorithms: ['HS256'] }), AuthsecError);
    assert.throws(() => new AuthsecClient({ clientId: 'a', clientSecret: SECRET }), ConfigError);
  });

  test('verification errors: classes and codes; the token is not echoed', async () => {
    const v = new Verifier({ issuer: server.issuer, audience: AUDIENCE, jwksUri: server.jwksUri });
    const bogus = `eyJhbGciOiJFUzI1NiJ9.${'A'.repeat(40)}.${'B'.repeat(40)}`;
    const e1 = await v.verify(bogus).catch((e) => e);
    assert.ok(e1 instanceof InvalidTokenError, inspect(e1));
    assert.ok(!e1.message.includes('A'.repeat(40)));
    const e2 = await v.verify('x'.repeat(20000)).catch((e) => e);
    assert.equal(e2.code, 'token_too_large');
    await assert.rejects(v.verify(42), TypeError);
    await assert.rejects(v.verify('a.b.c', { scopes: 'admin' }), ConfigError);
  });
});

describe('secrets stay out of util.inspect and JSON', () => {
  let server;
  before(async () => {
    server = await localServer();
  });
  after(() => server.close());

  test('clients', () => {
    const { pem } = keyPair('ec', 'k1');
    const shown = [
      new ClientCredentials({ tokenUrl: server.tokenEndpoint, clientId: 'agent', clientSecret: SECRET }),
      new ClientCredentials({ tokenUrl: server.tokenEndpoint, clientId: 'agent', privateKey: pem }),
      ClientCredentials.fromEnv({ AUTHSEC_CLIENT_ID: 'agent', AUTHSEC_CLIENT_SECRET: SECRET, AUTHSEC_TOKEN_URL: server.tokenEndpoint }),
      new AuthsecClient({ domain: server.issuer, clientId: 'agent', clientSecret: SECRET }),
    ];
    for (const c of shown) {
      const text = inspect(c, { depth: 10, showHidden: true }) + JSON.stringify(c) + String(c);
      assert.ok(text.includes('agent'), text);
      assert.ok(!text.includes(SECRET), text);
      assert.ok(!text.includes('PRIVATE KEY'), text);
    }
  });

  test('tokens', async () => {
    const c = new ClientCredentials({ tokenUrl: server.tokenEndpoint, clientId: 'agent', clientSecret: SECRET });
    const t = await c.getToken();
    assert.ok(t.accessToken.length > 100);
    const text = inspect(t, { depth: 10 }) + JSON.stringify(t) + inspect({ nested: t });
    assert.ok(!text.includes(t.accessToken), text);
    assert.ok(!text.includes(t.accessToken.slice(0, 30)), text);
    assert.match(inspect(t), /accessToken: '\*\*\*'/);
    const { accessToken, tokenType, expiresAt, scopes } = t;
    assert.equal(typeof accessToken, 'string');
    assert.equal(tokenType, 'Bearer');
    assert.ok(expiresAt > Date.now() / 1000);
    assert.deepEqual([...scopes], ['read:data']);
    assert.equal(t.authorization, `Bearer ${accessToken}`);
  });
});

test('scopesOf reads scope and scp as the core does', () => {
  assert.deepEqual(sdk.scopesOf({ scope: 'read:data  write:logs' }), ['read:data', 'write:logs']);
  assert.deepEqual(sdk.scopesOf({ scp: ['a', 'b'] }), ['a', 'b']);
  assert.deepEqual(sdk.scopesOf({ sub: 'x' }), []);
  assert.deepEqual(sdk.scopesOf(null), []);
});
