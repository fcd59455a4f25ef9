// Type declarations for @authsec/sdk (hand-written; checked by `tsc --noEmit` in test.sh).

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ManualClock } from './testing';

/** A space-separated string or a list. */
export type Scopes = string | readonly string[];

/** What `fetch` takes as its first argument. */
export type FetchInput = string | URL | Request;

// ----------------------------------------------------------------------------------------------
// Errors

/** Every stable error code (the core's list, in order). */
export type ErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'oauth_error'
  | 'rate_limited'
  | 'server_error'
  | 'invalid_response'
  | 'network_error'
  | 'timeout'
  | 'insecure_transport'
  | 'config_error'
  | 'invalid_key'
  | 'invalid_jwks'
  | 'jwks_unavailable'
  | 'workload_api_unavailable'
  | 'malformed_token'
  | 'token_too_large'
  | 'unsupported_algorithm'
  | 'algorithm_mismatch'
  | 'key_not_found'
  | 'invalid_signature'
  | 'token_expired'
  | 'token_not_yet_valid'
  | 'invalid_issuer'
  | 'invalid_audience'
  | 'invalid_token_type'
  | 'unsupported_critical_header'
  | 'invalid_claim'
  | 'invalid_delegation'
  | 'delegation_not_allowed'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce'
  | 'invalid_spiffe_id'
  | 'unknown_trust_domain'
  | 'insufficient_scope'
  | 'spiffe_id_not_allowed'
  | 'internal_error'
  | 'not_found'
  | 'conflict'
  | 'invalid_client_metadata'
  | 'access_denied';

export declare const ERROR_CODES: readonly ErrorCode[];

/** The families of codes (the core's categories); each has its class under `AuthsecError`. */
export type ErrorCategory = 'token_request' | 'unavailable' | 'config' | 'invalid_token' | 'insufficient_scope' | 'internal' | 'management';

/** Every stable error code with a one-line description, its category and retryability, from the core. */
export declare function errorCodes(): { code: ErrorCode; description: string; category: ErrorCategory; retryable: boolean }[];

export interface AuthsecErrorDetails {
  code?: ErrorCode;
  status?: number;
  retryAfter?: number;
  missingScopes?: readonly string[];
  oauthError?: string;
  cause?: unknown;
}

/** The base class of every error the SDK throws for a core error code. */
export declare class AuthsecError extends Error {
  constructor(message: string, details?: AuthsecErrorDetails);
  /** The stable code. */
  readonly code: ErrorCode;
  /** The HTTP status of the server answer this error came from (token endpoint, JWKS). */
  readonly status?: number;
  /** Seconds the server asked to wait (429 / 503 `Retry-After`). */
  readonly retryAfter?: number;
  /** For `insufficient_scope`: the scopes the token lacks. */
  readonly missingScopes?: readonly string[];
  /** For OAuth errors: the `error` value exactly as the server sent it. */
  readonly oauthError?: string;
  /** The code's family (the core's category). */
  readonly category: ErrorCategory;
  /** Whether retrying the same token request may succeed. */
  readonly retryable: boolean;
  /** The HTTP status a protected resource answers with for this error. */
  readonly httpStatus: number;
  /** An RFC 6750 `WWW-Authenticate` value for this error. */
  wwwAuthenticate(realm?: string | null, requiredScopes?: Scopes | null): string;
}
// The class tree is the core's (ErrorClass): the same names in every language.
/** `config_error`, `insecure_transport`, `invalid_key`, `invalid_jwks`. */
export declare class ConfigError extends AuthsecError {}
/** The token endpoint refused the request (`invalid_request`, `invalid_grant`, `unauthorized_client`, ...). */
export declare class TokenRequestError extends AuthsecError {}
/** `invalid_client`. */
export declare class InvalidClientError extends TokenRequestError {}
/** `invalid_scope`. */
export declare class InvalidScopeError extends TokenRequestError {}
/** No usable answer could be had (retryable family): network, timeouts, 5xx, 429, no key set. */
export declare class UnavailableError extends AuthsecError {}
/** `network_error`, `jwks_unavailable`. */
export declare class NetworkError extends UnavailableError {}
/** `timeout`. */
export declare class TimeoutError extends NetworkError {}
/** `server_error`, `invalid_response`. */
export declare class ServerError extends UnavailableError {}
/** `rate_limited` (HTTP 429). */
export declare class RateLimitedError extends UnavailableError {}
/** A token failed verification (RFC 6750 `invalid_token`). */
export declare class InvalidTokenError extends AuthsecError {}
/** `token_expired`. */
export declare class TokenExpiredError extends InvalidTokenError {}
/**
 * `invalid_delegation`: the token's `act` chain is malformed (not an object, a cycle, `exp`/`aud`/`scope`
 * inside it, nested too deep); `delegation_not_allowed`: a delegated token this resource does not
 * accept (`forbidDelegation`, `maxDelegationDepth`, `allowedActors`).
 */
