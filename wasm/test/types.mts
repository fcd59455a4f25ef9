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
