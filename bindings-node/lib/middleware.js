'use strict';
// The resource side: RequestVerifier (the core's whole-request check: Bearer and DPoP tokens,
// certificate-bound tokens, nonces, replays, scopes, challenges) and Express (and plain node:http)
// middleware on it, in the spirit of express-oauth2-jwt-bearer. Every decision, status code and
// WWW-Authenticate challenge is the core's; this file only moves values between the request and
// the core.

const native = require('./native');
const { AuthsecError } = require('./errors');
const { AFTER_CORE, NATIVE, OFF_THREAD, fromNative, configError, authResult, flatHeaders } = require('./internal');
const { Verifier } = require('./verifier');
const { toPool, ranHere, onThePool } = require('./placement');

const CONTEXT = Symbol('authsec.requestContext');

/** The request options the core reads (`RequestPolicy`), both spellings: the rest go to the `Verifier`. */
const REQUEST_OPTIONS = new Set(native.requestOptionNames());

/**
 * The parts of a `node:http` (or Express) request the core reads: method, target as received
 * (`originalUrl` under an Express router), scheme of the connection, every header, the peer's
 * address and, on a TLS socket, the client certificate (DER).
 */
function requestParts(req) {
  const socket = req.socket;
  const tls = socket?.encrypted === true;
  const cert = tls ? socket.getPeerCertificate?.(true)?.raw : undefined;
  return {
    method: req.method,
    target: req.originalUrl ?? req.url,
    scheme: tls ? 'https' : 'http',
    rawHeaders: req.rawHeaders,
    peer: socket?.remoteAddress,
    clientCertificate: cert,
  };
}

/** The result as the JS API has it. */
function outcome(o) {
  if (o.accepted) {
    return {
      ok: true,
      claims: o.claims,
      token: o.token,
      scheme: o.scheme,
      dpopThumbprint: o.dpopJkt,
      certificateThumbprint: o.certificateThumbprint,
      headers: o.headers,
    };
  }
  return { ok: false, status: o.status, error: fromNative(o.error), oauthError: o.oauthError, headers: o.headers };
}

/**
 * Checks whole requests to a protected resource: the token (with its `Verifier`), how it is
 * presented (Bearer, or DPoP with a proof), its binding to a DPoP key or a TLS client certificate,
 * the resource's DPoP nonces, replayed proofs, and the scopes. `options` are the core's request
 * options (`dpop`, `dpopNonce`, `publicUrl`, `trustForwarded`, `clientCertHeader`, `realm`, ...)
 * plus `resourceMetadata` (named in every challenge).
 */
class RequestVerifier {
  #native;
  /** The handle of the direct call (`native.requestVerifyNow`). */
  #handle;
  #verifier;

  constructor(verifier, options = {}) {
    if (!(verifier instanceof Verifier)) throw new TypeError('RequestVerifier takes an @authsec/sdk Verifier and the request options');
    const { resourceMetadata, resource_metadata, ...rest } = options ?? {};
    try {
      this.#native = new native.NativeRequestVerifier(verifier[NATIVE], rest, resourceMetadata ?? resource_metadata ?? null);
    } catch (e) {
      throw fromNative(e);
    }
    this.#handle = this.#native.handle();
    this.#verifier = verifier;
  }

  /** The `Verifier` it checks tokens with. */
  get verifier() {
    return this.#verifier;
  }

