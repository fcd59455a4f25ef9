'use strict';
// The error classes: the core's class tree (ErrorClass::ALL), declared here so editors and type
// checkers see them. Which class a code is raised as, its category and whether it is retryable
// come from the core's list (native.errorCodes()); a test keeps this tree equal to the core's.
// Everything exported here is public (index.js re-exports the module as it is).

const native = require('./native');

/** Each code's `{ code, category, class, description, retryable }`, from the core. */
const CODES = new Map(native.errorCodes().map((c) => [c.code, Object.freeze(c)]));

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

  /** The code's family (the core's category): `token_request`, `unavailable`, `config`, `invalid_token`, `insufficient_scope`, `internal`, `management`. */
  get category() {
    return CODES.get(this.code)?.category ?? 'internal';
  }

  /** Whether retrying the same token request may succeed (the core's classification). */
  get retryable() {
    return CODES.get(this.code)?.retryable ?? false;
  }

  // The native helpers read `code`, `message` and `missingScopes` of the error itself.

  /** The HTTP status a protected resource answers with for this error (401, 403, 400, 503, 500). */
  get httpStatus() {
    return native.challenge(null, this, null).status;
  }

  /** An RFC 6750 `WWW-Authenticate` value for this error. */
  wwwAuthenticate(realm, requiredScopes) {
    return native.wwwAuthenticate(realm ?? null, this, requiredScopes ?? null);
  }
}

/** Missing or invalid configuration, keys or key sets. */
class ConfigError extends AuthsecError {}
/** The token endpoint refused the request (an OAuth error code). */
class TokenRequestError extends AuthsecError {}
/** `invalid_client`: wrong client id, secret or assertion. */
class InvalidClientError extends TokenRequestError {}
/** `invalid_scope`: a requested scope is unknown or not allowed for the client. */
class InvalidScopeError extends TokenRequestError {}
/** No usable answer could be had (network, timeout, 5xx, 429, no key set); retrying later may help. */
class UnavailableError extends AuthsecError {}
/** `network_error`, `jwks_unavailable`: the server or the JWKS could not be reached. */
class NetworkError extends UnavailableError {}
/** `timeout`: a connect or read timeout, or the retry budget ran out. */
class TimeoutError extends NetworkError {}
/** `server_error`, `invalid_response`: the server failed or answered something unreadable. */
class ServerError extends UnavailableError {}
/** `rate_limited`: HTTP 429; `retryAfter` says how long the server asked to wait (seconds). */
class RateLimitedError extends UnavailableError {}
/** The token failed verification (RFC 6750 `invalid_token`, HTTP 401). */
class InvalidTokenError extends AuthsecError {}
/** `token_expired`: `exp` is in the past (beyond the leeway). */
class TokenExpiredError extends InvalidTokenError {}
/** `invalid_delegation` (a malformed `act` chain), `delegation_not_allowed` (a delegated token this resource does not accept). */
class DelegationError extends InvalidTokenError {}
/** `insufficient_scope`: the token is valid but lacks scopes (`missingScopes`, HTTP 403). */
class InsufficientScopeError extends AuthsecError {}
/** `internal_error`: a bug or an impossible state. */
class InternalError extends AuthsecError {}
/** The management API refused an operation: `not_found`, `conflict`, `invalid_client_metadata` (the message names the field), `access_denied`. */
class ManagementError extends AuthsecError {}

/** Every stable code of the core, in the core's order. */
const ERROR_CODES = Object.freeze([...CODES.keys()]);

/** Every stable error code with its description, category and retryability, from the core. */
function errorCodes() {
  return [...CODES.values()].map(({ code, description, category, retryable }) => ({ code, description, category, retryable }));
}

module.exports = {
  AuthsecError,
  ConfigError,
  TokenRequestError,
  InvalidClientError,
  InvalidScopeError,
  UnavailableError,
  NetworkError,
  TimeoutError,
  ServerError,
  RateLimitedError,
  InvalidTokenError,
  TokenExpiredError,
  DelegationError,
  InsufficientScopeError,
  InternalError,
  ManagementError,
  ERROR_CODES,
  errorCodes,
};

for (const C of Object.values(module.exports)) {
  if (C === AuthsecError || C.prototype instanceof AuthsecError) {
    Object.defineProperty(C.prototype, 'name', { value: C.name, writable: true, configurable: true, enumerable: false });
  }
}
