'use strict';
// Getting tokens: ClientCredentials (the core's token client), the docs' AuthsecClient shape, and
// a fetch wrapper. Options, caching, refresh timing, single-flight, retries and the 401 decision
// are the core's.

const { inspect } = require('node:util');
const native = require('./native');
const { NATIVE, CACHED_TOKEN, call, fromNative, splitOptions, flatHeaders } = require('./internal');

const REDACTED = '***';

/** The core's token behind an `AccessToken` (for `authorize`). */
let coreToken;

/**
 * An access token. `accessToken` and `authorization` are getters, so `util.inspect`, `toJSON`
 * (and so loggers) show `***` instead of the token; read them explicitly to use it.
 */
class AccessToken {
  #accessToken;
  #authorization;
  #native;

  static {
    coreToken = (t) => (t !== null && typeof t === 'object' && #native in t ? t.#native : undefined);
  }

  constructor(info) {
    this.#accessToken = info.accessToken;
    this.#authorization = info.authorization;
    this.#native = info.native;
    /** `Bearer` (or `DPoP`), as the server sent it. */
    this.tokenType = info.tokenType;
    /** Expiry in Unix seconds. */
    this.expiresAt = info.expiresAt;
    /** Granted scopes (the requested ones when the server did not say). */
    this.scopes = info.scopes;
    /** What a token exchange issued (RFC 8693 `issued_token_type`); absent for client credentials. */
    if (info.issuedTokenType !== undefined) this.issuedTokenType = info.issuedTokenType;
    Object.freeze(this);
  }

  /** The token itself. */
  get accessToken() {
    return this.#accessToken;
  }

  /** The `Authorization` header value, e.g. `Bearer eyJ...`. */
  get authorization() {
    return this.#authorization;
  }

  toJSON() {
    const shown = { accessToken: REDACTED, tokenType: this.tokenType, expiresAt: this.expiresAt, scopes: this.scopes };
    if (this.issuedTokenType !== undefined) shown.issuedTokenType = this.issuedTokenType;
    return shown;
  }

  [inspect.custom](depth, options, inspectFn = inspect) {
    if (depth < 0) return options.stylize(`[${this.constructor.name}]`, 'special');
    return `${this.constructor.name} ${inspectFn({ ...this.toJSON() }, options)}`;
  }
}

/**
 * The token in the shape OAuth token responses have (`access_token`, `token_type`, `expires_in`,
 * `scope`) as well as `AccessToken`'s, for code written against the product docs.
 */
class ClientCredentialsToken extends AccessToken {
  get access_token() {
    return this.accessToken;
  }
  get token_type() {
    return this.tokenType;
  }
  /** Seconds until expiry, by the wall clock at the time of reading. */
  get expires_in() {
    return Math.max(0, Math.floor(this.expiresAt - Date.now() / 1000));
  }
  get scope() {
    return this.scopes.join(' ');
  }
}

// The native module hands out the same (frozen) object for the same cached token, so the wrapper is
// remembered per object: a cache hit builds no new object.
const accessTokens = new WeakMap();
const docsTokens = new WeakMap();
function wrap(info, memo, Class) {
  let t = memo.get(info);
  if (t === undefined) {
    t = new Class(info);
    memo.set(info, t);
  }
  return t;
}

/** The token of a subject, actor or inbound token given as an `AccessToken` or a string. */
function tokenText(t) {
  return t instanceof AccessToken ? t.accessToken : t;
}

/** OAuth 2.0 client credentials with the core's token cache. */
class ClientCredentials {
  #native;
  /** The handle of the direct call for a cached token (`native.clientTryGetNow`). */
  #handle;
  static #adopt = null;

  /**
   * @param {object} options `tokenUrl` (or `domain`, or `issuer` to discover it), `clientId`,
   *   `clientSecret` (or `privateKey` for `private_key_jwt`), `scopes`, `audience`, `resource`,
   *   `authMethod`, `refreshBuffer` (seconds), `allowInsecureHttp`, `maxAttempts`, ...: the core
   *   reads them (camelCase or snake_case; an unknown option is a `ConfigError` naming it).
   */
  constructor(options) {
    if (ClientCredentials.#adopt !== null) {
      this.#native = ClientCredentials.#adopt;
      ClientCredentials.#adopt = null;
    } else {
      const [opts, clock] = splitOptions(options);
      this.#native = call(() => new native.NativeClient(opts ?? {}, clock));
    }
    this.#handle = this.#native.handle();
  }

  /** From `AUTHSEC_*` environment variables (`AUTHSEC_CLIENT_ID`, `AUTHSEC_CLIENT_SECRET`, `AUTHSEC_TOKEN_URL`, ...). */
  static fromEnv(env = process.env, internal = undefined) {
    const vars = {};
    for (const [k, v] of Object.entries(env)) if (k.startsWith('AUTHSEC_') && typeof v === 'string') vars[k] = v;
    const [, clock] = splitOptions(internal);
    return ClientCredentials.#wrap(call(() => native.NativeClient.fromEnv(vars, clock)));
  }