export declare class DelegationError extends InvalidTokenError {}
/** `insufficient_scope`. */
export declare class InsufficientScopeError extends AuthsecError {}
/** `internal_error`: a bug or an impossible state. */
export declare class InternalError extends AuthsecError {}
/** The management API refused an operation: `not_found`, `conflict`, `invalid_client_metadata`, `access_denied`. */
export declare class ManagementError extends AuthsecError {}

// ----------------------------------------------------------------------------------------------
// Getting tokens

export type AuthMethod =
  | 'client_secret_basic'
  | 'client_secret_post'
  | 'private_key_jwt'
  /** RFC 8705 mutual TLS with a CA-issued certificate (`tlsClientCert` / `tlsClientKey`). */
  | 'tls_client_auth'
  /** RFC 8705 mutual TLS with a self-signed certificate registered with the server. */
  | 'self_signed_tls_client_auth'
  /**
   * No secret: the workload's SPIFFE JWT-SVID from the Workload API (the SPIRE agent), as a
   * client assertion or a JWT-bearer grant (`spiffeGrant`).
   */
  | 'spiffe_jwt'
  /** No secret: the workload's X.509-SVID from the Workload API as the TLS client certificate (rotated without a restart). */
  | 'spiffe_x509';

export interface ClientCredentialsOptions {
  /** The token endpoint. Without it, `https://{domain}/oauth/token`, or discovered from `issuer` (RFC 8414). */
  tokenUrl?: string;
  /** e.g. `auth.authsec.ai` (token endpoint `https://{domain}/oauth/token`), or a full URL. */
  domain?: string;
  issuer?: string;
  /** Required, except with `authMethod: 'spiffe_jwt'` (the SVID's SPIFFE ID is the client then). */
  clientId?: string;
  clientSecret?: string;
  /** A file holding the client secret. */
  clientSecretFile?: string;
  scopes?: Scopes;
  audience?: string;
  /** RFC 8707 resource indicators. */
  resource?: Scopes;
  /** Default `client_secret_basic`; `private_key_jwt` when only a `privateKey` is given. */
  authMethod?: AuthMethod;
  /** PEM or private JWK (JSON text), for `private_key_jwt`. */
  privateKey?: string;
  privateKeyFile?: string;
  /** Signing algorithm for the assertion (inferred from the key by default). */
  privateKeyAlg?: string;
  /** `kid` of the assertion (the key's RFC 7638 thumbprint by default). */
  privateKeyId?: string;
  /** Refresh this long before expiry: seconds, or a string such as `"5m"` (default 300 s). */
  refreshBuffer?: number | string;
  /** Allow plain `http://` to hosts other than loopback. */
  allowInsecureHttp?: boolean;
  /** Attempts per token request, the first included (default 4). */
  maxAttempts?: number;
  /**
   * DPoP (RFC 9449): ask for tokens bound to a key of the client's (a fresh one unless `dpopKey`
   * gives it); `authorize` and the fetch wrapper then send a proof with every request.
   */
  dpop?: boolean;
  /** The DPoP key: PEM or private JWK (JSON text); implies `dpop: true`. */
  dpopKey?: string;
  dpopKeyFile?: string;
  /** The DPoP key's algorithm (for a generated key: `ES256` by default). */
  dpopAlg?: string;
  /** The TLS client certificate chain (PEM), for mutual TLS to the token endpoint (RFC 8705). */
  tlsClientCert?: string;
  tlsClientCertFile?: string;
  /** The TLS client certificate's private key (PEM). */
  tlsClientKey?: string;
  tlsClientKeyFile?: string;
  /** CA certificates (PEM) trusted besides the system's. */
  tlsCaCert?: string;
  tlsCaFile?: string;
  /** `spiffe_jwt` / `spiffe_x509`: the Workload API's endpoint (`unix:///path`; default `SPIFFE_ENDPOINT_SOCKET`). */
  spiffeEndpointSocket?: string;
  /** `spiffe_jwt`: the SPIFFE ID to ask for (default: the workload's default identity). */
  spiffeId?: string;
  /** `spiffe_jwt`: the SVID's audience (default: `issuer`, else `tokenUrl`). */
  spiffeAudience?: string;
  /** `spiffe_jwt`: reuse an SVID while it has half its life left (default true). */
  spiffeReuseSvid?: boolean;
  /** `spiffe_jwt`: send the SVID as a client assertion (default) or as a JWT-bearer grant (RFC 7523). */
  spiffeGrant?: 'client_assertion' | 'jwt_bearer';
  /** INTERNAL test hook: a `ManualClock` from `@authsec/sdk/testing`. */
  clock?: ManualClock;
}

