'use strict';
// @authsec/sdk: machine-to-machine OAuth for Node.js on the authsec Rust core.

const errors = require('./lib/errors');
const client = require('./lib/client');
const { Verifier } = require('./lib/verifier');
const middleware = require('./lib/middleware');
const server = require('./lib/server');
const native = require('./lib/native');

/** Every stable error code with its description, from the core. */
function errorCodes() {
  return native.errorCodes().map(({ code, description }) => ({ code, description }));
}

module.exports = {
  ClientCredentials: client.ClientCredentials,
  AuthsecClient: client.AuthsecClient,
  AccessToken: client.AccessToken,
  ClientCredentialsToken: client.ClientCredentialsToken,
  authFetch: client.authFetch,
  createAuthFetch: client.createAuthFetch,
  Verifier,
  requireAuth: middleware.requireAuth,
  requiredScopes: middleware.requiredScopes,
  bearerToken: middleware.bearerToken,
  scopesOf: middleware.scopesOf,
  startLocalServer: server.startLocalServer,
  LocalServer: server.LocalServer,
  AuthsecError: errors.AuthsecError,
  TokenRequestError: errors.TokenRequestError,
  InvalidClientError: errors.InvalidClientError,
  InvalidScopeError: errors.InvalidScopeError,
  NetworkError: errors.NetworkError,
  TimeoutError: errors.TimeoutError,
  RateLimitedError: errors.RateLimitedError,
  ConfigError: errors.ConfigError,
  InvalidTokenError: errors.InvalidTokenError,
  TokenExpiredError: errors.TokenExpiredError,
  InsufficientScopeError: errors.InsufficientScopeError,
  ERROR_CODES: errors.ERROR_CODES,
  errorCodes,
};
module.exports.default = module.exports;
