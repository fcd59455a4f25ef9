'use strict';
// Internal plumbing shared by the JS layer (not part of the public API).

const native = require('./native');
const { fromNative } = require('./errors');

/** The native object behind a public wrapper (for `@authsec/sdk/testing`). */
const NATIVE = Symbol('authsec.native');

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

/** Run a native call, re-throwing core errors as `AuthsecError` subclasses. */
function call(fn) {
  try {
    return fn();
  } catch (e) {
    throw fromNative(e);
  }
}

module.exports = { NATIVE, clockOf, splitOptions, call };