/** Per-call parameters; absent fields keep the client's configured values. */
export interface TokenParams {
  scopes?: Scopes;
  audience?: string;
  resource?: Scopes;
}

/** An access token. `util.inspect` and `toJSON` show `accessToken: '***'`. */
export declare class AccessToken {
  protected constructor();
  /** The token itself. */
  readonly accessToken: string;
  /** `Bearer` (or `DPoP`). */
  readonly tokenType: string;
  /** Expiry in Unix seconds. */
  readonly expiresAt: number;
  /** Granted scopes (the requested ones when the server did not say). */
  readonly scopes: readonly string[];
  /** The `Authorization` header value, e.g. `Bearer eyJ...`. */
  readonly authorization: string;
  /**
   * What a token exchange issued (RFC 8693 `issued_token_type`, e.g.
   * `urn:ietf:params:oauth:token-type:access_token`); absent for client credentials.
   */
  readonly issuedTokenType?: string;
  toJSON(): { accessToken: '***'; tokenType: string; expiresAt: number; scopes: readonly string[]; issuedTokenType?: string };
}

/**
 * A token type: `access_token`, `jwt`, `id_token`, `refresh_token`, or a
 * `urn:ietf:params:oauth:token-type:*` URN.
 */
export type TokenType = 'access_token' | 'jwt' | 'id_token' | 'refresh_token' | `urn:ietf:params:oauth:token-type:${string}`;

/** An RFC 8693 token exchange. Scopes, audience and resource are these only (not the client's configured ones). */
export interface ExchangeTokenOptions {
  /** The token to exchange: typically the access token this service's caller sent. */
  subjectToken: string | AccessToken;
  /** Default `access_token`. */
  subjectTokenType?: TokenType;
  /** The token of the party acting for the subject, when it is not this client alone. */
  actorToken?: string | AccessToken;
  /** Default `access_token` (only with `actorToken`). */
  actorTokenType?: TokenType;
  /** Default `access_token`; the response's `issued_token_type` must be it. */
  requestedTokenType?: TokenType;
  scopes?: Scopes;
  audience?: string;
  /** RFC 8707 resource indicators. */
  resource?: Scopes;
}

