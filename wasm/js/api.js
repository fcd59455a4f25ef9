// The package's JavaScript API over one of its WebAssembly modules: the entries (manual.js for
// dist/authsec_wasm_bg.wasm, requests-manual.js for dist/authsec_wasm_requests_bg.wasm, which adds
// RequestVerifier) each call makeApi with their module's wasm-bindgen namespace. No token logic
// lives here (that is the Rust core's).
import { makeError, setEd25519FallbackSource, setErrorCodes } from './glue.js';

/** One of the package's own files (`url`): bytes in Node (fetch has no file: URLs; read without
 * importing a Node built-in), else the URL. The entries spell each `new URL('./dist/….wasm',
 * import.meta.url)` out literally: that is the pattern bundlers (Vite, webpack, Parcel) recognise
 * to copy the file into the build and rewrite the URL. */
export function packageFile(url) {
  const fs = url.protocol === 'file:' && globalThis.process?.getBuiltinModule?.('fs');
  return fs ? fs.readFileSync(url) : url;
}

/** The API over `wasm` (a wasm-bindgen namespace), `initWasm` (its default export) and
 * `defaultModule` (a thunk for the module's own .wasm). */
export function makeApi(wasm, initWasm, defaultModule) {
  let ready = null;

  /** Load the module (once). `input`: a WebAssembly.Module, URL, Response, bytes, or undefined (the
   * package's own .wasm next to this file). `options.ed25519Fallback`: where the Ed25519 fallback
   * module comes from (a WebAssembly.Module, bytes or URL; it is only loaded in runtimes whose
   * WebCrypto lacks Ed25519). */
  function init(input, options) {
    if (options?.ed25519Fallback !== undefined) setEd25519FallbackSource(() => options.ed25519Fallback);
    if (!ready) {
      ready = (async () => {
        const source = input === undefined ? defaultModule() : input;
        await initWasm({ module_or_path: source });
        setErrorCodes(wasm.errorCodes());
      })();
      ready.catch(() => { ready = null; });
    }
    return ready;
  }

  /** Initialise synchronously from a WebAssembly.Module or bytes (Cloudflare Workers: the imported
   * module). `options.ed25519Fallback` as for init(). */
  function initSync(module, options) {
    if (options?.ed25519Fallback !== undefined) setEd25519FallbackSource(() => options.ed25519Fallback);
    if (!ready) {
      wasm.initSync({ module });
      setErrorCodes(wasm.errorCodes());
      ready = Promise.resolve();
    }
  }

  function scopeList(s) {
    return s === undefined || s === null ? undefined : s;
  }

  const ACTOR_OPTIONS = ['allowedActors', 'allowed_actors'];

  /** The options for the core without an `allowedActors` callback, and the callback (or null). A
   * list of actor ids stays in the options: the core applies it. */
  function splitActorCallback(options) {
    if (options === null || typeof options !== 'object') return [options, null];
    const given = ACTOR_OPTIONS.filter((k) => options[k] !== undefined && options[k] !== null);
    const key = given.find((k) => typeof options[k] === 'function');
    if (key === undefined) return [options, null];
    if (given.length > 1) throw makeError('config_error', 'give allowed_actors (allowedActors) only once');
    const { [key]: callback, ...rest } = options;
    return [rest, callback];
  }

  /** Each Verifier's WebAssembly object, for RequestVerifier (kept off the public class). */
  const wasmVerifiers = new WeakMap();

  /** A JWT access-token verifier (RFC 9068) on the authsec core. */
  class Verifier {
    #inner;
    /** The `allowedActors` callback, or null. */
    #allowActor;
    /** { issuer, audience, jwks | jwksUri, algorithms, leeway, typ, requiredClaims, maxTokenBytes,
     *    verifiedCacheSize, allowInsecureHttp, forbidDelegation, maxDelegationDepth, allowedActors }
     * (the core reads them; `allowedActors` may also be a function of the current actor, called
     * here). `testing.nowMs` fixes the clock (tests only). */
    constructor(options, testing) {
      const [coreOptions, allowActor] = splitActorCallback(options);
      this.#inner = new wasm.Verifier(coreOptions, testing?.nowMs);
      this.#allowActor = allowActor;
      wasmVerifiers.set(this, { inner: this.#inner, callback: allowActor !== null });
    }
    /** Resolves to the claims (with `delegation` and `actor`); rejects with an AuthsecError
     * (`err.code`). With an `allowedActors` callback: the token is verified, then the callback is
     * asked about the current actor of a delegated token (false: DelegationError,
     * delegation_not_allowed), then the scopes are checked (the core's order). */
    async verify(token, options) {
      if (typeof token !== 'string') throw makeError('malformed_token', 'the token must be a string');
      if (this.#allowActor === null) {
        const cached = this.#inner.verifyCached(token, options);
        if (cached !== undefined) return cached;
        return this.#inner.verify(token, options);
      }
      const claims = this.#inner.verifyCached(token, options, true) ?? (await this.#inner.verify(token, options, true));
      if (claims.actor !== null) await this.#checkActor(claims.actor);
      if (options !== null && typeof options === 'object') {
        wasm.requireScopes(claims, scopeList(options.requiredScopes), scopeList(options.anyScopes));
      }
      return claims;
    }
    /** The `allowedActors` callback's answer for the current actor: true accepts, false refuses. */
    async #checkActor(actor) {
      const allowed = await this.#allowActor(actor);
      if (allowed === true) return;
      if (allowed === false) throw wasm.actorRefused(actor.id);
      throw new TypeError(`the allowedActors callback must return true or false (or a Promise of one), not ${typeof allowed}`);
    }
    /** Tokens in the verified-token cache. */
    get cachedTokens() {
      return this.#inner.cachedTokens;
    }
    free() {
      this.#inner.free();
    }
  }

  /** Checks whole requests to a protected resource: the credential (Bearer or DPoP), the token,
   * its binding to a DPoP key (RFC 9449: the proof, nonces, a replay cache) or a client certificate
   * (RFC 8705), and the scopes; a refusal comes with its status and headers. */
  class RequestVerifier {
    #inner;
    /** `verifier`: a Verifier (without an `allowedActors` callback: give a list). `options`:
     * `{ dpop, dpopAlgorithms, dpopMaxAge, dpopLeeway, dpopNonce, dpopNonceKey, dpopNonceLifetime,
     * replayCapacity, publicUrl, trustForwarded, trustedProxies, clientCertHeader,
     * clientCertHeaderFormat, requireCertificateBinding, realm }` (the core reads them). */
    constructor(verifier, options) {
      const v = wasmVerifiers.get(verifier);
      if (v === undefined) throw makeError('config_error', 'RequestVerifier needs a Verifier of this package');
      if (v.callback) {
        throw makeError('config_error', 'RequestVerifier cannot call an allowedActors function; give the Verifier a list of actor ids');
      }
      this.#inner = new wasm.RequestVerifier(v.inner, options ?? {});
    }
    /** `request`: a fetch Request, or `{ method, url, headers, peer?, clientCertificate? }`. Resolves
     * to `{ accepted: true, claims, scheme, jkt, certificate, headers }` or `{ accepted: false,
     * status, error, headers }`; send `headers` ([name, value] pairs) with the answer. */
    verify(request, options) {
      return this.#inner.verify(request, options);
    }
    free() {
      this.#inner.free();
    }
  }

  /** Verifies SPIFFE JWT-SVIDs (the JWT-SVID standard) against the trust bundles it is given. */
  class JwtSvidVerifier {
    #inner;
    /** { audience, trustDomains: { 'example.org': { bundle } }, allowedIds, soleAudience,
     *    algorithms, leeway, maxTokenBytes } (the core reads them; bundles are JWKS objects or
     * their JSON text). `testing.nowMs` fixes the clock (tests only). */
    constructor(options, testing) {
      this.#inner = new wasm.JwtSvidVerifier(options, testing?.nowMs);
    }
    /** Resolves to { spiffeId, trustDomain, audience, expiresAt, issuedAt, alg, kid, claims };
     * rejects with an AuthsecError (`err.code`). */
    async verify(token) {
      if (typeof token !== 'string') throw makeError('malformed_token', 'the token must be a string');
      return this.#inner.verify(token);
    }
    free() {
      this.#inner.free();
    }
  }

  /** Whether a SPIFFE ID matches one of the patterns: an ID, a trust domain (`spiffe://td`) or a
   * path prefix (`spiffe://td/agents/*`). A bad pattern throws config_error. */
  function spiffeIdMatches(spiffeId, patterns) {
    return wasm.spiffeIdMatches(String(spiffeId), [...patterns].map(String));
  }

  /** Tests only (not part of the API): move a Verifier's testing clock (`testing.nowMs`). */
  function _setNowMs(verifier, nowMs) {
    wasmVerifiers.get(verifier)?.inner.setNowMs(nowMs);
  }

  /** Decode without verifying (inspection only): { header, payload }. */
  function decode(token) {
    return wasm.decode(token);
  }
  /** The scopes a claims object grants (`scope` and `scp`). */
  function scopesOf(claims) {
    return wasm.scopesOf(claims);
  }
  /** Throws insufficient_scope unless claims grant every required scope (and one of `any`, if given). */
  function requireScopes(claims, required, any) {
    wasm.requireScopes(claims, scopeList(required), scopeList(any));
  }
  /** Whether claims grant every required scope. */
  function hasScopes(claims, required) {
    return wasm.hasScopes(claims, scopeList(required));
  }
  /** The token of an `Authorization: Bearer` header value (undefined when absent). */
  function bearerToken(authorization) {
    return wasm.bearerToken(authorization ?? undefined);
  }
  /** RFC 6750 answer for an error from verify (or none: a missing token): { status, error,
   * wwwAuthenticate } (no challenge for a 5xx: keys unavailable). `resourceMetadata`: the URL of the
   * resource's RFC 9728 metadata, named in the challenge. */
  function challenge(error, { realm, requiredScopes, resourceMetadata } = {}) {
    return wasm.challenge(
      error?.code,
      error?.message,
      error?.missingScopes,
      realm,
      scopeList(requiredScopes),
      resourceMetadata,
    );
  }
  /** A `jwksCache` over a Cloudflare Workers KV namespace (`env.MY_KV`). KV answers a missing key
   * with null (a miss here too) and refuses an `expirationTtl` under 60 s, so a shorter freshness is
   * stored for 60 s: the stored document carries its own freshness, which the core checks on load. */
  function workersKvStore(namespace) {
    if (!namespace || typeof namespace.get !== 'function' || typeof namespace.put !== 'function') {
      throw makeError('config_error', 'workersKvStore needs a KV namespace binding (an object with get and put)');
    }
    return {
      get: (key) => namespace.get(key),
      set: (key, value, ttlSeconds) => namespace.put(key, value, { expirationTtl: Math.max(60, Math.ceil(ttlSeconds)) }),
    };
  }

  /** The core's stable error codes: [{ code, description, category, class, retryable }]. */
  function errorCodes() {
    return wasm.errorCodes();
  }

  /** The core's error class tree: [{ name, parent }]. */
  function errorClasses() {
    return wasm.errorClasses();
  }

  return {
    init, initSync, Verifier, JwtSvidVerifier, spiffeIdMatches, _setNowMs,
    // Only the requests module has the WebAssembly side of it.
    RequestVerifier: wasm.RequestVerifier === undefined ? undefined : RequestVerifier,
    decode, scopesOf, requireScopes, hasScopes, bearerToken, challenge, workersKvStore, errorCodes, errorClasses };
}
