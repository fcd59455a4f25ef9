// @authsec/wasm (manual initialisation): call `await init()` / `initSync(module)` first.

/** The families of error codes (one per code). */
export type ErrorCategory = 'token_request' | 'unavailable' | 'config' | 'invalid_token' | 'insufficient_scope' | 'internal' | 'management';

/** Every error the package throws or rejects with: a real Error with the core's stable code. The
 * subclasses below are the core's class tree, the same in every authsec language. */
export declare class AuthsecError extends Error {
  constructor(message: string, details?: { code?: string; category?: ErrorCategory; retryable?: boolean; httpStatus?: number; missingScopes?: string[] });
  /** The core's stable error code (`invalid_signature`, `token_expired`, `insufficient_scope`, ...). */
  readonly code: string;
  /** The code's family. */
  readonly category: ErrorCategory;
  /** Whether the same request may succeed later. */
  readonly retryable: boolean;
  /** The HTTP status a resource server should answer with (401, 403, 503, ...). */
  readonly httpStatus?: number;
  /** For `insufficient_scope`: the scopes the token lacks. */
  readonly missingScopes?: string[];
}
export declare class ConfigError extends AuthsecError {}
export declare class TokenRequestError extends AuthsecError {}
export declare class InvalidClientError extends TokenRequestError {}
export declare class InvalidScopeError extends TokenRequestError {}
export declare class UnavailableError extends AuthsecError {}
export declare class NetworkError extends UnavailableError {}
export declare class TimeoutError extends NetworkError {}
export declare class ServerError extends UnavailableError {}
export declare class RateLimitedError extends UnavailableError {}
export declare class InvalidTokenError extends AuthsecError {}
export declare class TokenExpiredError extends InvalidTokenError {}
/** `invalid_delegation`: the token's `act` chain is malformed (not an object, a cycle, `exp`/`aud`/
 * `scope` inside it, nested too deep); `delegation_not_allowed`: a delegated token this resource
 * does not accept (`forbidDelegation`, `maxDelegationDepth`, `allowedActors`). */
export declare class DelegationError extends InvalidTokenError {}
export declare class InsufficientScopeError extends AuthsecError {}
export declare class InternalError extends AuthsecError {}
/** The management API refused an operation (`not_found`, `conflict`, `invalid_client_metadata`,
 * `access_denied`); the package raises it for no code of its own, and has it so the class tree is
 * the core's. */
export declare class ManagementError extends AuthsecError {}

/** A store for the fetched JWKS across isolate lifetimes (e.g. over Workers KV). Sync or async. */
export interface JwksStore {
  get(key: string): string | null | undefined | Promise<string | null | undefined>;
  set(key: string, value: string, ttlSeconds: number): void | Promise<void>;
}

/** The part of a Workers KV namespace binding that `workersKvStore` uses. */
export interface KvNamespaceLike {
  get(key: string): Promise<string | null>;
  put(key: string, value: string, options: { expirationTtl: number }): Promise<void>;
}

/** A `jwksCache` over a Cloudflare Workers KV namespace (`env.MY_KV`); TTLs under KV's minimum of
 * 60 s are raised to 60 (the stored document carries its own freshness, checked on load). */
export declare function workersKvStore(namespace: KvNamespaceLike): JwksStore;

export interface VerifierOptions {
  /** Expected `iss`. */
  issuer?: string;
  /** Expected `aud` (one of). */
  audience?: string | string[];
  /**
   * How `aud` is matched (default `'exact'`): `'trailing_slash'` accepts the same URL with or
   * without a trailing slash (scheme/host case and default port aside); `'path_prefix'` also
   * accepts a URL above the audience on the same origin. A token without `aud` always fails.
   */
  audienceMatch?: 'exact' | 'trailing_slash' | 'path_prefix';
  /** The issuer's JWKS URL (fetched with `fetch`, cached under the core's rules). */
  jwksUri?: string;
  /** A JWKS document (object or JSON text), instead of `jwksUri`. */
  jwks?: { keys: object[] } | string;
  /** Allow-list (default: every supported asymmetric algorithm). */
  algorithms?: Array<'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'EdDSA'>;
  /** Clock-skew leeway in seconds (default 5, at most 300). */
  leeway?: number;
  /** `'default'` (at+jwt or JWT) or `'strict'` (at+jwt only, RFC 9068). */
  typ?: 'default' | 'strict';
  requiredClaims?: string[];
  maxTokenBytes?: number;
  skipIssuerCheck?: boolean;
  skipAudienceCheck?: boolean;
  /** Verified tokens remembered (default 10,000; 0 = none). */
  verifiedCacheSize?: number;
  /** Allow plain http:// for jwksUri to a non-loopback host. */
  allowInsecureHttp?: boolean;
  /** Keep the fetched JWKS in this store (edge runtimes). Only with `jwksUri`. */
  jwksCache?: JwksStore;
  /** Refuse every delegated token (one carrying `act`): `DelegationError`, `delegation_not_allowed`. */
  forbidDelegation?: boolean;
  /** The most actors a token's `act` chain may hold (0 to 16); a longer chain is refused
   * (`DelegationError`, `delegation_not_allowed`). */
  maxDelegationDepth?: number;
  /**
   * Who may act for a token's subject (RFC 8693 §4.1: the current actor only; the earlier ones are
   * for audit). A list of actor ids (`client_id`, else `sub`), checked by the core; or a function
   * called with the current actor after a delegated token verified (never for an undelegated one;
   * before the scope check; cache hits included): `true` accepts it, `false` refuses the token
   * with a `DelegationError` (`delegation_not_allowed`); it may return a Promise of either.
   */
  allowedActors?: readonly string[] | AllowActor;
}