/** The API a downstream token is for: `audience` and/or `resource` (at least one), and the scopes wanted there. */
export interface DownstreamTarget {
  audience?: string;
  resource?: Scopes;
  scopes?: Scopes;
}

/** `AccessToken` with the OAuth response field names too, for code written against the docs. */
export declare class ClientCredentialsToken extends AccessToken {
  readonly access_token: string;
  readonly token_type: string;
  /** Seconds until expiry, by the wall clock at the time of reading. */
  readonly expires_in: number;
  /** Granted scopes, space-separated. */
  readonly scope: string;
}

/** OAuth 2.0 client credentials with a token cache: refreshed before expiry, one request in flight per cache key. */
export declare class ClientCredentials {
  constructor(options: ClientCredentialsOptions);
  /** From `AUTHSEC_*` environment variables (`process.env` by default). */
  static fromEnv(env?: Record<string, string | undefined>, options?: { clock?: ManualClock }): ClientCredentials;
  /** From a YAML file like the product docs' (`authsec:` mapping, `${VAR}` interpolation). */
  static fromConfigFile(path: string, options?: { clock?: ManualClock }): ClientCredentials;
  /** A token for the configured parameters, or for `params` (cached separately). */
  getToken(params?: TokenParams): Promise<AccessToken>;
  /**
   * RFC 8693 token exchange: a token that acts for `subjectToken`'s subject, for the scopes,
   * audience and resource named here. Cached per subject token, never past its `exp`.
   */
  exchangeToken(options: ExchangeTokenOptions): Promise<AccessToken>;
  /**
   * "I received `inboundToken`; get me a token for the downstream API": an exchange that must name
   * the API (`audience` or `resource`; a `ConfigError` otherwise).
   */
  downstreamToken(inboundToken: string | AccessToken, target: DownstreamTarget): Promise<AccessToken>;
  /** Drop every cached token. */
  invalidate(): void;
  /** Drop the cached token only if it is this one (after a 401 for it). */
  invalidateToken(token: AccessToken | string): void;
  /** The RFC 7638 thumbprint of the client's DPoP key (its tokens' `cnf.jkt`); null without DPoP. */
  readonly dpopThumbprint: string | null;
  /**
   * The headers that authorize one request with `token` to `url`: `Authorization` with the
   * token's scheme and, for a DPoP token, a fresh `DPoP` proof. Build them anew for every attempt.
   */
  authorize(token: AccessToken, method: string, url: string | URL): Record<string, string>;
  /**
   * How a resource at `url` answered a request that carried `token` (call it for every answer: it
   * keeps the resource's `DPoP-Nonce`): `'retry'` to resend once with fresh headers from
   * `authorize` (after `getToken()` again), `'give_up'` to hand the answer on. `retries`: how many
   * times this request was resent already.
   */
  onResourceResponse(
    url: string | URL,
    token: AccessToken | string,
    status: number,
    headers: Headers | Record<string, string | readonly string[] | undefined> | Iterable<readonly [string, string]>,
    retries?: number,
  ): 'retry' | 'give_up';
  /** `fetch` with this client's token (Bearer, or DPoP with a proof); one resend when the core says so. */
  fetch(input: FetchInput, init?: RequestInit): Promise<Response>;
}

/** `ClientCredentials`' options: `domain` (e.g. `auth.authsec.ai`) as in the product docs, or `tokenUrl`. */
export type AuthsecClientOptions = ClientCredentialsOptions;

/** The product docs' client shape. */
export declare class AuthsecClient {
  constructor(options: AuthsecClientOptions);
  /** A client-credentials token for `audience` and `scope`, cached per combination. */
  getClientCredentialsToken(params?: { audience?: string; scope?: Scopes; scopes?: Scopes; resource?: Scopes }): Promise<ClientCredentialsToken>;
  /** The underlying `ClientCredentials`. */
  readonly client: ClientCredentials;
}

