'use strict';
// Express (and plain node:http) middleware in the spirit of express-oauth2-jwt-bearer. The
// bearer-header parsing, verification, scope checks, status codes and WWW-Authenticate
// challenges are the core's; this file only moves values between the request and the core.

const native = require('./native');
const { AuthsecError } = require('./errors');
const { fromNative, configError, authResult } = require('./internal');
const { Verifier } = require('./verifier');

const CONTEXT = Symbol('authsec.requestContext');

/** Answer a refused request: the core's status, error code and challenge (RFC 6750 §3). */
function refuse(res, err, realm, scopes, next, resourceMetadata) {
  if (err !== null && !(err instanceof AuthsecError)) return next(err);
  if (res.headersSent) return next(err ?? configError('the response was already sent'));
  const c = native.challenge(realm ?? null, err, scopes ?? null, resourceMetadata ?? null);
  res.statusCode = c.status;
  if (c.wwwAuthenticate) res.setHeader('WWW-Authenticate', c.wwwAuthenticate);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  const body = { error: c.error ?? undefined, error_description: err === null ? 'a bearer token is required' : err.message };
  res.end(JSON.stringify(body));
}

function authorizationHeader(req) {
  const h = req.headers?.authorization;
  return typeof h === 'string' ? h : null;
}

/**
 * Middleware that requires a valid bearer token. On success `req.auth = { payload, token, clientId,
 * scopes, expiresAt, extra }` (`payload` = the verified claims; the rest the MCP SDK's `AuthInfo`
 * fields) and `next()` is called; otherwise it answers 401/403 (400 for a
 * malformed header, 503 when the keys are unavailable) with a `WWW-Authenticate` challenge.
 *
 * Options: the `Verifier` options (`issuer`, `audience`, `jwksUri` or `jwks`, `algorithms`,
 * `leeway`, `audienceMatch`, ...) or an existing `verifier`; `requiredScopes` / `anyScopes`;
 * `realm`; `resourceMetadata` (the URL of the API's RFC 9728 metadata, named in every challenge).
 * Without `jwksUri`/`jwks`/`verifier`, the JWKS URL is discovered from the issuer (RFC 8414) on
 * first use.
 */
function requireAuth(options = {}) {
  const { realm, resourceMetadata, requiredScopes, anyScopes, verifier, ...verifierOptions } = options;
  if (verifier !== undefined && !(verifier instanceof Verifier)) {
    throw new TypeError('requireAuth: verifier must be an @authsec/sdk Verifier');
  }
  const { jwksUri, jwks_uri, jwks, discover } = verifierOptions;
  const keysGiven = [jwksUri, jwks_uri, jwks, discover].some((o) => o !== undefined);
  // Built now, so options that cannot work fail at startup; without a key source the core
  // discovers the JWKS from the issuer's metadata on first use.
  const v = verifier ?? new Verifier(keysGiven ? verifierOptions : { ...verifierOptions, discover: true });
  const scopeOptions = { requiredScopes, anyScopes };
  const challengeScopes = requiredScopes ?? anyScopes ?? null;

  return function authsecRequireAuth(req, res, next) {
    let token;
    try {
      token = native.bearerToken(authorizationHeader(req));
    } catch (e) {
      return refuse(res, fromNative(e), realm, challengeScopes, next, resourceMetadata);
    }
    if (token === null) return refuse(res, null, realm, challengeScopes, next, resourceMetadata);
    v.verify(token, scopeOptions).then(
      (payload) => {
        const auth = authResult(token, payload);
        Object.defineProperty(auth, CONTEXT, { value: { verifier: v, realm, resourceMetadata } });
        req.auth = auth;
        next();
      },
      (e) => refuse(res, e, realm, challengeScopes, next, resourceMetadata),
    );
  };
}

/**
 * Middleware (after `requireAuth`) that requires scopes: all of `scopes` (a space-separated string
 * or a list), or at least one of them with `{ any: true }`. Answers 403 `insufficient_scope`.
 */
function requiredScopes(scopes, options = {}) {
  const { any = false } = options;
  const scopeOptions = any ? { anyScopes: scopes } : { requiredScopes: scopes };
  return function authsecRequiredScopes(req, res, next) {
    const ctx = req.auth?.[CONTEXT];
    if (ctx === undefined) return next(configError('requiredScopes() must come after requireAuth()'));
    // The token is in the verifier's verified-token cache: this re-check answers at once.
    ctx.verifier.verify(req.auth.token, scopeOptions).then(
      () => next(),
      (e) => refuse(res, e, options.realm ?? ctx.realm, scopes, next, ctx.resourceMetadata),
    );
  };
}

/** The bearer token of an `Authorization` header value: null when there is none (the core's parser). */
function bearerToken(authorization) {
  try {
    return native.bearerToken(authorization ?? null);
  } catch (e) {
    throw fromNative(e);
  }
}

/** The scopes a claims object grants (`scope` and/or `scp`), as the core reads them. */
function scopesOf(claims) {
  return native.scopesOf(claims ?? {});
}

module.exports = { requireAuth, requiredScopes, bearerToken, scopesOf };
