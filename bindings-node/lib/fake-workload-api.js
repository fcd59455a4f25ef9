'use strict';
// A fake SPIFFE Workload API for tests (@authsec/sdk/testing only): the native layer's fake (a
// gRPC server on a Unix socket in a temporary directory, its own SPIFFE authority with an ES256
// JWT key and an X.509 CA), in the testing addon.

const { inspect } = require('node:util');
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { loadTesting } = require('./load');
const { fromNative } = require('./internal');

const INTERNAL = Symbol('authsec.internal');

function wrapped(fn) {
  try {
    return fn();
  } catch (e) {
    throw fromNative(e);
  }
}

/**
 * A fake Workload API: `endpoint` (`unix:///…/agent.sock`) for `SPIFFE_ENDPOINT_SOCKET`,
 * `WorkloadApiClient`, `workloadApi` or `spiffeEndpointSocket`. It issues JWT-SVIDs for
 * `spiffeId` (default `spiffe://<trustDomain>/workload`), serves its JWT bundle (pushed again to
 * watchers after `rotateJwtKey()`) and an X.509-SVID. Stop it with `stop()` (or `await using`).
 */
class FakeWorkloadApi {
  #native;
  #dir;

  constructor(key, n, dir) {
    if (key !== INTERNAL) throw new TypeError('use `await FakeWorkloadApi.start()` or `FakeWorkloadApi.startSync()`');
    this.#native = n;
    this.#dir = dir;
    this.endpoint = n.endpoint;
    this.socketPath = n.socketPath;
    this.trustDomain = n.trustDomain;
    Object.freeze(this);
  }

  /**
   * Start serving on a socket in a new temporary directory.
   * @param {{ trustDomain?: string }} [options]
   */
  static startSync(options = {}) {
    const { trustDomain, ...rest } = options ?? {};
    const unknown = Object.keys(rest);
    if (unknown.length) throw new TypeError(`unknown FakeWorkloadApi option ${JSON.stringify(unknown[0])}; known options: trustDomain`);
    const dir = mkdtempSync(join(tmpdir(), 'authsec-wl-'));
    try {
      const n = wrapped(() => new (loadTesting().FakeWorkloadApi)(dir, trustDomain ?? null));
      return new FakeWorkloadApi(INTERNAL, n, dir);
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
  }

  /** `startSync` as a Promise (the server runs on the I/O runtime either way). */
  static async start(options) {
    return FakeWorkloadApi.startSync(options);
  }

  /** The SPIFFE ID its SVIDs name now. */
  get spiffeId() {
    return wrapped(() => this.#native.spiffeId());
  }

  /** Issue SVIDs for another SPIFFE ID (in the fake's trust domain) from now on. */
  setSpiffeId(id) {
    wrapped(() => this.#native.setSpiffeId(String(id)));
  }

  /** A new JWT signing key (new `kid`) signs from now on; the bundle keeps the old key too and is pushed to watchers. */
  rotateJwtKey() {
    wrapped(() => this.#native.rotateJwtKey());
  }

  /** The `kid` of the key that signs now. */
  get jwtKid() {
    return wrapped(() => this.#native.jwtKid());
  }

  /** A new X.509-SVID (new key, same CA). */
  rotateX509() {
    wrapped(() => this.#native.rotateX509());
  }

  /** The JWT bundle served now (a JWKS document). */
  jwtBundle() {
    return JSON.parse(wrapped(() => this.#native.jwtBundleJson()));
  }

  /** Answer the next `n` calls with "no identity issued" (PermissionDenied), as an agent before attestation. */
  denyNext(n) {
    wrapped(() => this.#native.denyNext(n));
  }

  /** Answer the next `n` calls with InvalidArgument. */
  refuseNext(n) {
    wrapped(() => this.#native.refuseNext(n));
  }

  /** Calls made so far (refused ones included). */
  get calls() {
    return wrapped(() => this.#native.calls());
  }

  /** Stop serving and remove the socket's directory (idempotent). */
  stop() {
    this.#native.stop();
    rmSync(this.#dir, { recursive: true, force: true });
  }

  [Symbol.dispose]() {
    this.stop();
  }

  async [Symbol.asyncDispose]() {
    this.stop();
  }

  [inspect.custom]() {
    return `FakeWorkloadApi { endpoint: ${inspect(this.endpoint)} }`;
  }
}

module.exports = { FakeWorkloadApi };
