// The per-request native calls that bypass napi-rs's wrappers (src/direct.rs): a handle of the
// wrong kind is refused rather than misread, and the token string reaches the core whole, whether
// it is read into the stack buffer or, past 8 KiB, onto the heap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Verifier, InvalidTokenError } from '../index.mjs';
import { keyPair, signJwt } from './helpers.mjs';

const native = createRequire(import.meta.url)('../lib/native.js');
const ISS = 'https://issuer.test';
const k = keyPair('ec', 'direct-1');
const nowS = () => Math.floor(Date.now() / 1000);
const signed = (pad) => signJwt('ES256', k.privateKey, 'direct-1', { iss: ISS, aud: 'api', sub: 's', exp: nowS() + 600, pad });

test('a handle of another kind, or no handle, is refused with an error', () => {
  const v = new native.NativeVerifier({ issuer: ISS, audience: 'api', jwks: { keys: [k.jwk] } }, null);
  const c = new native.NativeClient({ tokenUrl: 'https://as.test/token', clientId: 'c', clientSecret: 's' }, null);
  const t = signed('x');
  assert.equal(native.verifierVerifyNow(v.handle(), t, null, null).sub, 's');
  for (const wrong of [c.handle(), {}, 42, null, undefined, 'handle']) {
    assert.throws(() => native.verifierVerifyNow(wrong, t, null, null), /not a handle of this kind/);
    assert.throws(() => native.verifierVerifyCached(wrong, t, null, null), /not a handle of this kind/);
  }
  for (const wrong of [v.handle(), {}, 42]) {
    assert.throws(() => native.clientTryGetNow(wrong, null), /not a handle of this kind/);
  }
  const rv = new native.NativeRequestVerifier(v, {}, null);
  const request = { method: 'GET', target: '/', scheme: 'https', headers: ['host', 'api.test', 'authorization', `Bearer ${t}`] };
  const outcome = native.requestVerifyNow(rv.handle(), request, null, null);
  assert.equal(outcome.accepted, true);
  assert.equal(outcome.claims.sub, 's');
  for (const wrong of [v.handle(), c.handle(), {}]) {
    assert.throws(() => native.requestVerifyNow(wrong, request, null, null), /not a handle of this kind/);
  }
  assert.equal(native.clientTryGetNow(c.handle(), null), null, 'no token yet: null, no request');
  assert.throws(() => native.verifierVerifyNow(v.handle(), 42, null, null), /the token must be a string/);
});

test('tokens around and past the 8 KiB stack buffer verify, and one more character is never cut off', () => {
  // One key under three kids: the header's length then moves the token's length through every
  // residue (a base64url segment alone skips one length in four).
  const kids = ['d', 'dd', 'ddd'];
  const v = new Verifier({ issuer: ISS, audience: 'api', jwks: { keys: kids.map((kid) => ({ ...k.jwk, kid })) } });
  const sign = (kid, pad) => signJwt('ES256', k.privateKey, kid, { iss: ISS, aud: 'api', sub: 's', exp: nowS() + 600, pad });
  const lengths = new Set();
  for (const kid of kids) {
    for (let pad = 5900; pad < 6200; pad++) {
      const t = sign(kid, 'p'.repeat(pad));
      if (t.length < 8180 || t.length > 8200) continue;
      lengths.add(t.length);
      assert.equal(v.verifySync(t).pad.length, pad);
      // The valid token and one more character (1 to 4 bytes of UTF-8): the core must see it all.
      for (const extra of ['a', 'é', '☕', '😀']) {
        assert.throws(() => v.verifySync(t + extra), InvalidTokenError, `length ${t.length} + ${JSON.stringify(extra)}`);
      }
    }
  }
  for (let n = 8180; n <= 8200; n++) assert.ok(lengths.has(n), `a token of ${n} bytes was tried`);
  // Far past the buffer (the heap path), and past the core's 16 KiB limit.
  assert.equal(v.verifySync(sign('d', 'q'.repeat(9000))).pad.length, 9000);
  assert.throws(() => v.verifySync(sign('d', 'r'.repeat(13000))), (e) => e instanceof InvalidTokenError && e.code === 'token_too_large');
});
