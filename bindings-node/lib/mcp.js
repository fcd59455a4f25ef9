'use strict';
// MCP authorization for the official TypeScript SDK (`@modelcontextprotocol/sdk` 1.x; the v2
// packages too): an MCP server as an OAuth protected resource (`McpServerAuth`) and an agent's
// `fetch` (`McpClientAuth`). The metadata document, the challenges, which scopes an operation
// needs, list filtering, discovery and retries are the core's (`core/src/mcp`); this file moves
// values between HTTP, the SDK and the core. It never imports the SDK, except the SDK's error
// classes for `tokenVerifier()`, loaded on first use.

const { inspect } = require('node:util');
const native = require('./native');
const { AuthsecError } = require('./errors');
const { Verifier } = require('./verifier');
const { bearerToken, scopesOf } = require('./middleware');
const { authResult, call, configError, fromNative, splitOptions, splitActorCallback } = require('./internal');

/** The SDK's list methods: their results go through the core's filter. */
const LIST_METHODS = new Set(['tools/list', 'prompts/list', 'resources/list']);
const FILTERED = Symbol('authsec.mcpFilteredLists');

/** Send a response the core built, as it is. */
function send(res, r) {
  if (res.headersSent) throw configError('McpServerAuth: the response was already sent');
  res.statusCode = r.status;
  for (const [name, value] of r.headers) res.setHeader(name, value);
  res.end(r.body);
}

/** The request target's path, without the query (the full path under an Express mount too). */
function pathOf(req) {
  const url = req.originalUrl ?? req.url ?? '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/**
 * The raw body, read up to one byte past `limit` (the core refuses a longer one): `{ bytes, cut }`,
 * `cut` when the rest was left unread.
 */
function readBody(req, limit) {
  if (req.readableEnded) return Promise.resolve({ bytes: Buffer.alloc(0), cut: false }); // read by someone else
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    let cut = false;
    const done = (err) => {
      req.off('data', onData).off('end', onEnd).off('close', onEnd).off('error', done);
      if (err) reject(err);
      else resolve({ bytes: Buffer.concat(chunks), cut });
    };
    const onData = (chunk) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size > limit) {
        cut = true;
        req.pause();
        done();
      }
    };
    const onEnd = () => done();
    req.on('data', onData).on('end', onEnd).on('close', onEnd).on('error', done);
  });
}

/**
 * The request body for the core: what `express.json()` parsed (serialized again), else the raw
 * bytes, read to the end whatever the headers say (HTTP/2 requests need not say how long they
 * are), so the SDK can only ever see the body checked here (then `parse`: hand it on parsed);
 * `null` without one.
 */
async function bodyOf(req) {
  if (req.body !== undefined) return { bytes: Buffer.from(JSON.stringify(req.body)), parse: false, cut: false };
  const read = await readBody(req, native.MCP_MAX_BODY_BYTES);
  return read.bytes.length === 0 ? null : { ...read, parse: true };
}

/** The verifier's answer: `[claims, null]` or `[null, error]`; other errors are thrown. */
async function verified(verifier, token) {
  try {
    return [await verifier.verify(token), null];
  } catch (e) {
    if (e instanceof AuthsecError) return [null, e];
    throw e;
  }
}

let sdkErrorsLoaded = null;

/** The SDK's OAuth error classes: `@modelcontextprotocol/sdk` 1.x, else `@modelcontextprotocol/server` 2.x. */
function sdkErrors() {
  const missing = (e) => e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'ERR_PACKAGE_PATH_NOT_EXPORTED';
  sdkErrorsLoaded ??= import('@modelcontextprotocol/sdk/server/auth/errors.js')
    .catch((e) => (missing(e) ? import('@modelcontextprotocol/server') : Promise.reject(e)))
    .catch((e) => {
      sdkErrorsLoaded = null;
      if (!missing(e)) throw e;
      throw configError(
        'tokenVerifier() needs the MCP SDK: install @modelcontextprotocol/sdk (or @modelcontextprotocol/server), or pass { errors }',
      );
    });
  return sdkErrorsLoaded;
}

/**
 * The core's refusal as the SDK's OAuth error, which the SDK's bearer gate answers with the same
 * status: v1's class for the code (`InvalidTokenError`, `InsufficientScopeError`, ...), v2's
 * `OAuthError(code)`. The SDKs answer 500 only for `server_error`, so a 5xx refusal is one.
 */
