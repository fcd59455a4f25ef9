// Type declarations for @authsec/sdk/testing (hand-written; checked by `tsc --noEmit` in test.sh):
// the local authorization server (a separate testing addon), the manual clock, and INTERNAL test
// hooks (not covered by semver).

import type {
  ClientCredentials,
  ClientCredentialsOptions,
  Verifier,
  VerifierOptions,
  ErrorCode,
  ErrorCategory,
  Jwks,
} from './index';

/** A clock that only moves when told to (Unix milliseconds); retries "sleep" by advancing it. */
export declare class ManualClock {
  /** Start at `startMs`, or now. */
  constructor(startMs?: number | null);
  /** The current time in Unix milliseconds. */
  now(): number;
  set(ms: number): void;
  /** Move forward by `ms` milliseconds. */
  advance(ms: number): void;
}

/** One client of the local server (the server's YAML field names). */
export interface LocalServerClient {
  client_id: string;
  name?: string;
  description?: string;
  type?: 'm2m' | 'ai_agent' | 'mcp_server';
  /**
   * For an `mcp_server` client: the MCP server's URL, the audience (canonical) of tokens issued
   * for it. Other clients may name this client's id in their `audiences` in its place.
   */
  resource?: string;
  client_secret?: string;
  /**
   * The SPIFFE IDs this client is (an exact ID, a trust domain `spiffe://td` or a prefix
   * `spiffe://td/path/*`): it then authenticates with a JWT-SVID (no secret). Needs `spiffe`.
   */
  spiffe_id?: string;
  /** e.g. `spiffe_jwt` (only JWT-SVIDs), `client_secret_basic`, `private_key_jwt`. */
  token_endpoint_auth_method?: string;
  /** Public keys for `private_key_jwt`. */
  jwks?: Jwks;
  jwks_file?: string;
  allowed_scopes?: string[];
  default_scopes?: string[];
  audiences?: string[];
  /** Roles (the server's `roles`) whose scopes and audiences the client may get too. */
  roles?: string[];
  /** Grants the client may use (default `['client_credentials']`; add `urn:ietf:params:oauth:grant-type:token-exchange`). */
  grant_types?: string[];
  /** The clients that may exchange this client's tokens (RFC 8693 `may_act`). */
  may_act?: string[];
  /** Seconds. */
  token_lifetime?: number;
  /** Token requests per minute. */
  rate_limit?: number;
}

/** A role of the local server: scopes and audiences its clients may get. */
export interface LocalServerRole {
  scopes?: string[];
  audiences?: string[];
}

export interface LocalServerOptions {
  clients?: LocalServerClient[];
  issuer?: string;
  signing_alg?: 'ES256' | 'RS256' | 'EdDSA';
  database?: string;
  token_lifetime?: number;
  default_audience?: string;
  admin_token?: string;
  /** `stderr`, `stdout`, `off` (the default here) or a file path. */
  audit_log?: string;
  rate_limit?: number;
  jwks_max_age?: number;
  /** Roles by name. */
  roles?: Record<string, LocalServerRole>;
  /** Token exchange (RFC 8693): `max_delegation_depth`, the longest `act` chain it issues. */
  token_exchange?: { max_delegation_depth?: number };
  /** SPIFFE trust: the trust domains whose JWT-SVIDs authenticate clients with a `spiffe_id`. */
  spiffe?: {
    trust_domains: Record<string, { bundle?: Jwks | string; bundle_file?: string; bundle_endpoint?: string }>;
  };
  /** The whole configuration as YAML text instead. */
  yaml?: string;
  /** Port to listen on (default: an ephemeral one). */
  port?: number;
  /** A `ManualClock` (the tokens' `iat`/`exp`); the server's `client()` and `verifier()` use it too. */
  clock?: ManualClock;
}

/** `ClientCredentials` options for `LocalServer.client()`: all optional, `clientId` picks a configured client. */
export type LocalServerClientOptions = Partial<ClientCredentialsOptions>;

/** A local authorization server listening on 127.0.0.1. */
export declare class LocalServer {
  private constructor();
  readonly issuer: string;
  readonly tokenEndpoint: string;
  readonly jwksUri: string;
  readonly port: number;
  /** A `ClientCredentials` for a configured client (the first by default), its secret from the config. */
  client(options?: LocalServerClientOptions): ClientCredentials;
  /** A `Verifier` for this server's tokens (its issuer and JWKS; every audience it issues by default). */
  verifier(options?: Partial<VerifierOptions>): Verifier;
  /** A fresh access token for a configured client (a new token request every time). */
  token(options?: LocalServerClientOptions): Promise<string>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * A fake SPIFFE Workload API on a Unix socket in a temporary directory (its own SPIFFE authority:
 * an ES256 JWT key, an X.509 CA): `endpoint` for `SPIFFE_ENDPOINT_SOCKET`, `WorkloadApiClient`,
 * `workloadApi` or `spiffeEndpointSocket`.
 */
export declare class FakeWorkloadApi {
  private constructor();
  /** Start serving (trust domain `example.org` unless told otherwise). */
  static start(options?: { trustDomain?: string }): Promise<FakeWorkloadApi>;
  static startSync(options?: { trustDomain?: string }): FakeWorkloadApi;
  /** `unix:///…/agent.sock`. */
  readonly endpoint: string;
  readonly socketPath: string;
  readonly trustDomain: string;
  /** The SPIFFE ID its SVIDs name now (default `spiffe://<trustDomain>/workload`). */
  readonly spiffeId: string;
  setSpiffeId(id: string): void;
  /** A new JWT signing key (new `kid`) signs from now on; the bundle keeps the old one too and is pushed to watchers. */
  rotateJwtKey(): void;
  /** The `kid` of the key that signs now. */
  readonly jwtKid: string;
  /** A new X.509-SVID (new key, same CA). */
  rotateX509(): void;
  /** The JWT bundle served now. */
  jwtBundle(): Jwks;
  /** Answer the next `n` calls with "no identity issued" (PermissionDenied). */
  denyNext(n: number): void;
  /** Answer the next `n` calls with InvalidArgument. */
  refuseNext(n: number): void;
  /** Calls made so far. */
  readonly calls: number;
  /** Stop serving and remove the socket's directory (idempotent). */
  stop(): void;
  [Symbol.dispose](): void;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Start a local OAuth authorization server (for tests and offline development). */
export declare function startLocalServer(options?: LocalServerOptions): Promise<LocalServer>;

/** Token requests a client has sent (retries included). */
export declare function requestCount(client: ClientCredentials): number;

/** Tokens in a verifier's verified-token cache. */
export declare function cachedTokens(verifier: Verifier): number;

/** The core's error codes with their classification. */
export declare function nativeErrorCodes(): {
  code: ErrorCode;
  category: ErrorCategory;
  class: string;
  description: string;
  retryable: boolean;
}[];

/** The core's error class tree, parents first (`parent` null: directly under `AuthsecError`). */
export declare function nativeErrorClasses(): { name: string; parent: string | null }[];

declare const testing: typeof import('./testing');
export default testing;