  /** From a YAML file shaped like the product docs' (`authsec:` mapping, `${VAR}` interpolation). */
  static fromConfigFile(path, internal = undefined) {
    const [, clock] = splitOptions(internal);
    return ClientCredentials.#wrap(call(() => native.NativeClient.fromConfigFile(String(path), clock)));
  }

  static #wrap(n) {
    ClientCredentials.#adopt = n;
    return new ClientCredentials();
  }

  /**
   * A token for the configured scopes/audience/resource, or for `params` (cached separately).
   * Resolves from the cache without leaving the JavaScript thread when the token is fresh.
   * @returns {Promise<AccessToken>}
   */
  async getToken(params) {
    try {
      const hit = this[CACHED_TOKEN](params ?? null);
      return wrap(hit ?? (await this.#native.getToken(params ?? null)), accessTokens, AccessToken);
    } catch (e) {
      throw fromNative(e);
    }
  }

  /**
   * RFC 8693 token exchange: trade `subjectToken` (a token this client holds, typically the access
   * token its caller sent; a string or an `AccessToken`) for a token for `scopes` / `audience` /
   * `resource` (only these: not the configured ones) that acts for its subject. Options:
   * `subjectToken`, `subjectTokenType`, `actorToken`, `actorTokenType`, `requestedTokenType`
   * (token types: `access_token` (default), `jwt`, `id_token`, `refresh_token` or a
   * `urn:ietf:params:oauth:token-type:*` URN), `scopes`, `audience`, `resource`; the core reads
   * them. Cached per subject token (and the rest), never past the subject's `exp`; the token's
   * `issuedTokenType` is the requested type (the core checks the response says so).
   * @returns {Promise<AccessToken>}
   */
  async exchangeToken(options) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError('exchangeToken takes an options object: { subjectToken, scopes, audience, resource, actorToken, ... }');
    }
    const opts = { ...options };
    for (const k of ['subjectToken', 'subject_token', 'actorToken', 'actor_token']) {
      if (opts[k] !== undefined) opts[k] = tokenText(opts[k]);
    }
    try {
      return wrap(await this.#native.exchangeToken(opts), accessTokens, AccessToken);
    } catch (e) {
      throw fromNative(e);
    }
  }

  /**
   * The downstream-token helper: this service received `inboundToken` (a string or an
   * `AccessToken`) and calls another API on its caller's behalf. Exchanges it for a token for that
   * API, named by `audience` and/or `resource` (required: a `ConfigError` without one, before
   * anything is sent), with `scopes` (none: what the server grants there). Never forward the
   * inbound token itself.
   * @param {string | AccessToken} inboundToken
   * @param {{ audience?: string, resource?: string | string[], scopes?: string | string[] }} target
   * @returns {Promise<AccessToken>}
   */
  async downstreamToken(inboundToken, target = {}) {
    if (target === null || typeof target !== 'object') {
      throw new TypeError('downstreamToken takes the inbound token and { audience, resource, scopes }');
    }
    try {
      return wrap(await this.#native.downstreamToken({ ...target, inboundToken: tokenText(inboundToken) }), accessTokens, AccessToken);
    } catch (e) {
      throw fromNative(e);
    }
  }

  /** Drop every cached token; the next `getToken()` requests a new one. */
  invalidate() {
    this.#native.invalidate();
  }

  /** Drop the cached token only if it is this one (after a resource answered 401 for it). */
  invalidateToken(token) {
    const t = typeof token === 'string' ? token : token?.accessToken;
    if (typeof t !== 'string') throw new TypeError('invalidateToken takes an AccessToken or its accessToken string');
    this.#native.invalidateToken(t);
  }

  /**
   * The RFC 7638 thumbprint of the client's DPoP key (its tokens' `cnf.jkt`), or null when the
   * client does not use DPoP (`dpop: true`, or a `dpopKey`).
   */
  get dpopThumbprint() {
    return this.#native.dpopThumbprint();
  }

  /**
   * The headers that authorize one request with `token` (from `getToken()`) to `url`:
   * `Authorization` with the token's scheme and, for a DPoP token, a fresh `DPoP` proof for this
   * method and URL (with the resource's nonce). Build them anew for every attempt.
   * @returns {Record<string, string>}
   */
  authorize(token, method, url) {
    const t = coreToken(token);
    if (t === undefined) throw new TypeError('authorize takes an AccessToken from getToken()');
    return Object.fromEntries(call(() => this.#native.authorize(t, String(method), String(url))));
  }

  /**
   * Tell the client how a resource at `url` answered a request that carried `token` (call it for
   * every answer: it keeps the resource's `DPoP-Nonce`): `'retry'` to send the request once more
   * with fresh headers from `authorize` (for a nonce challenge the same token, else a new one from
   * `getToken()`), `'give_up'` to hand the answer on. `retries`: how many times this request was
   * resent already. `headers`: a `Headers`, an object, or `[name, value]` pairs.
   * @returns {'retry' | 'give_up'}
   */
  onResourceResponse(url, token, status, headers, retries = 0) {
    const accessToken = typeof token === 'string' ? token : token?.accessToken;
    if (typeof accessToken !== 'string') throw new TypeError('onResourceResponse takes an AccessToken or its accessToken string');
    return this.#native.onResourceResponse(String(url), accessToken, status, flatHeaders(headers), retries) ? 'retry' : 'give_up';
  }

  /** `fetch` with this client's token (Bearer or DPoP); on a 401 it retries once as the core says. */
  fetch(input, init) {
    return authFetch(this, input, init);
  }

  get [NATIVE]() {
    return this.#native;
  }

  [CACHED_TOKEN](params) {
    return native.clientTryGetNow(this.#handle, params);
  }

  [inspect.custom](depth, options, inspectFn = inspect) {
    if (depth < 0) return options.stylize('[ClientCredentials]', 'special');
    const i = this.#native.info();
    const shown = { clientId: i.clientId, authMethod: i.authMethod };
    if (i.tokenUrl) shown.tokenUrl = i.tokenUrl;
    if (i.issuer) shown.issuer = i.issuer;
    if (i.scopes.length) shown.scopes = i.scopes;
    if (i.audience) shown.audience = i.audience;
    if (i.resource.length) shown.resource = i.resource;
    return `ClientCredentials ${inspectFn(shown, options)}`;
  }
}

/**
 * The product docs' client: `new AuthsecClient({ domain, clientId, clientSecret })`. The core maps
 * `domain` to the token endpoint `https://{domain}/oauth/token` (as the docs' `token_url`), unless
 * `tokenUrl` is given; `domain` may also be a full URL such as `http://127.0.0.1:8080`.
 */
class AuthsecClient {
  #client;

  constructor(options) {
    this.#client = new ClientCredentials(options);
  }

  /**
   * A client-credentials token for `audience` and `scope` (a space-separated string or a list),
   * cached per combination by the core.
   * @returns {Promise<ClientCredentialsToken>}
   */
  async getClientCredentialsToken(params = {}) {
    const { scope, scopes, audience, resource } = params;
    const p = {};
    if (scope !== undefined || scopes !== undefined) p.scopes = scopes ?? scope;
    if (audience !== undefined) p.audience = audience;
    if (resource !== undefined) p.resource = resource;
    try {
      const hit = this.#client[CACHED_TOKEN](p);
      return wrap(hit ?? (await this.#client[NATIVE].getToken(p)), docsTokens, ClientCredentialsToken);
    } catch (e) {
      throw fromNative(e);
    }
  }

  /** The underlying `ClientCredentials`. */
  get client() {
    return this.#client;
  }

  [inspect.custom](depth, options, inspectFn = inspect) {
    return `AuthsecClient { client: ${inspectFn(this.#client, options)} }`;
  }
}

function withHeaders(request, add) {
  const headers = new Headers(request.headers);
  for (const [k, v] of Object.entries(add)) headers.set(k, v);
  return new Request(request, { headers });
}

/**
 * `fetch(input, init)` with `client`'s token: the headers from `client.authorize` (Bearer, or
 * DPoP with a fresh proof) for every attempt; every answer goes to `client.onResourceResponse`,
 * and the request is resent at most once when the core says so (a DPoP nonce challenge: the same
 * token with the new nonce; another 401: a fresh token), else the answer is returned.
 * @param {ClientCredentials} client
 * @param {RequestInfo | URL} input
 * @param {RequestInit} [init]
 * @param {{ fetch?: typeof fetch }} [options] another `fetch` implementation
 */
async function authFetch(client, input, init, options) {
  const doFetch = options?.fetch ?? globalThis.fetch;
  const request = new Request(input, init);
  for (let retries = 0; ; retries++) {
    const token = await client.getToken();
    const res = await doFetch(withHeaders(request.clone(), client.authorize(token, request.method, request.url)));
    if (client.onResourceResponse(request.url, token, res.status, res.headers, retries) !== 'retry') return res;
    await res.body?.cancel().catch(() => {});
  }
}

/** A `fetch` bound to `client` (see `authFetch`). */
function createAuthFetch(client, options) {
  return (input, init) => authFetch(client, input, init, options);
}

module.exports = { AccessToken, ClientCredentialsToken, ClientCredentials, AuthsecClient, authFetch, createAuthFetch };
