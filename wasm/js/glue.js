// The only JavaScript the Rust side calls: WebCrypto signature checks, fetch, and error objects.
// No token logic lives here (that is the Rust core's); no Node.js built-ins are used.

/**
 * Every error the package throws or rejects with: a real Error with the core's stable `code`, its
 * `category`, whether retrying may help (`retryable`), the status a protected resource answers
 * with (`httpStatus`), and for `insufficient_scope` the `missingScopes`. The subclasses are the
 * core's class tree (the same names in every authsec language); which class a code raises is the
 * core's decision.
 */
export class AuthsecError extends Error {
  constructor(message, details = {}) {
    super(message);
    this.code = details.code ?? 'internal_error';
    this.category = details.category ?? 'internal';
    this.retryable = details.retryable ?? false;
    if (details.httpStatus !== undefined) this.httpStatus = details.httpStatus;
    if (details.missingScopes && details.missingScopes.length) this.missingScopes = Array.from(details.missingScopes);
  }
}
export class ConfigError extends AuthsecError {}
export class TokenRequestError extends AuthsecError {}
export class InvalidClientError extends TokenRequestError {}
export class InvalidScopeError extends TokenRequestError {}
export class UnavailableError extends AuthsecError {}
export class NetworkError extends UnavailableError {}
export class TimeoutError extends NetworkError {}
export class ServerError extends UnavailableError {}
export class RateLimitedError extends UnavailableError {}
export class InvalidTokenError extends AuthsecError {}
export class TokenExpiredError extends InvalidTokenError {}
export class DelegationError extends InvalidTokenError {}
export class InsufficientScopeError extends AuthsecError {}
export class InternalError extends AuthsecError {}
export class ManagementError extends AuthsecError {}

/** The classes by name (a test holds this tree equal to the core's). */
export const ERROR_CLASSES = {
  AuthsecError, ConfigError, TokenRequestError, InvalidClientError, InvalidScopeError, UnavailableError,
  NetworkError, TimeoutError, ServerError, RateLimitedError, InvalidTokenError, TokenExpiredError,
  DelegationError, InsufficientScopeError, InternalError, ManagementError,
};
for (const [name, C] of Object.entries(ERROR_CLASSES)) {
  Object.defineProperty(C.prototype, 'name', { value: name, writable: true, configurable: true, enumerable: false });
}

// The core's code list (errorCodes(): class, category, retryable, httpStatus per code), handed
// over by manual.js when the module is loaded.
let codes = null;
export function setErrorCodes(list) {
  codes = new Map(list.map((c) => [c.code, c]));
}

/** The error the core raises for `code`: its class, category, retryable flag and resource status. */
export function makeError(code, message, missingScopes) {
  const c = codes?.get(code);
  const C = c && Object.hasOwn(ERROR_CLASSES, c.class) ? ERROR_CLASSES[c.class] : AuthsecError;
  return new C(message, {
    code,
    category: c?.category,
    retryable: c?.retryable,
    httpStatus: c?.httpStatus,
    missingScopes: missingScopes && Array.from(missingScopes),
  });
}

// An undelegated token's chain: one frozen empty array, its descriptors made once.
const UNDELEGATED = { delegation: { value: Object.freeze([]) }, actor: { value: null } };

/** The verified claims (a fresh plain object) with the chain the core read from `act`: `delegation`,
 * frozen `{ sub, clientId, iss, id }` actors (current actor first; members the token lacks are
 * undefined), and `actor`, the first of them or null. Not enumerable, so spreads and
 * `JSON.stringify` give exactly the token's payload (with its raw `act`). */
export function withDelegation(claims, chain) {
  if (chain.length === 0) {
    // Most tokens (a cache hit is ~4 µs; this halves what the chain adds to it).
    Object.defineProperty(claims, 'delegation', UNDELEGATED.delegation);
    Object.defineProperty(claims, 'actor', UNDELEGATED.actor);
    return claims;
  }
  const actors = Object.freeze(
    chain.map((a) => Object.freeze({ sub: a.sub, clientId: a.clientId, iss: a.iss, id: a.id })),
  );
  Object.defineProperties(claims, {
    delegation: { value: actors },
    actor: { value: actors[0] },
  });
  return claims;
}