/**
 * `fetch` with `client`'s token: headers from `client.authorize` for every attempt, every answer to
 * `client.onResourceResponse`; the request is sent once more when it says `'retry'` (a DPoP nonce
 * challenge, or a 401 a fresh token may fix), else the answer returned.
 */
export declare function authFetch(
  client: ClientCredentials,
  input: FetchInput,
  init?: RequestInit,
  options?: { fetch?: typeof fetch },
): Promise<Response>;

/** A `fetch` bound to `client` (see `authFetch`). */
export declare function createAuthFetch(
  client: ClientCredentials,
  options?: { fetch?: typeof fetch },
): (input: FetchInput, init?: RequestInit) => Promise<Response>;

// ----------------------------------------------------------------------------------------------
// Verifying tokens

export type Algorithm = 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'EdDSA';

/** A JWKS document. */
export interface Jwks {
  keys: Record<string, unknown>[];
}

export interface VerifierOptions {
  /** The expected `iss`. */
  issuer?: string;
  /** Accepted audiences: `aud` must contain one. */
  audience?: Scopes;
  /** The issuer's JWKS URL (cached per `Cache-Control`, refetched for an unknown `kid`). */
  jwksUri?: string;
  /** A static JWKS: the document or its JSON text. */
  jwks?: Jwks | string;
  /** Find the JWKS URL in the issuer's metadata (RFC 8414, then OpenID Connect), on first use. */
  discover?: boolean;
  /** Allowed algorithms (default: every supported asymmetric one). */
  algorithms?: readonly Algorithm[];
  /** Clock-skew leeway in seconds (default 5, at most 300). */
  leeway?: number;
  /** `"strict"` requires `typ: at+jwt` (RFC 9068). */
  typ?: 'default' | 'strict';
  /** Claims that must be present. */
  requiredClaims?: readonly string[];
  /** Token size limit in bytes (default 16384). */
  maxTokenBytes?: number;
  /** Only when you check `iss` yourself. */
  skipIssuerCheck?: boolean;
  /** Only when tokens are audience-less by design. */
  skipAudienceCheck?: boolean;
  /**
   * How a token's `aud` is compared with `audience` (a missing `aud` always fails): `"exact"` (the
   * default; RFC 9728 §3.3), `"trailing_slash"` (`https://api.example` and `https://api.example/`
   * are the same), or `"path_prefix"` (a token for a URL above `audience` on the same origin, at a
   * `/` boundary, is accepted: `https://api.example/` for `https://api.example/mcp`).
   */
  audienceMatch?: AudienceMatch;
  /** Verified tokens remembered (default 10,000; 0 disables the cache). */
  verifiedCacheSize?: number;
  /** Allow a plain `http://` JWKS URL to hosts other than loopback. */
  allowInsecureHttp?: boolean;
  /** Refuse every delegated token (one carrying `act`): `DelegationError`, `delegation_not_allowed`. */
  forbidDelegation?: boolean;
  /** The most actors a token's `act` chain may hold (0 to 16); a longer chain is refused (`delegation_not_allowed`). */
  maxDelegationDepth?: number;
  /**
   * Who may act for a token's subject (RFC 8693 §4.1: the current actor only; the earlier ones are
   * for audit). A list of actor ids (`client_id`, else `sub`), checked by the core; or a function
   * called with the current actor after a delegated token verified (never for an undelegated one,
   * and before the scope check): return `true` to accept it, `false` to refuse it with a
   * `DelegationError` (`delegation_not_allowed`); it may return a Promise of either, and is called
   * for every verification, cache hits included.
   */
  allowedActors?: readonly string[] | AllowActor;
  /**
   * Where first-sight checks run (a choice of this binding, not a core option). `'auto'` (the
   * default): on the calling thread when it is the only check in progress (a signature check
   * costs less than the hop to a worker), on libuv's thread pool when checks pile up, so every
   * core works. `true`: always the pool (keeps long RSA checks off a busy event loop). `false`:
   * always the calling thread. A key-set fetch always runs off the calling thread.
   */
  offThread?: boolean | 'auto';
  /** INTERNAL test hook: a `ManualClock` from `@authsec/sdk/testing`. */
  clock?: ManualClock;
}

