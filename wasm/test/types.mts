// Type-checked by test.sh (tsc --noEmit): the declarations match how the package is used.
import { Verifier, AuthsecError, decode, challenge, requireScopes, bearerToken, workersKvStore, type Claims } from '../index.js';

const kv = new Map<string, string>();
const v = new Verifier({
  issuer: 'https://auth.example',
  audience: ['https://api.example'],
  jwksUri: 'https://auth.example/jwks',
  algorithms: ['ES256', 'EdDSA'],
  leeway: 5,
  jwksCache: { get: (k) => kv.get(k), set: (k, val) => void kv.set(k, val) },
});
export async function handle(authorization: string | null): Promise<number> {
  const token = bearerToken(authorization);
  if (!token) return challenge(null, { realm: 'api' }).status;
  try {
    const claims: Claims = await v.verify(token, { requiredScopes: ['read:data'] });
    requireScopes(claims, 'read:data');
    const sub: string | undefined = claims.sub;
    return sub ? 200 : 200;
  } catch (e) {
    if (e instanceof AuthsecError) return challenge(e, { requiredScopes: 'read:data' }).status;
    throw e;
  }
}
const { header } = decode('a.b.c');
export const alg = header.alg;

// A Workers KV namespace (only the methods workersKvStore needs) as the JWKS store.
declare const JWKS_KV: { get(key: string): Promise<string | null>; put(key: string, value: string, options: { expirationTtl: number }): Promise<void> };
export const edge = new Verifier({ issuer: 'https://auth.example', audience: 'api', jwksUri: 'https://auth.example/jwks', jwksCache: workersKvStore(JWKS_KV) });

// Delegation (RFC 8693 act): the options, the callback form, the chain on the claims, the class.
import { DelegationError, InvalidTokenError, type Actor, type AllowActor, type VerifierOptions } from '../index.js';
const allow: AllowActor = (actor: Actor) => actor.id === 'tool' && actor.iss === undefined;
const delegated: VerifierOptions = { issuer: 'https://auth.example', jwksUri: 'https://auth.example/jwks', forbidDelegation: false, maxDelegationDepth: 2, allowedActors: ['tool'] };
export const byCallback = new Verifier({ ...delegated, allowedActors: allow });
export const byAsyncCallback = new Verifier({ ...delegated, allowedActors: async (a) => a.clientId !== undefined });
export async function chain(token: string): Promise<string[]> {
  try {
    const claims = await byCallback.verify(token);
    const current: Actor | null = claims.actor;
    const subs: (string | undefined)[] = claims.delegation.map((a) => a.sub);
    return current ? [current.id, ...subs.filter((s): s is string => s !== undefined)] : [];
  } catch (e) {
    if (e instanceof DelegationError) {
      const parent: InvalidTokenError = e;
      return [parent.code];
    }
    throw e;
  }
}

// @authsec/wasm/requests: RequestVerifier over a fetch Request (DPoP, certificate-bound tokens).
import * as requests from '../requests.js';
const rv = new requests.RequestVerifier(new requests.Verifier({ issuer: 'https://auth.example', audience: 'https://api.example', jwksUri: 'https://auth.example/jwks' }), {
  dpop: 'allowed',
  dpopNonce: true,
  publicUrl: 'https://api.example',
  trustedProxies: ['10.0.0.0/8'],
  clientCertHeader: 'x-forwarded-client-cert',
});
export async function handleRequest(request: Request): Promise<Response> {
  const outcome: requests.RequestOutcome = await rv.verify(request, { requiredScopes: 'read:data' });
  if (!outcome.accepted) {
    const code: string | undefined = outcome.error?.code;
    return new Response(code ?? null, { status: outcome.status, headers: outcome.headers });
  }
  const jkt: string | null = outcome.jkt;
  const sub: unknown = outcome.claims.sub;
  return new Response(JSON.stringify({ sub, jkt }), { headers: outcome.headers });
}
