'use strict';
// @authsec/sdk/testing: the local authorization server and a fake SPIFFE Workload API (a separate
// testing addon, never loaded by the main entry), a manual clock, and INTERNAL test hooks (request counters). Not for production
// code; the hooks are not covered by semver.

const native = require('./lib/native');
const { NATIVE } = require('./lib/internal');
const { LocalServer, startLocalServer } = require('./lib/server');
const { FakeWorkloadApi } = require('./lib/fake-workload-api');

/**
 * A clock that only moves when told to (Unix milliseconds). Pass it as `clock` to
 * `ClientCredentials`, `Verifier` and `startLocalServer`; retries "sleep" by advancing it.
 */
const ManualClock = native.ManualClock;

/** Token requests a client has sent (retries included). */
function requestCount(client) {
  return client[NATIVE].requestCount();
}

/** Tokens in a verifier's verified-token cache. */
function cachedTokens(verifier) {
  return verifier[NATIVE].cachedTokens();
}

/** The core's error codes with their classification (`category`, `class`, `retryable`). */
function nativeErrorCodes() {
  return native.errorCodes();
}

/** The core's error class tree (`{ name, parent }`, parents first; `parent` null under `AuthsecError`). */
function nativeErrorClasses() {
  return native.errorClasses();
}

module.exports = { startLocalServer, LocalServer, FakeWorkloadApi, ManualClock, requestCount, cachedTokens, nativeErrorCodes, nativeErrorClasses };
module.exports.default = module.exports;