/** An `allowedActors` callback: `true` accepts the current actor, `false` refuses the token. */
export type AllowActor = (actor: Actor) => boolean | Promise<boolean>;

/** One link of a delegation chain (RFC 8693 `act`): who acted. Frozen. */
export interface Actor {
  readonly sub: string | undefined;
  readonly clientId: string | undefined;
  readonly iss: string | undefined;
  /** The id policies match: `clientId`, else `sub` (the core's rule). */
  readonly id: string;
}

export interface VerifyOptions {
  /** Every one of these (an array or a space-separated string). */
  requiredScopes?: string | string[];
  /** At least one of these. */
  anyScopes?: string | string[];
}

/** The verified claims: the token's payload as a fresh plain object, plus `delegation` and
 * `actor`, which are not enumerable (spreads, `Object.keys` and `JSON.stringify` give exactly the
 * payload, with its raw `act`; a payload member of either name is shadowed by them). */
export type Claims = Readonly<Record<string, unknown>> & {
  readonly iss?: string;
  readonly sub?: string;
  readonly aud?: string | string[];
  readonly exp: number;
  readonly scope?: string;
  readonly client_id?: string;
  /** The raw RFC 8693 `act` claim (the chain, current actor outermost). */
  readonly act?: Readonly<Record<string, unknown>>;
  /** The delegation chain the core read from `act`, current actor first; empty when nobody acts
   * for the subject. Decide access on the top-level claims and `actor` only: the earlier actors
   * are for audit (RFC 8693 §4.1). Frozen. */
  readonly delegation: readonly Actor[];
  /** The party acting for the subject now (`delegation[0]`), or `null` for an undelegated token. */
  readonly actor: Actor | null;
};

export declare class Verifier {
  constructor(options: VerifierOptions, testing?: { nowMs?: number });
  /** Resolves to the claims, or rejects with an AuthsecError. */
  verify(token: string, options?: VerifyOptions): Promise<Claims>;
  /** Tokens in the verified-token cache. */
  readonly cachedTokens: number;
  /** Free the WebAssembly memory now (otherwise a FinalizationRegistry does it). */
  free(): void;
}

export interface InitOptions {
  /** Where the Ed25519 fallback module (dist/ed25519_fallback.wasm) comes from; it is loaded only
   * in runtimes whose WebCrypto lacks Ed25519. Default: the package's own file. */
  ed25519Fallback?: WebAssembly.Module | URL | string | BufferSource;
}
/** Load the module once: a WebAssembly.Module, URL, Response or bytes; default: the package's own .wasm. */
export declare function init(input?: WebAssembly.Module | URL | string | Response | BufferSource, options?: InitOptions): Promise<void>;
/** Initialise synchronously (Cloudflare Workers: the imported WebAssembly.Module). */
export declare function initSync(module: WebAssembly.Module | BufferSource, options?: InitOptions): void;
/** Decode without verifying (inspection only). */
export declare function decode(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> };
/** The scopes a claims object grants (`scope` and `scp`). */
export declare function scopesOf(claims: object): string[];
/** Throws insufficient_scope unless the claims grant every required scope (and one of `any`). */
export declare function requireScopes(claims: object, required?: string | string[], any?: string | string[]): void;
export declare function hasScopes(claims: object, required: string | string[]): boolean;
/** The token of an `Authorization: Bearer` value; undefined when absent; throws when malformed. */
export declare function bearerToken(authorization: string | null | undefined): string | undefined;
/** The RFC 6750 answer for a verify error (or none: a missing token); no challenge for a 5xx. */
export declare function challenge(
  error?: { code: string; message?: string; missingScopes?: string[] } | null,
  options?: {
    realm?: string;
    requiredScopes?: string | string[];
    /** The URL of the resource's RFC 9728 metadata (`resource_metadata` in the challenge). */
    resourceMetadata?: string;
  },
): { status: number; error?: 'invalid_token' | 'insufficient_scope' | 'invalid_request'; wwwAuthenticate?: string };
/** The core's stable error codes. */
export declare function errorCodes(): { code: string; description: string; category: ErrorCategory; class: string; retryable: boolean }[];
/** The core's error class tree. */
export declare function errorClasses(): { name: string; parent: string }[];
