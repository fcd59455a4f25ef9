'use strict';
// Verifying tokens: the core's verifier (options, signature, claims, JWKS cache, discovery,
// verified-token cache, scope checks).

const { inspect } = require('node:util');
const native = require('./native');
const { NATIVE, call, fromNative, configError, splitOptions } = require('./internal');

/** Verifies JWT access tokens (RFC 9068) against a JWKS (`jwksUri`, cached; a static `jwks`; or `discover: true`). */
class Verifier {
  #native;

  /**
   * @param {object} options `issuer`, `audience` (a string or a list), `jwksUri`, `jwks` or
   *   `discover: true`, `algorithms`, `leeway` (seconds), `typ` (`"default"` | `"strict"`),
   *   `requiredClaims`, ...: the core reads them (an unknown option is a `ConfigError`).
   */
  constructor(options) {
    const [opts, clock] = splitOptions(options);
    this.#native = call(() => new native.NativeVerifier(opts ?? {}, clock));
  }

  /**
   * A verifier whose `jwksUri` is discovered from the issuer's metadata (RFC 8414, then OpenID
   * Connect discovery; the metadata's `issuer` must be `options.issuer`): `discover: true`, with
   * the metadata and the key set fetched before it resolves, so a wrong issuer fails here.
   * @returns {Promise<Verifier>}
   */
  static async discover(options) {
    const v = new Verifier({ ...options, discover: true });
    try {
      await v.#native.warm();
    } catch (e) {
      throw fromNative(e);
    }
    return v;
  }

  /**
   * Verify a token and resolve to its claims. A token verified before answers from the core's
   * verified-token cache without leaving the JavaScript thread; anything else (signature check,
   * JWKS fetch) runs off it.
   * @param {string} token
   * @param {{ requiredScopes?: string | string[], anyScopes?: string | string[] }} [options]
   * @returns {Promise<Record<string, unknown>>}
   */
  async verify(token, options) {
    if (typeof token !== 'string') throw new TypeError('verify takes the token as a string');
    let required = null;
    let any = null;
    if (options !== undefined && options !== null) {
      for (const k of Object.keys(options)) {
        if (k !== 'requiredScopes' && k !== 'anyScopes') {
          throw configError(`unknown verify option ${JSON.stringify(k)}; known options: requiredScopes, anyScopes`);
        }
      }
      required = options.requiredScopes ?? null;
      any = options.anyScopes ?? null;
    }
    try {
      const hit = this.#native.verifyCached(token, required, any);
      return hit ?? (await this.#native.verify(token, required, any));
    } catch (e) {
      throw fromNative(e);
    }
  }

  get [NATIVE]() {
    return this.#native;
  }

  [inspect.custom]() {
    return `Verifier { ${this.#native.describe()} }`;
  }
}

module.exports = { Verifier };
