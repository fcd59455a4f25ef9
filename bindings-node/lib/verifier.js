'use strict';
// Verifying tokens: the core's verifier (options, signature, claims, JWKS cache, discovery,
// verified-token cache, scope checks).

const { inspect } = require('node:util');
const native = require('./native');
const { NATIVE, AFTER_CORE, call, fromNative, configError, splitOptions, splitActorCallback } = require('./internal');

/** Verifies JWT access tokens (RFC 9068) against a JWKS (`jwksUri`, cached; a static `jwks`; or `discover: true`). */
class Verifier {
  #native;
  /** The `allowedActors` callback, or null. */
  #allowActor;

  /**
   * @param {object} options `issuer`, `audience` (a string or a list), `jwksUri`, `jwks` or
   *   `discover: true`, `algorithms`, `leeway` (seconds), `typ` (`"default"` | `"strict"`),
   *   `requiredClaims`, `forbidDelegation`, `maxDelegationDepth`, `allowedActors` (a list of
   *   actor ids, or a function of the current actor), ...: the core reads them (an unknown
   *   option is a `ConfigError`).
   */
  constructor(options) {
    const [opts, clock] = splitOptions(options);
    const [coreOpts, allowActor] = splitActorCallback(opts);
    this.#native = call(() => new native.NativeVerifier(coreOpts ?? {}, clock));
    this.#allowActor = allowActor;
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
   * The claims object also has `delegation` (the `act` chain read by the core: frozen
   * `{ sub, clientId, iss, id }` actors, current actor first) and `actor` (the current actor, or
   * null), non-enumerable so that spreads and `JSON.stringify` show only the token's claims.
   * With an `allowedActors` callback, a delegated token is verified, then the callback is called
   * with the current actor (`false` refuses it with a `DelegationError`), then the scopes checked.
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
    if (this.#allowActor === null) {
      try {
        const hit = this.#native.verifyCached(token, required, any);
        return hit ?? (await this.#native.verify(token, required, any));
      } catch (e) {
        throw fromNative(e);
      }
    }
    // With an allowedActors callback: verify, ask the callback about the current actor, then
    // check the scopes (the core's order: the delegation policy before the scopes).
    let claims;
    try {
      claims = this.#native.verifyCached(token, null, null) ?? (await this.#native.verify(token, null, null));
    } catch (e) {
      throw fromNative(e);
    }
    await this.#afterCore(claims, required, any);
    return claims;
  }

  /** With an `allowedActors` callback: the callback on the current actor, then the scopes. */
  async #afterCore(claims, required, any) {
    if (claims.actor !== null) await this.#checkActor(claims.actor);
    if (required !== null || any !== null) call(() => native.checkScopes(claims, required, any));
  }

  get [AFTER_CORE]() {
    return this.#allowActor === null ? null : (claims, required, any) => this.#afterCore(claims, required ?? null, any ?? null);
  }

  /** The `allowedActors` callback's answer for the current actor: true accepts, false refuses. */
  async #checkActor(actor) {
    let allowed = this.#allowActor(actor);
    if (typeof allowed?.then === 'function') allowed = await allowed;
    if (allowed === true) return;
    if (allowed === false) throw fromNative(native.actorRefused(actor.id));
    throw new TypeError(`the allowedActors callback must return true or false (or a Promise of one), not ${inspect(allowed)}`);
  }

  get [NATIVE]() {
    return this.#native;
  }

  [inspect.custom]() {
    return `Verifier { ${this.#native.describe()} }`;
  }
}

module.exports = { Verifier };