/** How a token's `aud` is compared with the configured audience. */
export type AudienceMatch = 'exact' | 'trailing_slash' | 'path_prefix';

/** An `allowedActors` callback: `true` accepts the current actor, `false` refuses the token. */
export type AllowActor = (actor: Actor) => boolean | Promise<boolean>;

/** One link of a delegation chain (RFC 8693 `act`): who acted. Frozen. */
export interface Actor {
  readonly sub: string | undefined;
  readonly clientId: string | undefined;
  readonly iss: string | undefined;
  /** The id policies match: `clientId`, else `sub`. */
  readonly id: string;
}

/**
 * Verified claims: the token's payload (frozen; shared between calls for the same token), plus
 * `delegation` and `actor`, which are not enumerable (spreads, `Object.keys` and `JSON.stringify`
 * show exactly the payload; a payload member of either name is shadowed by them).
 */
export interface Claims {
  readonly iss?: string;
  readonly sub?: string;
  readonly aud?: string | readonly string[];
  readonly exp: number;
  readonly nbf?: number;
  readonly iat?: number;
  readonly jti?: string;
  readonly client_id?: string;
  readonly scope?: string;
  readonly scp?: string | readonly string[];
  /** The raw RFC 8693 `act` claim (the chain, current actor outermost). */
  readonly act?: Readonly<Record<string, unknown>>;
  /**
   * The delegation chain the core read from `act`, current actor first; empty when nobody acts for
   * the subject. Decide access on the top-level claims and `actor` only: the earlier actors are for
   * audit (RFC 8693 §4.1).
   */
  readonly delegation: readonly Actor[];
  /** The party acting for the subject now (`delegation[0]`), or `null` for an undelegated token. */
  readonly actor: Actor | null;
  readonly [claim: string]: unknown;
}

export interface VerifyOptions {
  /** Every one of these scopes is required. */
  requiredScopes?: Scopes | null;
  /** At least one of these scopes is required. */
  anyScopes?: Scopes | null;
}

/** Verifies JWT access tokens (RFC 9068) against a JWKS. */
export declare class Verifier {
  constructor(options: VerifierOptions);
  /** A verifier whose JWKS URL comes from the issuer's metadata (`discover: true`), fetched before it resolves. */
  static discover(options: VerifierOptions & { issuer: string }): Promise<Verifier>;
  /** Verify a token (signature, algorithm, `typ`, claims, scopes) and resolve to its claims. */
  verify(token: string, options?: VerifyOptions): Promise<Claims>;
  /**
   * `verify` on the calling thread: the claims, or a thrown error. The keys must be at hand (a
   * static `jwks`, or a key set fetched by `verify`, `warm()` or `Verifier.discover`); otherwise it
   * throws an `UnavailableError` (`jwks_unavailable`). An `allowedActors` callback must answer
   * synchronously (a Promise is a `TypeError`).
   */
  verifySync(token: string, options?: VerifyOptions): Claims;
  /** Fetch the key set now (so that `verifySync` can answer); nothing to do for a static `jwks`. */
  warm(): Promise<void>;
}

// ----------------------------------------------------------------------------------------------
// Express / node:http middleware

/**
 * What `requireAuth` (and `@authsec/sdk/mcp`'s middleware) puts on the request: the claims and the
 * token, with the fields of the MCP SDK's `AuthInfo`, so the request can go on to an MCP SDK
 * transport (`transport.handleRequest(req, res, req.body)`) as it is.
 */
