// The error classes every entry of the package exports (the core's class tree, built in glue.js).
export {
  AuthsecError, ConfigError, TokenRequestError, InvalidClientError, InvalidScopeError, UnavailableError,
  NetworkError, TimeoutError, ServerError, RateLimitedError, InvalidTokenError, TokenExpiredError,
  DelegationError, InsufficientScopeError, InternalError, ManagementError,
} from './glue.js';
