// Type declarations for client management in @authsec/sdk (hand-written; re-exported by
// index.d.ts; checked by `tsc --noEmit` in test.sh). Objects keep the wire's snake_case names.

import type { Jwks, Scopes } from './index';

export interface ManagementOptions {
  /** The server's host (`auth.example.com` means `https://auth.example.com`), or a full base URL. */
  domain?: string;
  /** The server's base URL (its issuer), e.g. `https://auth.example.com`. Give this or `domain`. */
  baseUrl?: string;
  /** A management client's id (a client holding management scopes). */
  clientId?: string;
  clientSecret?: string;
  /** A file holding the secret (read again when the token endpoint answers `invalid_client`). */
  clientSecretFile?: string;
  /** PEM or private JWK for `private_key_jwt`. */
  privateKey?: string;
  privateKeyFile?: string;
  privateKeyAlg?: string;
  keyId?: string;
  /** The server's bootstrap `admin_token`: accepted only while no management client exists. */
  adminToken?: string;
  adminTokenFile?: string;
  /** Management scopes to ask for (default: every one the client holds). */
  scopes?: Scopes;
  /** Default `{baseUrl}/oauth/token`. */
  tokenUrl?: string;
  /** Plain `http://` to a host other than loopback. */
  allowInsecureHttp?: boolean;
  /** Whole-request timeout: seconds or a duration such as `"10s"`. */
  timeout?: number | string;
  maxAttempts?: number;
}

export type ClientType = 'm2m' | 'ai_agent' | 'mcp_server' | 'web' | 'mobile';

/** `ai_agent` only. */
export interface RateLimits {
  requests_per_minute?: number;
  tokens_per_day?: number;
}

/** A client's fields, as `clients.create` and `clients.update` take them (the contract's table). */
export interface ClientFields {
  client_id?: string;
  name?: string;
  description?: string;
  type?: ClientType;
  grant_types?: string[];
  token_endpoint_auth_method?: string;
  /** Create only; generated when absent and the client needs one. */
  client_secret?: string;
  allowed_scopes?: string[];
  default_scopes?: string[];
  roles?: string[];
  audiences?: string[];
  may_act?: string[];
  /** Seconds, 1..=86400. */
  token_lifetime?: number;
  jwks?: Jwks;
  jwks_uri?: string;
  /** Redirect URIs (with `authorization_code`). */
  callbacks?: string[];
  web_origins?: string[];
  logo?: string;
  website?: string;
  rate_limits?: RateLimits;
  /** Token requests per minute (legacy; `rate_limits.requests_per_minute` wins). */
  rate_limit?: number;
  /** `mcp_server` only: its canonical resource URL. */
  resource?: string;
  dpop_bound_access_tokens?: boolean;
  tls_client_certificate_bound_access_tokens?: boolean;
  tls_client_certificate_sha256?: string;
  spiffe_id?: string;
  [tlsClientAuth: `tls_client_auth_${string}`]: unknown;
}

/** One of a client's secrets as shown (never the secret or its hash). */
export interface SecretInfo {
  /** `sid_...` */
  id: string;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
}

/** The fields every management result has: the wire's, frozen; `util.inspect` and `JSON.stringify` show any `client_secret` as `***`. */
declare class ManagementObject {
  protected constructor(fields: object);
  toJSON(): Record<string, unknown>;
  readonly [field: string]: unknown;
}

/** A registered client as the server shows it. */
export declare class ManagedClient extends ManagementObject {
  readonly client_id: string;
  readonly type: ClientType;
  readonly name?: string;
  readonly description?: string;
  readonly grant_types?: string[];
  readonly token_endpoint_auth_method?: string;
  readonly auth_methods?: string[];
  readonly allowed_scopes?: string[];
  readonly default_scopes?: string[];
  readonly roles?: string[];
  readonly audiences?: string[];
  readonly callbacks?: string[];
  readonly web_origins?: string[];
  readonly rate_limits?: RateLimits;
  readonly rate_limit?: number;
  readonly resource?: string;
  readonly secrets: readonly SecretInfo[];
  readonly effective_scopes: readonly string[];
  readonly effective_audiences: readonly string[];
  readonly created_at: number;
  readonly updated_at: number;
  /** Only in `clients.create`'s answer, when the server generated the secret. */
  readonly client_secret?: string;
  readonly secret_id?: string;
}