export interface AuthResult {
  /** The verified claims. */
  payload: Claims;
  /** The bearer token. */
  token: string;
  /** The `client_id` claim, else `sub`. */
  clientId: string;
  /** The scopes the token grants (`scope` and/or `scp`). */
  scopes: string[];
  /** `exp`, Unix seconds. */
  expiresAt: number;
  /** The MCP server's URL (set by `@authsec/sdk/mcp`). */
  resource?: URL;
  /** The URL of the MCP server's RFC 9728 metadata (set by `@authsec/sdk/mcp`). */
  resourceMetadataUrl?: string;
  /** `{ sub, iss, claims, delegation }` (`delegation`: the `act` chain, current actor first). */
  extra: { sub: string | undefined; iss: string | undefined; claims: Claims; delegation: readonly Actor[] };
  /** How the token came (set by `requireAuth`). */
  scheme?: 'Bearer' | 'DPoP';
  /** The thumbprint of the key whose DPoP proof came with the token (set by `requireAuth`). */
  dpopThumbprint?: string | null;
  /** The `x5t#S256` of the client certificate the token is bound to (set by `requireAuth`). */
  certificateThumbprint?: string | null;
}

/** A request after `requireAuth`. */
export type AuthenticatedRequest = IncomingMessage & { auth?: AuthResult };

export type Middleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

/** How a resource checks requests (read by the core; snake_case names accepted too). */
export interface RequestOptions {
  /** Which DPoP-bound tokens are taken: `allowed` (default: Bearer and DPoP), `required`, `disabled`. */
  dpop?: 'allowed' | 'required' | 'disabled';
  /** The DPoP proof algorithms taken (default: every asymmetric one). */
  dpopAlgorithms?: readonly string[];
  /** How old a proof may be, in seconds. */
  dpopMaxAge?: number;
  /** Clock skew allowed for a proof's `iat`, in seconds. */
  dpopLeeway?: number;
  /** Require a nonce of this resource in every proof (RFC 9449 §9). */
  dpopNonce?: boolean;
  /** base64url, at least 32 bytes: instances sharing it accept each other's nonces. */
  dpopNonceKey?: string;
  /** Seconds a nonce is good for (default 60). */
  dpopNonceLifetime?: number;
  /** Proofs the in-memory replay cache remembers at most. */
  replayCapacity?: number;
  /** The resource's URL as clients reach it (the proofs' `htu` is compared with it). */
  publicUrl?: string;
  /** Believe `Forwarded` / `X-Forwarded-*` for the request's URL. */
  trustForwarded?: boolean;
  /** The proxies (IP addresses or CIDR ranges) whose forwarded and client-certificate headers are believed. */
  trustedProxies?: string | readonly string[];
  /** A header a TLS-terminating proxy puts the client certificate in (e.g. `x-forwarded-client-cert`). */
  clientCertHeader?: string;
  /** Its format: `xfcc` (Envoy), `rfc9440`, `pem`. */
  clientCertHeaderFormat?: 'xfcc' | 'rfc9440' | 'pem';
  /** Refuse tokens that are not bound to the request's client certificate. */
  requireCertificateBinding?: boolean;
  /** The `realm` of `WWW-Authenticate` challenges. */
  realm?: string;
}

/** A request as the core reads it (`requestParts(req)` builds it from a `node:http` request). */
export interface RequestParts {
  method: string;
  /** The request target as received: `/path?query`. */
  target: string;
  /** `https` when the connection was TLS, else `http`. */
  scheme: 'http' | 'https';
  /** Node's `rawHeaders` (name, value, name, value, ...). */
  rawHeaders?: readonly string[];
  /** Or the headers as pairs or an object (when there is no `rawHeaders`). */
  headers?: Headers | Record<string, string | readonly string[] | undefined> | Iterable<readonly [string, string]>;
  /** The peer's address. */
  peer?: string | null;
  /** The DER of the TLS client certificate. */
  clientCertificate?: Uint8Array | null;
}

