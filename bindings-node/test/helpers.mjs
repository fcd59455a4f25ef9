// Shared test helpers: a local authorization server per suite, keys, and small utilities.
import { generateKeyPairSync, createSign, sign as cryptoSign } from 'node:crypto';
import http from 'node:http';
import { startLocalServer } from '../testing.mjs';

export const SECRET = 'zq-S3cret-Value-7f3a9c1e';
export const AUDIENCE = 'https://api.example';
/** The `algs` of a resource's `DPoP` challenge by default (every asymmetric algorithm the core knows). */
export const DPOP_ALGS = 'RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 EdDSA';

/** A local server with the usual clients; the caller closes it. */
export async function localServer(extra = {}) {
  const { clients = [], ...rest } = extra;
  return startLocalServer({
    clients: [
      {
        client_id: 'agent',
        client_secret: SECRET,
        allowed_scopes: ['read:data', 'write:logs', 'admin'],
        default_scopes: ['read:data'],
        audiences: [AUDIENCE, 'https://other.example'],
      },
      ...clients,
    ],
    ...rest,
  });
}

/** A private key (PKCS#8 PEM) and its public JWK with `kid`. */
export function keyPair(kind, kid) {
  const opts =
    kind === 'ec'
      ? ['ec', { namedCurve: 'P-256' }]
      : kind === 'ed25519'
        ? ['ed25519', {}]
        : ['rsa', { modulusLength: 2048 }];
  const { privateKey, publicKey } = generateKeyPairSync(...opts);
  return {
    privateKey,
    pem: privateKey.export({ format: 'pem', type: 'pkcs8' }),
    jwk: { ...publicKey.export({ format: 'jwk' }), kid, use: 'sig' },
  };
}

const b64url = (b) => Buffer.from(b).toString('base64url');

/** Sign a JWT with node:crypto (ES256, RS256 or EdDSA). */
export function signJwt(alg, key, kid, claims) {
  const header = b64url(JSON.stringify({ alg, kid, typ: 'at+jwt' }));
  const payload = b64url(JSON.stringify(claims));
  const input = `${header}.${payload}`;
  let sig;
  if (alg === 'ES256') sig = cryptoSign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  else if (alg === 'EdDSA') sig = cryptoSign(null, Buffer.from(input), key);
  else sig = createSign('RSA-SHA256').update(input).sign(key);
  return `${input}.${b64url(sig)}`;
}

/** Listen on 127.0.0.1 with an ephemeral port; resolves to { url, close }. */
export async function listen(handler) {
  const server = http.createServer(handler);
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/** fetch with a timeout (tests never hang). */
export function get(url, init = {}) {
  return fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
}
