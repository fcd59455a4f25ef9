'use strict';
// The local authorization server (authsec-server) in-process, on 127.0.0.1 and an ephemeral port:
// for @authsec/sdk/testing only. It lives in the testing addon (native/authsec-testing.*.node),
// loaded on the first start, never by the package's main entry.

const { inspect } = require('node:util');
const { loadTesting: testing } = require('./load');
const { ClientCredentials } = require('./client');
const { Verifier } = require('./verifier');
const { fromNative, configError, clockOf } = require('./internal');


class LocalServer {
  #native;
  #closed = null;
  #clients;
  #audiences;
  #clock;

  constructor(n, config, clock) {
    this.#native = n;
    this.#clients = config.clients ?? [];
    const audiences = [...this.#clients.flatMap((c) => c.audiences ?? []), config.default_audience ?? n.issuer];
    this.#audiences = [...new Set(audiences)];
    this.#clock = clock;
    this.issuer = n.issuer;
    this.tokenEndpoint = n.tokenEndpoint;
    this.jwksUri = n.jwksUri;
    this.port = n.port;
    Object.freeze(this);
  }

  /**
   * A `ClientCredentials` for one of the configured clients (the first by default; `clientId`
   * picks another), pointed at this server, with its secret from the config unless `options`
   * give one (or a `privateKey`) and the server's clock. Other options go to `ClientCredentials`.
   */
  client(options = {}) {
    const { clientId, ...rest } = options;
    const spec = clientId === undefined ? this.#clients[0] : this.#clients.find((c) => c.client_id === clientId);
    const id = clientId ?? spec?.client_id;
    if (id === undefined) throw configError('the local server has no configured clients; pass clientId');
    const defaults = { tokenUrl: this.tokenEndpoint, clientId: id, clock: this.#clock ?? undefined };
    if (spec?.client_secret !== undefined && rest.privateKey === undefined && rest.privateKeyFile === undefined) {
      defaults.clientSecret = spec.client_secret;
    }
    return new ClientCredentials({ ...defaults, ...rest });
  }

  /** A `Verifier` for this server's tokens (its issuer and JWKS; every audience it issues by default). */
  verifier(options = {}) {
    return new Verifier({ issuer: this.issuer, audience: this.#audiences, jwksUri: this.jwksUri, clock: this.#clock ?? undefined, ...options });
  }

  /** A fresh access token for a configured client (a new token request every time); `options` as for `client()`. */
  async token(options = {}) {
    return (await this.client(options).getToken()).accessToken;
  }

  /** Stop listening. */
  close() {
    this.#closed ??= this.#native.close().catch((e) => {
      throw fromNative(e);
    });
    return this.#closed;
  }

  [Symbol.asyncDispose]() {
    return this.close();
  }

  [inspect.custom]() {
    return `LocalServer { issuer: ${JSON.stringify(this.issuer)} }`;
  }
}

/**
 * Start a local OAuth authorization server for tests and offline development. `config` uses the
 * server's YAML field names: `clients: [{ client_id, client_secret, allowed_scopes, audiences,
 * token_lifetime, jwks, ... }]`, `signing_alg` (ES256, RS256, EdDSA), `token_lifetime`, ...; or
 * pass `{ yaml: "..." }`. Audit logging is off unless `audit_log` is set.
 * @returns {Promise<LocalServer>}
 */
async function startLocalServer(config = {}) {
  const { clock, port, yaml, ...rest } = config ?? {};
  const c = clockOf(clock);
  try {
    // The clock's state is handed over right here, once per server (see ManualClock._shareState).
    const n = await testing().startLocalServer(yaml === undefined ? rest : null, yaml ?? null, c?._shareState() ?? null, port ?? null);
    return new LocalServer(n, yaml === undefined ? rest : {}, c);
  } catch (e) {
    throw fromNative(e);
  }
}

module.exports = { LocalServer, startLocalServer };