function sdkError(errors, refusal) {
  const { error, error_description: description } = JSON.parse(refusal.body);
  const code = refusal.status >= 500 ? 'server_error' : (error ?? 'invalid_token');
  if (typeof errors.OAuthError === 'function' && errors.OAuthErrorCode !== undefined) return new errors.OAuthError(code, description);
  const Class = errors.OAUTH_ERRORS?.[code] ?? errors.ServerError;
  if (typeof Class !== 'function') throw configError('tokenVerifier(): errors must be the MCP SDK\'s OAuth errors module');
  return new Class(description);
}

/**
 * An MCP server as an OAuth protected resource (MCP authorization, 2025-06-18 and later), built
 * from one options object the core reads (`McpServerAuth::from_value`): `resource` (the server's
 * URL, required), `authorizationServers` (issuer URLs), `metadata` (more RFC 9728 fields),
 * `verifier` (`Verifier` options; defaults: issuer = the sole authorization server, audience =
 * `resource`, keys discovered), `requiredScopes`, `operationScopes` (`{ 'tools/call:write_file':
 * 'files:write', ... }`), `filterLists` (default true), `realm`, `allowInsecureHttp`.
 */
class McpServerAuth {
  #native;
  #verifier;
  #resourceUrl;

  constructor(options) {
    const [opts, clock] = splitOptions(options);
    if (opts === undefined) throw new TypeError('McpServerAuth takes options: { resource, authorizationServers, ... }');
    const { verifier, ...rest } = opts;
    // An allowedActors callback stays here (the core gets the rest of the verifier options).
    const [verifierOpts, allowActor] = splitActorCallback(verifier ?? undefined);
    this.#native = call(() => new native.NativeMcpServerAuth(verifier == null ? rest : { ...rest, verifier: verifierOpts }));
    const built = { ...this.#native.verifierOptions() };
    if (allowActor !== null) built.allowedActors = allowActor;
    if (clock !== null) built.clock = clock;
    this.#verifier = new Verifier(built);
    const m = this.#native.metadata();
    /** The canonical resource URL: the audience tokens must carry. */
    this.resource = m.resource;
    /** The URL of the RFC 9728 document (the challenges' `resource_metadata`). */
    this.metadataUrl = m.url;
    /** The RFC 9728 document. */
    this.metadata = JSON.parse(m.json);
    /** Where the middleware serves it: the path-aware well-known path, then the root one. */
    this.wellKnownPaths = m.paths;
    this.#resourceUrl = new URL(m.resource);
    Object.freeze(this.metadata);
    Object.freeze(this.wellKnownPaths);
    Object.freeze(this);
  }

  /** The `Verifier` built from the options (the core's defaults applied). */
  get verifier() {
    return this.#verifier;
  }

  /**
   * Express / Connect / node:http middleware `(req, res, next)` for the MCP endpoint and the
   * metadata: mount it at the app's root, before the MCP route. It serves the RFC 9728 document at
   * both well-known paths; every other request it sees needs a bearer token, verified, and a
   * JSON-RPC body the token's scopes allow (`requiredScopes`, `operationScopes`); otherwise it
   * answers with the core's status and `WWW-Authenticate` challenge (401, 403 `insufficient_scope`
   * naming every scope the operation needs, 400, 503) and the SDK never runs. Allowed: `req.auth`
   * is the SDK's `AuthInfo`, `req.body` the JSON-RPC body (read here unless `express.json()` ran),
   * so `transport.handleRequest(req, res, req.body)` follows. Other errors go to `next(err)`.
   */
  middleware() {
    return (req, res, next) => {
      this.#handle(req, res).then((allowed) => allowed && next(), next);
    };
  }

  /**
   * Middleware `(req, res, next)` that serves only the RFC 9728 document, at both well-known paths
   * (GET/HEAD, CORS preflight), and passes every other request on: for servers that keep the SDK's
   * own `requireBearerAuth` with `tokenVerifier()` (the SDK's `mcpAuthMetadataRouter` needs a full
   * authorization-server metadata and writes 5 of RFC 9728's fields).
   */
  metadataRouter() {
    return (req, res, next) => {
      const path = pathOf(req);
      if (!this.wellKnownPaths.some((p) => p.split('?')[0] === path)) return next();
      send(res, this.#native.begin(req.method ?? 'GET', path, null));
    };
  }

  async #handle(req, res) {
    const authorization = typeof req.headers.authorization === 'string' ? req.headers.authorization : null;
    const token = this.#native.begin(req.method ?? 'GET', pathOf(req), authorization);
    if (typeof token !== 'string') {
      send(res, token); // the metadata document, or a refusal before any token
      return false;
    }
    const [claims, error] = await verified(this.#verifier, token);
    const scopes = claims === null ? null : scopesOf(claims);
    // The body is read only once the token verified.
    const body = error === null ? await bodyOf(req) : null;
    const refusal = call(() => this.#native.decide(scopes, error, body?.bytes ?? null));
    if (refusal !== null) {
      // A body left unread ends the connection (RFC 9112 §9.6), so no request follows on it.
      if (body?.cut) res.setHeader('connection', 'close');
      send(res, refusal);
      return false;
    }
    if (body?.parse && body.bytes.length > 0) req.body = JSON.parse(body.bytes.toString('utf8'));
    req.auth = this.#authInfo(token, claims, scopes);
    return true;
  }

  /**
   * `req.auth`: the SDK's `AuthInfo` for verified claims (`clientId`: the `client_id` claim, else
   * `sub`; `scopes`; `expiresAt`: `exp`; `resource`: this server's URL; `resourceMetadataUrl`;
   * `extra: { sub, iss, claims, delegation }`, `delegation` the `act` chain, current actor first),
   * and `payload` (the claims), as `requireAuth` sets it.
   */
  #authInfo(token, claims, scopes) {
    return { ...authResult(token, claims, scopes), resource: new URL(this.#resourceUrl), resourceMetadataUrl: this.metadataUrl };
  }

  /**
   * The SDK's `OAuthTokenVerifier` (`verifyAccessToken(token)`), for servers that keep the SDK's
   * own `requireBearerAuth`: the token verified and checked against `requiredScopes` by the core;
   * a refusal is thrown as the SDK's error for it (`InvalidTokenError` → 401,
   * `InsufficientScopeError` → 403, `ServerError` → 500). Per-operation scopes need the
   * middleware (or, on the v2 SDK, `scopeChallenge()`). The SDK's error classes are imported on
   * first use (`@modelcontextprotocol/sdk`, else `@modelcontextprotocol/server`); pass
   * `{ errors }` (the module) when the app loads another copy, or as CommonJS.
   */
  tokenVerifier(options = {}) {
    const given = options.errors;
    return {
      verifyAccessToken: async (token) => {
        const [claims, error] = await verified(this.#verifier, token);
        const scopes = claims === null ? null : scopesOf(claims);
        const refusal = call(() => this.#native.decide(scopes, error, null));
        if (refusal === null) return this.#authInfo(token, claims, scopes);
        throw sdkError(given ?? (await sdkErrors()), refusal);
      },
    };
  }

  /**
   * Cut `tools/list`, `prompts/list` and `resources/list` results to what the request's token may
   * use (the core's `filter_list`, after `operationScopes`; unless `filterLists: false`). Takes an
   * `McpServer` (or its low-level `Server`) of the 1.x or 2.x SDK, before or after its tools are
   * registered, and returns it. The SDK has no public hook for this: it wraps the server's request
   * handlers (`Protocol._requestHandlers`, private in the SDK's types), now and as they are set.
   * A request without `authInfo` sees only what needs no scope.
   */
  filterLists(server) {
    const handlers = (server?.server ?? server)?._requestHandlers;
    if (!(handlers instanceof Map)) {
      throw new TypeError('filterLists takes an McpServer (or Server) of @modelcontextprotocol/sdk or @modelcontextprotocol/server');
    }
    if (handlers[FILTERED]) return server;
    const wrap = (method, handler) => async (request, extra) => {
      const result = await handler(request, extra);
      const scopes = (extra?.authInfo ?? extra?.http?.authInfo)?.scopes ?? [];
      return JSON.parse(this.#native.filterList(method, JSON.stringify(result), [...scopes]));
    };
    const set = handlers.set;
    handlers.set = function (method, handler) {
      return set.call(this, method, LIST_METHODS.has(method) ? wrap(method, handler) : handler);
    };
    for (const [method, handler] of [...handlers]) if (LIST_METHODS.has(method)) set.call(handlers, method, wrap(method, handler));
    Object.defineProperty(handlers, FILTERED, { value: true });
    return server;
  }

  /**
   * A v2 SDK `ScopeChallengeHandler` (`registerTool(name, { scopeChallenge }, cb)`): the core's
   * per-operation scopes for the request; a shortfall answers HTTP 403 `insufficient_scope` naming
   * every scope it needs. Unauthenticated requests are left to the authentication gate (the SDK's
   * contract).
   */
  scopeChallenge() {
    return ({ request, authInfo }) => {
      if (authInfo === undefined) return undefined;
      const message = Buffer.from(JSON.stringify(request));
      const scopes = call(() => this.#native.scopeChallenge(message, [...authInfo.scopes]));
      return scopes === null ? undefined : { scopes };
    };
  }

  /** Whether a token with `scopes` may do `method` on `target` (e.g. `'tools/call'`, `'write_file'`), for lists you build yourself. */
  allows(method, target, scopes) {
    return this.#native.allows(method, target ?? null, [...(scopes ?? [])]);
  }

  [inspect.custom]() {
    return `McpServerAuth { resource: ${JSON.stringify(this.resource)} }`;
  }
}

/**
 * An agent's side of MCP authorization (machine to machine): given only the MCP server's URL and
 * the agent's client credentials (`ClientCredentials` options; `issuer` required: credentials and
 * tokens never go to another authorization server), `fetch` sends each request, and on a 401
 * discovers the server (its RFC 9728 metadata, then the issuer's token endpoint) and gets a token
 * for the server's `resource`; on a 403 `insufficient_scope` it asks once for the scopes the
 * challenge names. The core decides each retry (at most three sends per request). Options:
 * `fetch` (another implementation to send with), `clock` (tests).
 */
class McpClientAuth {
  #native;
  #fetch;
  static #adopt = null;

  constructor(serverUrl, options = {}) {
    const [opts, clock] = splitOptions(options);
    const { fetch, ...rest } = opts ?? {};
    const adopted = McpClientAuth.#adopt;
    McpClientAuth.#adopt = null;
    this.#native = call(adopted ?? (() => new native.NativeMcpClient(String(serverUrl), rest, clock)));
    this.#fetch = fetch ?? null;
    /** `(input, init) => Promise<Response>`, for `new StreamableHTTPClientTransport(url, { fetch })`. */
    this.fetch = (input, init) => this.#send(input, init);
    Object.freeze(this);
  }

  /**
   * With the client options from `AUTHSEC_*` variables (`process.env` by default; `AUTHSEC_ISSUER`
   * required); `options`: `fetch`, `clock`.
   */
  static fromEnv(serverUrl, env = process.env, options = {}) {
    const vars = {};
    for (const [k, v] of Object.entries(env)) if (k.startsWith('AUTHSEC_') && typeof v === 'string') vars[k] = v;
    const [opts, clock] = splitOptions(options);
    McpClientAuth.#adopt = () => native.NativeMcpClient.fromEnv(String(serverUrl), vars, clock);
    return new McpClientAuth(serverUrl, { fetch: opts?.fetch });
  }

  async #send(input, init) {
    const doFetch = this.#fetch ?? globalThis.fetch;
    // Buffered by the Request, so it can be sent again as it is (MCP requests are small JSON).
    const request = new Request(input, init);
    for (let attempt = 0; ; ) {
      let authorization;
      try {
        authorization = await this.#native.authorization();
      } catch (e) {
        throw fromNative(e);
      }
      const sent = request.clone();
      const res = await doFetch(authorization === null ? sent : withAuthorization(sent, authorization));
      let next;
      try {
        const token = authorization === null ? null : bearerToken(authorization);
        next = await this.#native.onResponse(res.status, res.headers.get('www-authenticate'), token, attempt);
      } catch (e) {
        await res.body?.cancel().catch(() => {});
        throw fromNative(e);
      }
      if (!next.retry) return res;
      attempt = next.attempt;
      await res.body?.cancel().catch(() => {});
    }
  }

  /** Discover the server now, without waiting for a 401 (its well-known metadata URLs). */
  async discover() {
    try {
      await this.#native.discover();
    } catch (e) {
      throw fromNative(e);
    }
  }

  /** The `resource` tokens are asked for (the server's metadata says it), once discovered; else null. */
  get resource() {
    return this.#native.resource();
  }

  /** The scopes tokens are asked for, once discovered: the configured ones, then those challenges named. */
  get scopes() {
    return this.#native.scopes();
  }

  [inspect.custom]() {
    return `McpClientAuth { resource: ${JSON.stringify(this.resource)} }`;
  }
}

function withAuthorization(request, authorization) {
  const headers = new Headers(request.headers);
  headers.set('authorization', authorization);
  return new Request(request, { headers });
}

/** A `fetch` for the MCP server at `serverUrl` (see `McpClientAuth`). */
function mcpFetch(serverUrl, options) {
  return new McpClientAuth(serverUrl, options).fetch;
}

module.exports = { McpServerAuth, McpClientAuth, mcpFetch };
