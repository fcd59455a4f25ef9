'use strict';
// Error classes. The codes and messages are the core's; this file only chooses a class per code
// (a test keeps `CODE_CLASSES` equal to the core's list, in order).

const native = require('./native');

class AuthsecError extends Error {
  /**
   * @param {string} message
   * @param {{code?: string, status?: number, retryAfter?: number, missingScopes?: string[], oauthError?: string, cause?: unknown}} [details]
   */
  constructor(message, details = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = details.code ?? 'internal_error';
    if (details.status !== undefined) this.status = details.status;
    if (details.retryAfter !== undefined) this.retryAfter = details.retryAfter;
    if (details.missingScopes !== undefined) this.missingScopes = Object.freeze([...details.missingScopes]);
    if (details.oauthError !== undefined) this.oauthError = details.oauthError;
  }

  /** Whether retrying the same token request may succeed (the core's classification). */
  get retryable() {
    return RETRYABLE.has(this.code);
  }

  /** The HTTP status a protected resource answers with for this error (401, 403, 400, 503, 500). */
  get httpStatus() {
    return native.httpStatus(errorLike(this));
  }

  /** An RFC 6750 `WWW-Authenticate` value for this error. */
  wwwAuthenticate(realm, requiredScopes) {
    return native.wwwAuthenticate(realm ?? null, errorLike(this), requiredScopes ?? null);
  }
}

/** The token endpoint refused the request (an OAuth error code). */
class TokenRequestError extends AuthsecError {}
/** `invalid_client`: wrong client id, secret or assertion. */
class InvalidClientError extends TokenRequestError {}
/** `invalid_scope`: a requested scope is unknown or not allowed for the client. */
class InvalidScopeError extends TokenRequestError {}
/** The authorization server or the JWKS could not be reached or understood; retrying may help. */
class NetworkError extends AuthsecError {}
/** `timeout`: a connect or read timeout, or the retry budget ran out. */
class TimeoutError extends NetworkError {}
/** `rate_limited`: HTTP 429; `retryAfter` says how long the server asked to wait (seconds). */
class RateLimitedError extends NetworkError {}
/** Missing or invalid configuration, keys or key sets. */
class ConfigError extends AuthsecError {}
/** The token failed verification (RFC 6750 `invalid_token`, HTTP 401). */
class InvalidTokenError extends AuthsecError {}
/** `token_expired`: `exp` is in the past (beyond the leeway). */
class TokenExpiredError extends InvalidTokenError {}
/** `insufficient_scope`: the token is valid but lacks scopes (`missingScopes`, HTTP 403). */
class InsufficientScopeError extends AuthsecError {}

/** Every stable code of the core, in the core's order, and the class thrown for it. */
const CODE_CLASSES = Object.freeze({
  invalid_request: TokenRequestError,
  invalid_client: InvalidClientError,
  invalid_grant: TokenRequestError,
  unauthorized_client: TokenRequestError,
  unsupported_grant_type: TokenRequestError,
  invalid_scope: InvalidScopeError,
  invalid_target: TokenRequestError,
  oauth_error: TokenRequestError,
  rate_limited: RateLimitedError,
  server_error: NetworkError,
  invalid_response: NetworkError,
  network_error: NetworkError,
  timeout: TimeoutError,
  insecure_transport: ConfigError,
  config_error: ConfigError,
  invalid_key: ConfigError,
  invalid_jwks: ConfigError,
  jwks_unavailable: NetworkError,
  malformed_token: InvalidTokenError,
  token_too_large: InvalidTokenError,
  unsupported_algorithm: InvalidTokenError,
  algorithm_mismatch: InvalidTokenError,
  key_not_found: InvalidTokenError,
  invalid_signature: InvalidTokenError,
  token_expired: TokenExpiredError,
  token_not_yet_valid: InvalidTokenError,
  invalid_issuer: InvalidTokenError,
  invalid_audience: InvalidTokenError,
  invalid_token_type: InvalidTokenError,
  unsupported_critical_header: InvalidTokenError,
  invalid_claim: InvalidTokenError,
  insufficient_scope: InsufficientScopeError,
  internal_error: AuthsecError,
});

const ERROR_CODES = Object.freeze(Object.keys(CODE_CLASSES));

const RETRYABLE = new Set(
  native
    .errorCodes()
    .filter((c) => c.retryable)
    .map((c) => c.code),
);

const CLASSES = [
  AuthsecError,
  TokenRequestError,
  InvalidClientError,
  InvalidScopeError,
  NetworkError,
  TimeoutError,
  RateLimitedError,
  ConfigError,
  InvalidTokenError,
  TokenExpiredError,
  InsufficientScopeError,
];
for (const C of CLASSES) {
  Object.defineProperty(C.prototype, 'name', { value: C.name, writable: true, configurable: true, enumerable: false });
}

function errorLike(e) {
  return { code: e.code, message: e.message, missingScopes: e.missingScopes ? [...e.missingScopes] : undefined };
}

/**
 * The error a native call threw or rejected with, as the matching `AuthsecError` subclass.
 * Anything that is not a core error (a TypeError for a wrong argument type, ...) is returned as is.
 */
function fromNative(e) {
  if (e instanceof AuthsecError || e === null || typeof e !== 'object') return e;
  const Class = typeof e.code === 'string' && Object.hasOwn(CODE_CLASSES, e.code) ? CODE_CLASSES[e.code] : null;
  if (Class === null) return e;
  const err = new Class(e.message, e);
  Error.captureStackTrace?.(err, fromNative);
  return err;
}

/** A `config_error` raised by the JS layer itself (a wrong option name). */
function configError(message) {
  return new ConfigError(message, { code: 'config_error' });
}

module.exports = {
  AuthsecError,
  TokenRequestError,
  InvalidClientError,
  InvalidScopeError,
  NetworkError,
  TimeoutError,
  RateLimitedError,
  ConfigError,
  InvalidTokenError,
  TokenExpiredError,
  InsufficientScopeError,
  CODE_CLASSES,
  ERROR_CODES,
  fromNative,
  configError,
  errorLike,
};
