// SPIFFE in @authsec/wasm beyond the shared vectors: a JWT-SVID signed here with WebCrypto verifies
// against its bundle, the verifier refuses what it must, and spiffeIdMatches follows the core.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as pkg from '../index.js';

const b64url = (bytes) => Buffer.from(bytes).toString('base64url');

async function authority(kid) {
  const { privateKey, publicKey } = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const jwk = await crypto.subtle.exportKey('jwk', publicKey);
  const sign = async (claims) => {
    const h = b64url(JSON.stringify({ alg: 'ES256', kid, typ: 'JWT' }));
    const p = b64url(JSON.stringify(claims));
    const sig = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, privateKey, new TextEncoder().encode(`${h}.${p}`));
    return `${h}.${p}.${b64url(new Uint8Array(sig))}`;
  };
  // As the Workload API serves it: no `use`.
  return { sign, jwk: { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, kid } };
}

test('a JWT-SVID verifies against its trust bundle; other domains, audiences and IDs are refused', async () => {
  const a = await authority('k1');
  const now = Math.floor(Date.now() / 1000);
  const id = 'spiffe://example.org/agents/ml-training';
  const verifier = new pkg.JwtSvidVerifier({
    audience: 'https://api.example',
    trustDomains: { 'example.org': { bundle: JSON.stringify({ keys: [a.jwk] }) } },
    allowedIds: ['spiffe://example.org/agents/*'],
  });
  const svid = await verifier.verify(await a.sign({ sub: id, aud: ['https://api.example'], exp: now + 300, iat: now }));
  assert.equal(svid.spiffeId, id);
  assert.equal(svid.trustDomain, 'example.org');
  assert.deepEqual(svid.audience, ['https://api.example']);
  assert.equal(svid.kid, 'k1');
  const code = (p) => p.then(() => 'accepted', (e) => e.code);
  assert.equal(await code(verifier.verify(await a.sign({ sub: 'spiffe://other.test/a', aud: 'https://api.example', exp: now + 300 }))), 'unknown_trust_domain');
  assert.equal(await code(verifier.verify(await a.sign({ sub: id, aud: 'https://elsewhere', exp: now + 300 }))), 'invalid_audience');
  assert.equal(await code(verifier.verify(await a.sign({ sub: 'spiffe://example.org/billing', aud: 'https://api.example', exp: now + 300 }))), 'spiffe_id_not_allowed');
  const forger = await authority('k1');
  assert.equal(await code(verifier.verify(await forger.sign({ sub: id, aud: 'https://api.example', exp: now + 300 }))), 'invalid_signature');
  verifier.free();
  assert.throws(() => new pkg.JwtSvidVerifier({ audience: 'x', trustDomains: { 'example.org': { bundleEndpoint: 'https://b.example' } } }), (e) => e.code === 'config_error');
  assert.throws(() => new pkg.JwtSvidVerifier({ audience: 'x', workloadApi: true }), (e) => e.code === 'config_error');
});

test('spiffeIdMatches: exact, trust domain, path prefix; bad patterns throw', () => {
  const id = 'spiffe://example.org/agents/ml-training';
  assert.equal(pkg.spiffeIdMatches(id, ['spiffe://example.org/agents/*']), true);
  assert.equal(pkg.spiffeIdMatches(id, ['spiffe://example.org']), true);
  assert.equal(pkg.spiffeIdMatches(id, [id]), true);
  assert.equal(pkg.spiffeIdMatches(id, ['spiffe://example.org/agents/ml']), false);
  assert.equal(pkg.spiffeIdMatches('not an id', ['spiffe://example.org']), false);
  assert.throws(() => pkg.spiffeIdMatches(id, ['example.org']), (e) => e.code === 'config_error');
});
