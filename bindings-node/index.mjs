// ESM entry of @authsec/sdk (the implementation is the CommonJS build, so both share one addon).
import sdk from './index.js';

export const {
  ClientCredentials,
  AuthsecClient,
  AccessToken,
  ClientCredentialsToken,
  authFetch,
  createAuthFetch,
  Verifier,
  requireAuth,
  requiredScopes,
  bearerToken,
  scopesOf,
  startLocalServer,
  LocalServer,
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
  ERROR_CODES,
  errorCodes,
} = sdk;
export default sdk;