  /**
   * Check a request: `{ method, target, scheme, headers | rawHeaders, peer, clientCertificate }`
   * (see `requestParts(req)`) and the scopes it needs. Resolves to `{ ok: true, claims, token,
   * scheme, dpopThumbprint, certificateThumbprint, headers }` or `{ ok: false, status, error,
   * oauthError, headers }`; `headers` (`[name, value]` pairs) go on the response as they are.
   */
  async verify(request, scopes = {}) {
    const { requiredScopes = null, anyScopes = null } = scopes ?? {};
    const after = this.#verifier[AFTER_CORE];
    const input = {
      method: String(request.method ?? 'GET'),
      target: String(request.target ?? '/'),
      scheme: String(request.scheme ?? 'http'),
      headers: request.rawHeaders !== undefined ? request.rawHeaders.map(String) : flatHeaders(request.headers),
      peer: request.peer ?? undefined,
      clientCertificate: request.clientCertificate ?? undefined,
    };
    let o;
    try {
      // With an allowedActors callback the scopes are checked after it (the core's order).
      // Where the check runs: see placement.js (the Verifier's `offThread` option). Here, the
      // answer is the outcome, or a Promise when the check waits for I/O (a key fetch).
      const [all, some] = after ? [null, null] : [requiredScopes, anyScopes];
      if (toPool(this.#verifier[OFF_THREAD])) {
        o = await onThePool(this.#native.verify(input, all, some));
      } else {
        o = native.requestVerifyNow(this.#handle, input, all, some);
        if (typeof o?.then === 'function') o = await o;
        else ranHere();
      }
    } catch (e) {
      throw fromNative(e);
    }
    if (o.accepted && after !== null) {
      try {
        await after(o.claims, requiredScopes, anyScopes);
      } catch (e) {
        if (!(e instanceof AuthsecError)) throw e;
        return this.refusal(e, { scheme: o.scheme, requiredScopes, anyScopes });
      }
    }
    return outcome(o);
  }

  /**
   * The answer to a request refused after `verify` accepted it (a check of the host's): `error`
   * an `AuthsecError` (or null: no credential), `scheme` the one the request used.
   */
  refusal(error, { scheme = null, requiredScopes = null, anyScopes = null, realm = null } = {}) {
    try {
      return outcome(this.#native.refusal(error, scheme, requiredScopes, anyScopes, realm));
    } catch (e) {
      throw fromNative(e);
    }
  }
}

/** Answer a refused request: the core's status and headers (one `WWW-Authenticate` line per scheme). */
function refuse(res, r, next) {
  if (res.headersSent) return next(r.error ?? configError('the response was already sent'));
  res.statusCode = r.status;
  for (const [k, v] of r.headers) res.appendHeader(k, v);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  const body = { error: r.oauthError ?? undefined, error_description: r.error === null ? 'a bearer token is required' : r.error.message };
  res.end(JSON.stringify(body));
}

/** The options for the core's request policy, and the rest (the `Verifier`'s). */
function splitRequestOptions(options) {
  const request = {};
  const rest = {};
  for (const [k, v] of Object.entries(options)) (REQUEST_OPTIONS.has(k) ? request : rest)[k] = v;
  return [request, rest];
}

/**
 * Middleware that requires a valid access token, Bearer or DPoP-bound (with its proof), or bound
 * to the TLS client certificate. On success `req.auth = { payload, token, clientId, scopes,
 * expiresAt, extra, scheme, dpopThumbprint, certificateThumbprint }` (`payload` = the verified
 * claims; the MCP SDK's `AuthInfo` fields) and `next()` is called; otherwise it answers 401/403 (400
 * for a malformed request, 503 when the keys are unavailable) with a `WWW-Authenticate` challenge
 * per scheme (and `DPoP-Nonce` when the core asks for one).
 *
 * Options: the `Verifier` options (`issuer`, `audience`, `jwksUri` or `jwks`, `algorithms`,
 * `leeway`, `audienceMatch`, ...) or an existing `verifier`; `requiredScopes` / `anyScopes`;
 * `realm`; `resourceMetadata` (the URL of the API's RFC 9728 metadata, named in every challenge);
 * the request options (`dpop`: `"allowed"` | `"required"` | `"disabled"`, `dpopNonce`,
 * `publicUrl`, `trustForwarded`, `trustedProxies`, `clientCertHeader`, ...). Without
 * `jwksUri`/`jwks`/`verifier`, the JWKS URL is discovered from the issuer (RFC 8414) on first use.
 */
function requireAuth(options = {}) {
  const { resourceMetadata, requiredScopes, anyScopes, verifier, ...others } = options;
  if (verifier !== undefined && !(verifier instanceof Verifier)) {
    throw new TypeError('requireAuth: verifier must be an @authsec/sdk Verifier');
  }
  const [requestOptions, verifierOptions] = splitRequestOptions(others);
  const { jwksUri, jwks_uri, jwks, discover } = verifierOptions;
  const keysGiven = [jwksUri, jwks_uri, jwks, discover].some((o) => o !== undefined);
  // Built now, so options that cannot work fail at startup; without a key source the core
  // discovers the JWKS from the issuer's metadata on first use.
  const v = verifier ?? new Verifier(keysGiven ? verifierOptions : { ...verifierOptions, discover: true });
  const rv = new RequestVerifier(v, { ...requestOptions, resourceMetadata });
  const scopeOptions = { requiredScopes, anyScopes };

  return function authsecRequireAuth(req, res, next) {
    rv.verify(requestParts(req), scopeOptions).then((r) => {
      if (!r.ok) return refuse(res, r, next);
      for (const [k, val] of r.headers) res.appendHeader(k, val);
      const auth = authResult(r.token, r.claims);
      auth.scheme = r.scheme;
      auth.dpopThumbprint = r.dpopThumbprint;
      auth.certificateThumbprint = r.certificateThumbprint;
      Object.defineProperty(auth, CONTEXT, { value: { rv, scheme: r.scheme } });
      req.auth = auth;
      next();
    }, next);
  };
}

/**
 * Middleware (after `requireAuth`) that requires scopes: all of `scopes` (a space-separated string
 * or a list), or at least one of them with `{ any: true }`. Answers 403 `insufficient_scope`.
 */
function requiredScopes(scopes, options = {}) {
  const { any = false, realm = null } = options;
  const scopeOptions = any ? { anyScopes: scopes } : { requiredScopes: scopes };
  return function authsecRequiredScopes(req, res, next) {
    const ctx = req.auth?.[CONTEXT];
    if (ctx === undefined) return next(configError('requiredScopes() must come after requireAuth()'));
    try {
      native.checkScopes(req.auth.payload, scopeOptions.requiredScopes ?? null, scopeOptions.anyScopes ?? null);
    } catch (e) {
      const err = fromNative(e);
      if (!(err instanceof AuthsecError)) return next(err);
      return refuse(res, ctx.rv.refusal(err, { ...scopeOptions, scheme: ctx.scheme, realm }), next);
    }
    next();
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

module.exports = { RequestVerifier, requestParts, requireAuth, requiredScopes, bearerToken, scopesOf };
