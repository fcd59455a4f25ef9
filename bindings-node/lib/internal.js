'use strict';
// Internal plumbing shared by the JS layer (not part of the public API).

const native = require('./native');
const errors = require('./errors');

/** The native object behind a public wrapper (for `@authsec/sdk/testing`). */
const NATIVE = Symbol('authsec.native');

/** Whether a `Verifier` was built with `offThread: true` (the request verifier follows it). */
const OFF_THREAD = Symbol('authsec.offThread');

/** A client's cached token (the native object) when the core hands it out without waiting, else null. */
const CACHED_TOKEN = Symbol('authsec.cachedToken');

/**
 * A `Verifier`'s checks after the core's, or null: its `allowedActors` callback and then the
 * scopes, as `(claims, requiredScopes, anyScopes) => Promise<void>` (for the request verifier).
 */
const AFTER_CORE = Symbol('authsec.afterCore');

/** Every stable code of the core, in the core's order, and the class the core names for it. */
const CODE_CLASSES = Object.freeze(Object.fromEntries(native.errorCodes().map((c) => [c.code, errors[c.class]])));

/**
 * The error a native call threw or rejected with, as the class the core names for its code.
 * Anything that is not a core error (a TypeError for a wrong argument type, ...) is returned as is.
 */
function fromNative(e) {
  if (e instanceof errors.AuthsecError || e === null || typeof e !== 'object') return e;
  const Class = typeof e.code === 'string' && Object.hasOwn(CODE_CLASSES, e.code) ? CODE_CLASSES[e.code] : null;
  if (Class === null) return e;
  const err = new Class(e.message, e);
  Error.captureStackTrace?.(err, fromNative);
  return err;
}

/** A `config_error` raised by the JS layer itself (a wrong option name). */
function configError(message) {
  return new errors.ConfigError(message, { code: 'config_error' });
}

/** A `ManualClock` from `@authsec/sdk/testing`, or null for the system clock. */
function clockOf(clock) {
  if (clock === undefined || clock === null) return null;
  if (!(clock instanceof native.ManualClock)) {
    throw new TypeError('clock must be a ManualClock from @authsec/sdk/testing');
  }
  return clock;
}

/** Options without the internal `clock`, and the clock. */
function splitOptions(options) {
  if (options === undefined || options === null) return [undefined, null];
  if (typeof options !== 'object') throw new TypeError('options must be an object');
  const { clock, ...rest } = options;
  return [rest, clockOf(clock)];
}

const ACTOR_OPTIONS = ['allowedActors', 'allowed_actors'];

/**
 * The options for the core without an `allowedActors` callback, and the callback (or null). A
 * list of ids stays in the options: the core applies it.
 */
function splitActorCallback(opts) {
  const given = ACTOR_OPTIONS.filter((k) => opts !== undefined && opts[k] !== undefined);
  const fn = given.find((k) => typeof opts[k] === 'function');
  if (fn === undefined) return [opts, null];
  if (given.length > 1) throw configError('give allowed_actors (allowedActors) only once');
  const { [fn]: callback, ...rest } = opts;
  return [rest, callback];
}

/**
 * What the middleware puts on `req.auth` for a verified token: the claims (`payload`) and the
 * token, with the fields of the MCP SDK's `AuthInfo` (`clientId`: the `client_id` claim, else
 * `sub`; `scopes`, read as the core reads them; `expiresAt`: `exp`; `extra`), so the request can
 * go on to an MCP SDK transport as it is.
 */
function authResult(token, claims, scopes = native.scopesOf(claims)) {
  const extra = { sub: claims.sub, iss: claims.iss, claims, delegation: claims.delegation };
  return { payload: claims, token, clientId: claims.client_id ?? claims.sub, scopes, expiresAt: claims.exp, extra };
}

/** Headers as name, value, name, value, ...: from `[name, value]` pairs, a `Headers`, or an object of strings (or lists). */
function flatHeaders(headers) {
  const out = [];
  if (headers === undefined || headers === null) return out;
  const entries = typeof headers[Symbol.iterator] === 'function' ? headers : Object.entries(headers);
  for (const [k, v] of entries) {
    for (const x of Array.isArray(v) ? v : [v]) if (x !== undefined) out.push(String(k), String(x));
  }
  return out;
}

/** Run a native call, re-throwing core errors as `AuthsecError` subclasses. */
function call(fn) {
  try {
    return fn();
  } catch (e) {
    throw fromNative(e);
  }
}

module.exports = { NATIVE, OFF_THREAD, CACHED_TOKEN, AFTER_CORE, CODE_CLASSES, fromNative, configError, clockOf, splitOptions, splitActorCallback, authResult, flatHeaders, call };