/** Response headers to send as they are (`WWW-Authenticate` once per scheme, `DPoP-Nonce`). */
export type ResponseHeaders = readonly (readonly [string, string])[];

export interface RequestAccepted {
  ok: true;
  claims: Claims;
  token: string;
  scheme: 'Bearer' | 'DPoP';
  /** The thumbprint of the DPoP proof's key (the token's `cnf.jkt`), for the DPoP scheme. */
  dpopThumbprint: string | null;
  /** The `x5t#S256` of the client certificate the token is bound to. */
  certificateThumbprint: string | null;
  headers: ResponseHeaders;
}

export interface RequestRefused {
  ok: false;
  status: number;
  /** Null when the request had no credential. */
  error: AuthsecError | null;
  /** The challenge's error code (`invalid_token`, `invalid_dpop_proof`, `use_dpop_nonce`, ...), for the body. */
  oauthError: string | null;
  headers: ResponseHeaders;
}

/** The parts of a `node:http` / Express request the core reads (the TLS client certificate included). */
export declare function requestParts(req: IncomingMessage): RequestParts;

/**
 * Checks whole requests to a protected resource with a `Verifier`: the token, its scheme (Bearer,
 * or DPoP with a proof), its binding to a DPoP key or the TLS client certificate, nonces, replays
 * and scopes; a refusal comes with the status and headers to answer.
 */
export declare class RequestVerifier {
  constructor(verifier: Verifier, options?: RequestOptions & { resourceMetadata?: string });
  readonly verifier: Verifier;
  verify(request: RequestParts, scopes?: { requiredScopes?: Scopes | null; anyScopes?: Scopes | null }): Promise<RequestAccepted | RequestRefused>;
  /** The answer to a request refused after `verify` accepted it (a check of the host's). */
  refusal(
    error: AuthsecError | null,
    options?: { scheme?: 'Bearer' | 'DPoP' | null; requiredScopes?: Scopes | null; anyScopes?: Scopes | null; realm?: string | null },
  ): RequestRefused;
}

export interface RequireAuthOptions extends VerifierOptions, RequestOptions {
  /** An existing verifier (instead of the verifier options). */
  verifier?: Verifier;
  requiredScopes?: Scopes;
  anyScopes?: Scopes;
  /** The URL of the API's RFC 9728 protected-resource metadata: `resource_metadata` in every challenge. */
  resourceMetadata?: string;
}

/**
 * Require a valid access token (Bearer, DPoP with its proof, or bound to the TLS client
 * certificate); sets `req.auth`; answers 401/403 (400, 503) with a `WWW-Authenticate` per scheme.
 */
export declare function requireAuth(options: RequireAuthOptions): Middleware;

/** After `requireAuth`: require all of `scopes` (or one of them with `{ any: true }`); answers 403 `insufficient_scope`. */
export declare function requiredScopes(scopes: Scopes, options?: { any?: boolean; realm?: string }): Middleware;

/** The bearer token of an `Authorization` header value; null when there is none. */
export declare function bearerToken(authorization: string | null | undefined): string | null;

/** The scopes a claims object grants (`scope`, space-separated, and/or `scp`), as the core reads them. */
export declare function scopesOf(claims: Readonly<Record<string, unknown>>): string[];

// SPIFFE workload identity (JwtSvidVerifier, WorkloadApiClient, spiffeIdMatches): spiffe.d.ts.
export * from './spiffe';

// Client management (Management, AuthsecManagement, ManagedClient, ...): management.d.ts.
export * from './management';

declare global {
  namespace Express {
    interface Request {
      /** Set by `requireAuth` from @authsec/sdk. */
      auth?: AuthResult;
    }
  }
}

declare const sdk: typeof import('./index');
export default sdk;
