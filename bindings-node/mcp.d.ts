// Type declarations for @authsec/sdk/mcp (hand-written; checked by `tsc --noEmit` in test.sh):
// MCP authorization for the official MCP SDKs. The SDK's own types are not imported (authsec does
// not depend on the SDK); the shapes below are the SDK's, structurally, and test/types.mts checks
// that they fit `@modelcontextprotocol/sdk`.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthResult, ClientCredentialsOptions, FetchInput, Scopes, Verifier, VerifierOptions } from './index';
import type { ManualClock } from './testing';

/**
 * What the middleware puts on `req.auth`: the MCP SDK's `AuthInfo` (1.x; 2.x's `resourceMetadataUrl`
 * too) filled from the verified claims, plus `payload` (the claims), as `requireAuth` sets it.
 */
export interface McpAuthInfo extends AuthResult {
  /** This server's URL (the `resource` option, canonical). */
  resource: URL;
  /** The URL of this server's RFC 9728 metadata. */
  resourceMetadataUrl: string;
}

export interface McpServerAuthOptions {
  /** The MCP server's URL as clients reach it (`https://mcp.example.com/mcp`): the audience tokens must carry. */
  resource: string;
  /** Issuer URLs of the authorization servers (at least one). */
  authorizationServers: readonly string[];
  /** More RFC 9728 fields for the metadata document: `scopes_supported`, `resource_name`, ... */
  metadata?: Record<string, unknown>;
  /**
   * Verifier options. Defaults: `issuer` the sole authorization server, `audience` the resource,
   * the keys discovered from the issuer. The audience check cannot be skipped.
   */
  verifier?: Omit<VerifierOptions, 'clock' | 'skipAudienceCheck'>;
  /** Scopes every request needs. */
  requiredScopes?: Scopes;
  /**
   * Scopes per operation: keys are a method (`tools/call`), or a method and its target
   * (`tools/call:write_file`, `resources/read:file:///private/*`, `prompts/get:review`; a target
   * may end in `*`). An operation needs the base scopes, its method's, and its target's.
   */
  operationScopes?: Record<string, Scopes>;
  /** Cut `tools/list`, `prompts/list`, `resources/list` to what the token may use (default true). */
  filterLists?: boolean;
  /** The `realm` of the challenges. */
  realm?: string;
  /** Plain `http://` to hosts other than this machine. */
  allowInsecureHttp?: boolean;
  /** INTERNAL test hook: a `ManualClock` from `@authsec/sdk/testing`. */
  clock?: ManualClock;
}

/** A request the middleware allowed: `auth` is the SDK's `AuthInfo`, `body` the JSON-RPC body. */
export type McpRequest = IncomingMessage & { auth?: McpAuthInfo; body?: unknown };

/** Express / Connect / node:http middleware. */
export type McpMiddleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

/** The MCP SDK's `OAuthTokenVerifier`. */
export interface McpTokenVerifier {
  verifyAccessToken(token: string): Promise<McpAuthInfo>;
}

/** What the v2 SDK hands a `scopeChallenge` handler. */
export interface McpScopeChallengeContext {
  request: object;
  authInfo?: { scopes: readonly string[] };
}

/** A v2 SDK `ScopeChallengeHandler`: `undefined` to allow, else the scopes to challenge for. */
export type McpScopeChallengeHandler = (context: McpScopeChallengeContext) => { scopes: string[] } | undefined;

/** An MCP server as an OAuth protected resource. */
export declare class McpServerAuth {
  constructor(options: McpServerAuthOptions);
  /** The canonical resource URL. */
  readonly resource: string;
  /** The URL of the RFC 9728 document (`resource_metadata` in every challenge). */
  readonly metadataUrl: string;
  /** The RFC 9728 document. */
  readonly metadata: Readonly<Record<string, unknown>>;
  /** Where the middleware serves the document: the path-aware well-known path, then the root one. */
  readonly wellKnownPaths: readonly string[];
  /** The verifier built from the options. */
  readonly verifier: Verifier;
  /**
   * Middleware for the app's root: serves the metadata; answers 401/403/400/503 with the core's
   * challenge before the SDK runs; sets `req.auth` (`McpAuthInfo`) and `req.body`.
   */
  middleware(): McpMiddleware;
  /**
   * The SDK's `OAuthTokenVerifier` for its own `requireBearerAuth`. `errors`: the SDK's OAuth
   * errors module, when the app loads another copy than `import()` finds from here.
   */
  tokenVerifier(options?: { errors?: object }): McpTokenVerifier;
  /** Middleware serving only the RFC 9728 document (both well-known paths); other requests pass on. */
  metadataRouter(): McpMiddleware;
  /** Cut the server's `tools/list`, `prompts/list` and `resources/list` results to the token's scopes; returns `server`. */
  filterLists<S extends object>(server: S): S;
  /** A v2 SDK `scopeChallenge` handler backed by `operationScopes`. */
  scopeChallenge(): McpScopeChallengeHandler;
  /** Whether a token with `scopes` may do `method` on `target`. */
  allows(method: string, target: string | null | undefined, scopes: readonly string[]): boolean;
}

/** `fetch` as the MCP SDK's client transports take it (`FetchLike`). */
export type McpFetch = (input: FetchInput, init?: RequestInit) => Promise<Response>;

/** The agent's client credentials and how to send, without `issuer`. */
export interface McpClientAuthBase extends Omit<ClientCredentialsOptions, 'issuer'> {
  /** Send with this instead of the global `fetch`. */
  fetch?: (request: Request) => Promise<Response>;
}

/**
 * The agent's client credentials (`issuer` required), and how to send. Without `issuer`,
 * `issuerPolicy: 'first_in_metadata'` uses the first authorization server the MCP server's
 * metadata names, pinned for the client's lifetime (trust on first use: the server's URL must be
 * trusted).
 */
export type McpClientAuthOptions = McpClientAuthBase &
  (
    | {
        /** The authorization server the credentials belong to: tokens are asked for there only. */
        issuer: string;
        issuerPolicy?: 'configured' | 'first_in_metadata';
      }
    | { issuer?: undefined; issuerPolicy: 'first_in_metadata' }
  );

/** An agent's side of MCP authorization: discovery from a 401, tokens for the server's resource, step-up on 403. */
export declare class McpClientAuth {
  constructor(serverUrl: string | URL, options: McpClientAuthOptions);
  /** With the client options from `AUTHSEC_*` variables (`AUTHSEC_ISSUER` required). */
  static fromEnv(
    serverUrl: string | URL,
    env?: Record<string, string | undefined>,
    options?: { fetch?: (request: Request) => Promise<Response>; clock?: ManualClock },
  ): McpClientAuth;
  /** For `new StreamableHTTPClientTransport(url, { fetch })`. */
  readonly fetch: McpFetch;
  /** Discover the server now, without waiting for a 401. */
  discover(): Promise<void>;
  /** The `resource` tokens are asked for, once discovered; else null. */
  readonly resource: string | null;
  /** The scopes tokens are asked for, once discovered. */
  readonly scopes: string[];
}

/** A `fetch` for the MCP server at `serverUrl` (`new McpClientAuth(serverUrl, options).fetch`). */
export declare function mcpFetch(serverUrl: string | URL, options: McpClientAuthOptions): McpFetch;

declare const mcp: typeof import('./mcp');
export default mcp;
