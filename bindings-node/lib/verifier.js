'use strict';
// Verifying tokens: the core's verifier (options, signature, claims, JWKS cache, discovery,
// verified-token cache, scope checks).

const { inspect } = require('node:util');
const native = require('./native');
const { NATIVE, OFF_THREAD, AFTER_CORE, call, fromNative, configError, splitOptions, splitActorCallback } = require('./internal');
const { toPool, ranHere, onThePool, placementOption } = require('./placement');

/** Verifies JWT access tokens (RFC 9068) against a JWKS (`jwksUri`, cached; a static `jwks`; or `discover: true`). */
class Verifier {
  #native;
  /** The handle of the direct calls (`native.verifierVerifyNow`, `native.verifierVerifyCached`). */
  #handle;
  /** The `allowedActors` callback, or null. */
  #allowActor;
  /** Where first-sight checks run: `'auto'`, `true` (libuv's thread pool) or `false` (this thread); see placement.js. */
  #offThread;

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
    // `offThread` is the binding's choice of thread, not a core option (the core refuses unknown ones).
    const { offThread, ...rest } = coreOpts ?? {};
    const placement = placementOption(offThread);
    this.#native = call(() => new native.NativeVerifier(rest, clock));
    this.#handle = this.#native.handle();
    this.#allowActor = allowActor;
    this.#offThread = placement;
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
   * Fetch the key set now (a `jwksUri`, or the issuer's metadata and key set with `discover`), so
   * that `verifySync` can answer; with a static `jwks` there is nothing to fetch.
   * @returns {Promise<void>}
   */
  async warm() {
    try {
      await this.#native.warm();
    } catch (e) {
      throw fromNative(e);
    }
  }

  /**
   * Verify a token and resolve to its claims. A token verified before answers from the core's
   * verified-token cache on this thread. A first-sight token with the keys at hand (a static
   * `jwks`, a fresh cached JWKS that has its `kid`) is checked on this thread when it is the only
   * check in progress (a signature check costs less than a thread hop), and on libuv's thread
   * pool when checks pile up (a burst, or checks already on the pool), so that every core works.
   * When the key set must be fetched first, the fetch and the check run off this thread. The
   * `offThread` constructor option overrides the choice: `true` always the pool, `false` always
   * this thread. Errors always reject (it never throws).
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
    const [required, any] = scopeOptions(options, 'verify');
    if (this.#allowActor === null) {
      try {
        return this.#here(token, required, any) ?? (await this.#away(token, required, any));
      } catch (e) {
        throw fromNative(e);
      }
    }
    // With an allowedActors callback: verify, ask the callback about the current actor, then
    // check the scopes (the core's order: the delegation policy before the scopes).
    let claims;
    try {
      claims = this.#here(token, null, null) ?? (await this.#away(token, null, null));
    } catch (e) {
      throw fromNative(e);
    }
    await this.#afterCore(claims, required, any);
    return claims;
  }

  /**
   * `verify` on the JavaScript thread, returning the claims or throwing: for middleware that
   * wants no Promise. The keys must be at hand (a static `jwks`, or a JWKS already fetched by
   * `verify`, `warm()` or `Verifier.discover`); otherwise it throws an `UnavailableError`
   * (`jwks_unavailable`): await `verify` then. An `allowedActors` callback must answer `true` or
   * `false` synchronously (a Promise is a `TypeError`).
   * @param {string} token
   * @param {{ requiredScopes?: string | string[], anyScopes?: string | string[] }} [options]
   * @returns {Record<string, unknown>}
   */
  verifySync(token, options) {
    if (typeof token !== 'string') throw new TypeError('verifySync takes the token as a string');
    const [required, any] = scopeOptions(options, 'verifySync');
    const callback = this.#allowActor !== null;
    const claims = call(() => native.verifierVerifyNow(this.#handle, token, callback ? null : required, callback ? null : any));
    if (claims === null) throw fromNative(this.#native.notAtHand());
    if (callback) {
      if (claims.actor !== null) this.#answer(claims.actor, this.#allowActor(claims.actor), true);
      if (required !== null || any !== null) call(() => native.checkScopes(claims, required, any));
    }
    return claims;
  }

  /**
   * The claims when the core answers on this thread, else null: a cache hit; a full check when
   * it runs here (placement.js); null when it goes to the pool or the keys must be fetched.
   */
  #here(token, required, any) {
    if (toPool(this.#offThread)) return native.verifierVerifyCached(this.#handle, token, required, any);
    const claims = native.verifierVerifyNow(this.#handle, token, required, any);
    if (claims !== null) ranHere();
    return claims;
  }

  /** The check off this thread (Promise): on the pool, or after a key fetch. */
  #away(token, required, any) {
    if (toPool(this.#offThread)) return onThePool(this.#native.verify(token, required, any));
    return this.#native.verifyFetching(token, required, any);
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
    this.#answer(actor, allowed, false);
  }

  /** Accept (true) or refuse (false) the actor; anything else is the callback's mistake. */
  #answer(actor, allowed, sync) {
    if (allowed === true) return;
    if (allowed === false) throw fromNative(native.actorRefused(actor.id));
    if (sync && typeof allowed?.then === 'function') {
      Promise.resolve(allowed).catch(() => {}); // not awaited: no unhandled rejection from it
      throw new TypeError('verifySync needs an allowedActors callback that answers true or false synchronously; it returned a Promise: await verify() instead');
    }
    throw new TypeError(`the allowedActors callback must return true or false (or a Promise of one), not ${inspect(allowed)}`);
  }

  get [NATIVE]() {
    return this.#native;
  }

  get [OFF_THREAD]() {
    return this.#offThread;
  }

  [inspect.custom]() {
    return `Verifier { ${this.#native.describe()} }`;
  }
}

/** `{ requiredScopes, anyScopes }` of a verify call, each null when absent. */
function scopeOptions(options, method) {
  if (options === undefined || options === null) return [null, null];
  for (const k of Object.keys(options)) {
    if (k !== 'requiredScopes' && k !== 'anyScopes') {
      throw configError(`unknown ${method} option ${JSON.stringify(k)}; known options: requiredScopes, anyScopes`);
    }
  }
  return [options.requiredScopes ?? null, options.anyScopes ?? null];
}

module.exports = { Verifier };