/** `clients.rotateSecret`'s answer. */
export declare class NewSecret extends ManagementObject {
  readonly client_id: string;
  readonly client_secret: string;
  readonly secret_id: string;
  /** Unix seconds: when the older secrets stop working. */
  readonly old_secrets_expire_at: number;
  readonly secrets: readonly SecretInfo[];
}

/** `clients.revokeSecret`'s answer. */
export declare class ClientSecrets extends ManagementObject {
  readonly client_id: string;
  readonly secrets: readonly SecretInfo[];
}

export declare class Scope extends ManagementObject {
  readonly name: string;
  readonly description?: string | null;
  /** The clients using it. */
  readonly clients?: readonly string[];
  /** The roles using it. */
  readonly roles?: readonly string[];
}

export declare class Role extends ManagementObject {
  readonly name: string;
  readonly scopes?: readonly string[];
  readonly audiences?: readonly string[];
}

/** One audit event; the event's other fields (`auth_method`, `secret_id`, ...) are kept too. */
export declare class AuditEvent extends ManagementObject {
  readonly id: number;
  /** Unix seconds (fractions). */
  readonly ts: number;
  readonly event: string;
  readonly outcome: 'success' | 'failure';
  readonly client_id?: string;
  readonly actor?: string;
}

export declare class SigningKey extends ManagementObject {
  readonly kid?: string;
  readonly alg?: string;
}

/** A list fetched a page at a time as it is iterated (`for await`); nothing is sent before. */
export declare class Paginated<T> implements AsyncIterable<T> {
  private constructor();
  [Symbol.asyncIterator](): AsyncIterator<T>;
  /** Whole pages. */
  pages(): AsyncIterable<{ items: T[]; next_cursor: string | null }>;
  /** Every item (every page fetched). */
  toArray(): Promise<T[]>;
}

export interface ListOptions {
  /** Items per request (1..=200; the server's default 50). */
  pageSize?: number;
  /** Start after this cursor (from a page's `next_cursor`). */
  cursor?: string;
}

export interface LogQuery extends ListOptions {
  client_id?: string;
  /** One event name, or several. */
  event?: string | string[];
  outcome?: 'success' | 'failure';
  /** A Date, Unix seconds, or RFC 3339 text. */
  since?: Date | number | string;
  until?: Date | number | string;
}

export interface ClientsApi {
  create(fields?: ClientFields): Promise<ManagedClient>;
  get(client: string | { client_id: string }): Promise<ManagedClient>;
  list(options?: ListOptions & { type?: ClientType }): Paginated<ManagedClient>;
  update(changes: ClientFields & { client_id: string }): Promise<ManagedClient>;
  delete(client: string | { client_id: string }): Promise<void>;
  /** `overlap`: seconds the older secrets keep working (default 86400; 0: they stop now). */
  rotateSecret(options: string | { client_id: string; overlap?: number }): Promise<NewSecret>;
  /** Without `secret_id`: every secret but the newest. */
  revokeSecret(options: string | { client_id: string; secret_id?: string }): Promise<ClientSecrets>;
}

export interface ScopesApi {
  create(scope: string | { name: string; description?: string }): Promise<Scope>;
  list(options?: ListOptions): Paginated<Scope>;
  delete(scope: string | { name: string }): Promise<void>;
}

export interface RolesApi {
  create(role: string | { name: string; scopes?: string[]; audiences?: string[] }): Promise<Role>;
  get(role: string | { name: string }): Promise<Role>;
  list(): Paginated<Role>;
  update(role: { name: string; scopes?: string[]; audiences?: string[] }): Promise<Role>;
  delete(role: string | { name: string }): Promise<void>;
}

export interface LogsApi {
  list(query?: LogQuery): Paginated<AuditEvent>;
}

export interface KeysApi {
  list(): Paginated<SigningKey>;
  rotate(options?: { alg?: string; activate_in?: number }): Promise<SigningKey>;
}

/** The management API (`/admin`) of an authsec server, through the core's management client. */
export declare class Management {
  constructor(options: ManagementOptions);
  /** Every operation name the core knows (`clients.create`, ...). */
  static operations(): string[];
  readonly clients: ClientsApi;
  readonly scopes: ScopesApi;
  readonly roles: RolesApi;
  readonly logs: LogsApi;
  readonly keys: KeysApi;
  /** One operation by its core name with snake_case arguments; lists answer `{ items, next_cursor }`. */
  call(operation: string, args?: Record<string, unknown>): Promise<unknown>;
}

/** The product docs' name for `Management` (the same class). */
export declare const AuthsecManagement: typeof Management;
export type AuthsecManagement = Management;