// alg -> [importKey algorithm, verify algorithm]
const ALGS = {
  RS256: [{ name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, { name: 'RSASSA-PKCS1-v1_5' }],
  RS384: [{ name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-384' }, { name: 'RSASSA-PKCS1-v1_5' }],
  RS512: [{ name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-512' }, { name: 'RSASSA-PKCS1-v1_5' }],
  PS256: [{ name: 'RSA-PSS', hash: 'SHA-256' }, { name: 'RSA-PSS', saltLength: 32 }],
  PS384: [{ name: 'RSA-PSS', hash: 'SHA-384' }, { name: 'RSA-PSS', saltLength: 48 }],
  PS512: [{ name: 'RSA-PSS', hash: 'SHA-512' }, { name: 'RSA-PSS', saltLength: 64 }],
  ES256: [{ name: 'ECDSA', namedCurve: 'P-256' }, { name: 'ECDSA', hash: 'SHA-256' }],
  ES384: [{ name: 'ECDSA', namedCurve: 'P-384' }, { name: 'ECDSA', hash: 'SHA-384' }],
  EdDSA: [{ name: 'Ed25519' }, { name: 'Ed25519' }],
};

// Imported CryptoKeys by alg + canonical JWK (bounded); algorithms this runtime lacks.
const keys = new Map();
const MAX_KEYS = 256;
const unsupported = new Set();

/** Test hook: pretend WebCrypto lacks these algorithms (exercises the Rust fallback). */
export function _setUnsupported(algs) {
  unsupported.clear();
  for (const a of algs) unsupported.add(a);
  keys.clear();
}

function subtle() {
  return globalThis.crypto && globalThis.crypto.subtle;
}

export async function webcryptoVerify(alg, jwk, message, signature) {
  // The views point into wasm memory: copy before the first await.
  const m = message.slice();
  const s = signature.slice();
  const params = ALGS[alg];
  const api = subtle();
  if (!params || !api || unsupported.has(alg)) return null;
  const id = alg + jwk;
  let key = keys.get(id);
  if (!key) {
    try {
      key = await api.importKey('jwk', JSON.parse(jwk), params[0], false, ['verify']);
    } catch (e) {
      // Only "this runtime has no such algorithm" turns the check over to the Rust fallback;
      // bad key data and other failures are errors.
      if (e && e.name === 'NotSupportedError') {
        unsupported.add(alg);
        return null;
      }
      // Key data WebCrypto refuses (an EC point off its curve): the key is passed over, as the
      // native builds skip it when they read the JWKS.
      if ((e && e.name === 'DataError') || params[0].name === 'ECDSA') return 'unusable';
      throw e;
    }
    if (keys.size >= MAX_KEYS) keys.delete(keys.keys().next().value);
    keys.set(id, key);
  }
  try {
    return await api.verify(params[1], key, s, m);
  } catch (e) {
    // Some runtimes (Deno) import an EC point off its curve unchecked and refuse it only here.
    if (params[0].name === 'ECDSA') return 'unusable';
    throw e;
  }
}

// The Ed25519 fallback: a separate wasm module (ed25519-fallback/), loaded the first time a
// runtime without WebCrypto Ed25519 needs it. manual.js registers how to get its bytes.
let loadFallback = null;
let fallback = null;

/** Register how to get the fallback module's source (a WebAssembly.Module, bytes or a URL). */
export function setEd25519FallbackSource(load) {
  loadFallback = load;
  fallback = null;
}

async function fallbackInstance() {
  if (!fallback) {
    fallback = (async () => {
      if (!loadFallback) throw new Error('no source registered for the Ed25519 fallback module');
      let source = await loadFallback();
      if (source instanceof URL || typeof source === 'string') source = await (await fetch(source)).arrayBuffer();
      // A Module instantiates to an Instance; bytes to { module, instance }.
      const r = await WebAssembly.instantiate(source, {});
      return (r.instance ?? r).exports;
    })();
    fallback.catch(() => {
      fallback = null;
    });
  }
  return fallback;
}

export async function fallbackEd25519(publicKey, message, signature) {
  // The views point into the main module's memory: copy before the first await.
  const k = publicKey.slice();
  const m = message.slice();
  const s = signature.slice();
  const f = await fallbackInstance();
  const p = f.alloc(m.length);
  if (!p) return false;
  const buf = new Uint8Array(f.memory.buffer, p, 96 + m.length);
  buf.set(k, 0);
  buf.set(s, 32);
  buf.set(m, 96);
  const r = f.verify(p, m.length);
  if (r < 0) throw new Error('the Ed25519 fallback refused the call');
  return r === 1;
}

const MAX_BODY = 1024 * 1024;

export async function httpGet(url, headers) {
  // Redirects are never followed (as natively). Not `redirect: 'error'`: Cloudflare Workers reject
  // that value outright. With 'manual', Node, Deno and Workers hand back the 3xx itself (the core
  // refuses any status but 200, as it does natively); browsers hand back an opaque redirect.
  const init = { method: 'GET', headers: new Headers(headers), redirect: 'manual' };
  if (typeof AbortSignal !== 'undefined' && AbortSignal.timeout) init.signal = AbortSignal.timeout(30000);
  const res = await fetch(url, init);
  if (res.type === 'opaqueredirect') throw new Error('the server answered with a redirect, which is not followed');
  const len = Number(res.headers.get('content-length') || 0);
  if (len > MAX_BODY) throw new Error(`the response is ${len} bytes; the limit is ${MAX_BODY}`);
  const body = new Uint8Array(await res.arrayBuffer());
  if (body.length > MAX_BODY) throw new Error(`the response is over ${MAX_BODY} bytes`);
  const h = [];
  res.headers.forEach((v, k) => h.push([k, v]));
  return { status: res.status, headers: h, body };
}
