'use strict';
// SPIFFE workload identity: verifying JWT-SVIDs (the core's JWT-SVID verifier: options, bundles,
// the JWT-SVID rules, ID patterns) and the Workload API client of the native layer. Everything
// exported here is public.

const { inspect } = require('node:util');
const native = require('./native');
const { NATIVE, call, fromNative, configError, splitOptions } = require('./internal');

const REDACTED = '***';
/** Guards the constructors that only this module calls. */
const INTERNAL = Symbol('authsec.internal');

/** A verified JWT-SVID as the native layer hands it out, deeply frozen. */
function frozenSvid(v) {
  return Object.freeze({ ...v, audience: Object.freeze(v.audience), claims: deepFreeze(v.claims) });
}

function deepFreeze(v) {
  if (v !== null && typeof v === 'object') {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

/**
 * Verifies SPIFFE JWT-SVIDs (a workload's identity token): the signature against its trust
 * domain's bundle, `aud`, `exp`, and optionally the SPIFFE ID (`allowedIds`). Build it with
 * `await JwtSvidVerifier.create(options)`.
 */
class JwtSvidVerifier {
  #native;

  constructor(key, n) {
    if (key !== INTERNAL) throw new TypeError('use `await JwtSvidVerifier.create(options)`');
    this.#native = n;
  }

  /**
   * @param {object} options `audience` (a string or a list; required), `trustDomains`
   *   (`{ "example.org": { bundle | bundleFile | bundleEndpoint } }`), `workloadApi` (`true`:
   *   the Workload API at `SPIFFE_ENDPOINT_SOCKET`, or its endpoint, `unix:///path`), `allowedIds`
   *   (SPIFFE IDs or patterns: `spiffe://td`, `spiffe://td/path/*`), `soleAudience`, `algorithms`,
   *   `leeway` (seconds), `maxTokenBytes`, `allowInsecureHttp`: the core reads them (an unknown
   *   option is a `ConfigError`). With `workloadApi` it resolves once the Workload API has sent the
   *   bundles, and follows their updates (key rotations) from then on.
   * @returns {Promise<JwtSvidVerifier>}
   */
  static async create(options) {
    const [opts, clock] = splitOptions(options);
    try {
      return new JwtSvidVerifier(INTERNAL, await native.createJwtSvidVerifier(opts ?? {}, clock));
    } catch (e) {
      throw fromNative(e);
    }
  }

  /**
   * Verify a JWT-SVID and resolve to it: `{ spiffeId, trustDomain, audience, expiresAt, issuedAt,
   * alg, kid, claims }` (frozen). The signature is checked off the JavaScript thread; a bundle
   * endpoint not fetched yet is fetched first.
   * @param {string} token
   */
  async verify(token) {
    if (typeof token !== 'string') throw new TypeError('verify takes the JWT-SVID as a string');
    try {
      return frozenSvid(await this.#native.verify(token));
    } catch (e) {
      throw fromNative(e);
    }
  }

  /**
   * `verify` on the JavaScript thread, when the trust domain's bundle is at hand (given in the
   * options, or from the Workload API); a bundle endpoint not fetched yet throws an
   * `UnavailableError` (`jwks_unavailable`): await `verify` then.
   * @param {string} token
   */
  verifySync(token) {
    if (typeof token !== 'string') throw new TypeError('verifySync takes the JWT-SVID as a string');
    const svid = call(() => this.#native.verifyNow(token));
    if (svid === null) throw fromNative(this.#native.notAtHand());
    return frozenSvid(svid);
  }

  get [NATIVE]() {
    return this.#native;
  }

  [inspect.custom]() {
    return `JwtSvidVerifier { ${this.#native.describe()} }`;
  }
}

/** A JWT-SVID from the Workload API. `util.inspect` and `toJSON` show `token: '***'`. */
class WorkloadJwtSvid {
  #token;

  constructor(key, v) {
    if (key !== INTERNAL) throw new TypeError('WorkloadJwtSvid comes from WorkloadApiClient.fetchJwtSvid');
    this.#token = v.token;
    /** The SPIFFE ID the SVID names (`sub`). */
    this.spiffeId = v.spiffeId;
    /** The operator's hint for choosing among several SVIDs (often empty). */
    this.hint = v.hint;
    Object.freeze(this);
  }

  /** The JWT-SVID itself (JWS compact serialization). */
  get token() {
    return this.#token;
  }

  toJSON() {
    return { spiffeId: this.spiffeId, token: REDACTED, hint: this.hint };
  }

  [inspect.custom](depth, options, inspectFn = inspect) {
    return `WorkloadJwtSvid ${inspectFn(this.toJSON(), options)}`;
  }
}

/** The workload's X.509-SVID. `util.inspect` and `toJSON` show `privateKeyPem: '***'`. */
class X509Svid {
  #key;

  constructor(key, v) {
    if (key !== INTERNAL) throw new TypeError('X509Svid comes from WorkloadApiClient.fetchX509Svid');
    this.#key = v.privateKeyPem;
    this.spiffeId = v.spiffeId;
    /** The certificate chain (PEM), the leaf first. */
    this.certChainPem = v.certChainPem;
    /** The trust domain's CA certificates (PEM). */
    this.bundlePem = v.bundlePem;
    this.hint = v.hint;
    Object.freeze(this);
  }

  /** The private key (PEM, PKCS#8). */
  get privateKeyPem() {
    return this.#key;
  }

  toJSON() {
    return { spiffeId: this.spiffeId, certChainPem: this.certChainPem, privateKeyPem: REDACTED, bundlePem: this.bundlePem, hint: this.hint };
  }

  [inspect.custom](depth, options, inspectFn = inspect) {
    return `X509Svid ${inspectFn({ spiffeId: this.spiffeId, privateKeyPem: REDACTED }, options)}`;
  }
}

/**
 * A client of the SPIFFE Workload API (the SPIRE agent's socket): `endpoint` is `unix:///path` or
 * `tcp://IP:PORT`, `SPIFFE_ENDPOINT_SOCKET` when absent. Connects on first use. Failures are
 * `UnavailableError`s (`workload_api_unavailable`: no agent, or no identity for this workload yet).
 */
class WorkloadApiClient {
  #native;

  /** @param {string} [endpoint] */
  constructor(endpoint) {
    if (endpoint !== undefined && endpoint !== null && typeof endpoint !== 'string') {
      throw new TypeError('WorkloadApiClient takes the endpoint as a string (unix:///path/to/agent.sock)');
    }
    this.#native = call(() => new native.NativeWorkloadApi(endpoint ?? null));
  }

  /** The endpoint, as given. */
  get endpoint() {
    return this.#native.endpoint;
  }

  /**
   * A JWT-SVID for `audience` (a string or a list), the workload's default identity's or
   * `spiffeId`'s.
   * @param {string | string[]} audience
   * @param {{ spiffeId?: string }} [options]
   * @returns {Promise<WorkloadJwtSvid>}
   */
  async fetchJwtSvid(audience, options) {
    let spiffeId = null;
    if (options !== undefined && options !== null) {
      for (const k of Object.keys(options)) {
        if (k !== 'spiffeId') throw configError(`unknown fetchJwtSvid option ${JSON.stringify(k)}; known options: spiffeId`);
      }
      spiffeId = options.spiffeId ?? null;
    }
    try {
      return new WorkloadJwtSvid(INTERNAL, await this.#native.fetchJwtSvid(audience, spiffeId));
    } catch (e) {
      throw fromNative(e);
    }
  }

  /**
   * The JWT bundles: each trust domain's JWKS, by trust domain name (`example.org`).
   * @returns {Promise<Record<string, { keys: object[] }>>}
   */
  async fetchJwtBundles() {
    try {
      return await this.#native.fetchJwtBundles();
    } catch (e) {
      throw fromNative(e);
    }
  }

  /**
   * The workload's default X.509-SVID with its private key and its trust domain's bundle (PEM).
   * @returns {Promise<X509Svid>}
   */
  async fetchX509Svid() {
    try {
      return new X509Svid(INTERNAL, await this.#native.fetchX509Svid());
    } catch (e) {
      throw fromNative(e);
    }
  }

  [inspect.custom]() {
    return `WorkloadApiClient { endpoint: ${inspect(this.endpoint)} }`;
  }
}

/**
 * Whether `spiffeId` matches one of `patterns`: an exact ID (`spiffe://example.org/agents/a`), a
 * trust domain (`spiffe://example.org`: any ID in it) or a path prefix
 * (`spiffe://example.org/agents/*`). A bad pattern is a `ConfigError`, a bad ID an
 * `InvalidTokenError` (`invalid_spiffe_id`).
 * @param {string} spiffeId
 * @param {string | string[]} patterns
 */
function spiffeIdMatches(spiffeId, patterns) {
  const list = typeof patterns === 'string' ? [patterns] : patterns;
  return call(() => native.spiffeIdMatches(spiffeId, list));
}

module.exports = { JwtSvidVerifier, WorkloadApiClient, WorkloadJwtSvid, X509Svid, spiffeIdMatches };
