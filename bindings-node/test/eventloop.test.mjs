// The event loop keeps turning while tokens are fetched and first-sight tokens are verified with
// `offThread: true`: signature checks and HTTP run off the JavaScript thread. (By default a
// first-sight token whose keys are at hand is checked on the calling thread, as fast-jwt and
// jsonwebtoken do: a signature check costs less than the hop.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { verify as cryptoVerify, createPublicKey } from 'node:crypto';
import { ClientCredentials, Verifier } from '../index.mjs';
import { requestCount } from '../testing.mjs';
import { SECRET, localServer, keyPair, signJwt } from './helpers.mjs';

const N = 2000;
let server;
before(async () => {
  server = await localServer();
});
after(() => server.close());

/** The JS thread's cost of one ES256 signature check (node:crypto, synchronous). */
function signatureCost(tokens, jwk) {
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  const t0 = performance.now();
  for (const t of tokens) {
    const [h, p, s] = t.split('.');
    cryptoVerify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'));
  }
  return (performance.now() - t0) / tokens.length;
}

test('event-loop lag while tokens are fetched and verified (offThread)', async () => {
  const k = keyPair('ec', 'lag-1');
  const now = Math.floor(Date.now() / 1000);
  const tokens = Array.from({ length: N }, (_, i) =>
    signJwt('ES256', k.privateKey, 'lag-1', { iss: 'https://issuer.test', aud: 'api', exp: now + 600, iat: now, sub: 's', jti: `j${i}` }),
  );
  const perSignature = signatureCost(tokens.slice(0, 300), k.jwk);
  const verifier = new Verifier({ issuer: 'https://issuer.test', audience: 'api', jwks: { keys: [k.jwk] }, offThread: true });
  const client = new ClientCredentials({ tokenUrl: server.tokenEndpoint, clientId: 'agent', clientSecret: SECRET });

  let maxGap = 0;
  let ticks = 0;
  let last = performance.now();
  const ticker = setInterval(() => {
    const t = performance.now();
    maxGap = Math.max(maxGap, t - last);
    last = t;
    ticks++;
  }, 1);
  try {
    await new Promise((r) => setTimeout(r, 20));
    last = performance.now();
    maxGap = 0;
    ticks = 0;
    const t0 = performance.now();
    // 50 token requests one after another, and N first-sight verifications with 16 in flight
    // (a busy resource server). Were the signature checks done on this thread, each chain of
    // already-settled promises would run without yielding: one stall of about N × perSignature.
    const fetching = (async () => {
      for (let i = 0; i < 50; i++) {
        client.invalidate();
        await client.getToken();
      }
    })();
    let next = 0;
    const claims = [];
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < N) {
          const i = next++;
          claims[i] = await verifier.verify(tokens[i]);
        }
      }),
    );
    await fetching;
    const total = performance.now() - t0;

    assert.equal(claims.length, N);
    assert.equal(claims[N - 1].jti, `j${N - 1}`);
    assert.equal(requestCount(client), 50);
    const stall = N * perSignature;
    const info = `max timer gap ${maxGap.toFixed(1)} ms, ${ticks} ticks in ${total.toFixed(0)} ms; the signature checks alone would stall the loop ${stall.toFixed(0)} ms (${(perSignature * 1000).toFixed(0)} µs each)`;
    console.log(`event loop: ${info}`);
    assert.ok(maxGap < stall / 3, info);
    assert.ok(ticks >= total / 20, info);
  } finally {
    clearInterval(ticker);
  }
});

test('starting a burst of first-sight verifications costs the JS thread little (offThread)', async () => {
  const k = keyPair('ec', 'burst-1');
  const now = Math.floor(Date.now() / 1000);
  const tokens = Array.from({ length: 1000 }, (_, i) =>
    signJwt('ES256', k.privateKey, 'burst-1', { iss: 'https://i', aud: 'api', exp: now + 600, sub: 's', jti: `b${i}` }),
  );
  const perSignature = signatureCost(tokens.slice(0, 200), k.jwk);
  const verifier = new Verifier({ issuer: 'https://i', audience: 'api', jwks: { keys: [k.jwk] }, offThread: true });
  const t0 = performance.now();
  const all = tokens.map((t) => verifier.verify(t));
  const issued = performance.now() - t0;
  await Promise.all(all);
  const info = `${((issued / tokens.length) * 1000).toFixed(1)} µs per call (wall clock, worker threads busy meanwhile), ${(perSignature * 1000).toFixed(0)} µs per signature check`;
  console.log(`burst: ${info}`);
  assert.ok(issued < tokens.length * perSignature, info);
});

test('a cache hit answers without a thread hop', async () => {
  const k = keyPair('ed25519', 'hit-1');
  const now = Math.floor(Date.now() / 1000);
  const token = signJwt('EdDSA', k.privateKey, 'hit-1', { iss: 'https://i', aud: 'api', exp: now + 600, sub: 's' });
  const verifier = new Verifier({ issuer: 'https://i', audience: 'api', jwks: { keys: [k.jwk] } });
  const first = await verifier.verify(token);
  // Resolved within the same macrotask: no I/O or thread round trip is involved.
  let settled = false;
  const p = verifier.verify(token).then((c) => {
    settled = true;
    return c;
  });
  await Promise.resolve();
  await Promise.resolve();
  assert.ok(settled);
  assert.equal(await p, first);
  assert.ok(Object.isFrozen(first));
});
