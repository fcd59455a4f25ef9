'use strict';
// The local authorization server (authsec-server) in-process, on 127.0.0.1 and an ephemeral port.

const { inspect } = require('node:util');
const native = require('./native');
const { fromNative, clockOf } = require('./internal');

class LocalServer {
  #native;
  #closed = null;

  constructor(n) {
    this.#native = n;
    this.issuer = n.issuer;
    this.tokenEndpoint = n.tokenEndpoint;
    this.jwksUri = n.jwksUri;
    this.port = n.port;
    Object.freeze(this);
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
  try {
    const n = await native.startLocalServer(yaml === undefined ? rest : null, yaml ?? null, clockOf(clock), port ?? null);
    return new LocalServer(n);
  } catch (e) {
    throw fromNative(e);
  }
}

module.exports = { LocalServer, startLocalServer };
