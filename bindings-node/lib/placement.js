'use strict';
// Where a first-sight check runs (the binding's choice of thread; the check itself is the core's).
//
// One signature check on the JavaScript thread (20–60 µs) costs less than the hop to libuv's
// thread pool and back (~30 µs), so a lone check runs here, as fast-jwt and jsonwebtoken do. But
// checks done here never yield: when checks pile up (one starts before the previous caller has
// resumed, or checks are already on the pool) they go to the pool, whose threads run on every
// core, as WebCrypto's do. The `offThread` option overrides it: `true` always the pool, `false`
// always here (a key fetch still runs off this thread).

/** Checks done on this thread whose callers have not resumed yet (a burst in progress). */
let unresumed = 0;
/** Checks on the pool now. */
let onPool = 0;
const resumed = () => {
  unresumed--;
};

/** Whether the next check goes to the pool under `mode` (`'auto'`, `true` or `false`). */
function toPool(mode) {
  if (mode !== 'auto') return mode;
  return unresumed > 0 || onPool > 0;
}

/** A settled promise: `.then` on it queues a microtask. */
const settled = Promise.resolve();

/**
 * Note a check done on this thread: its caller resumes in a microtask queued after this one.
 * (`settled.then` rather than `queueMicrotask`, which wraps each callback in an AsyncResource:
 * 0.3 µs of every cached `verify`.)
 */
function ranHere() {
  unresumed++;
  settled.then(resumed);
}

/** Await `promise` (a check on the pool), counting it while it runs. */
async function onThePool(promise) {
  onPool++;
  try {
    return await promise;
  } finally {
    onPool--;
  }
}

/** The `offThread` constructor option: `'auto'` (the default), `true` or `false`. */
function placementOption(value) {
  if (value === undefined || value === 'auto') return 'auto';
  if (value === true || value === false) return value;
  throw new TypeError(`offThread must be true, false or 'auto', not ${JSON.stringify(value)}`);
}

module.exports = { toPool, ranHere, onThePool, placementOption };
