// The shared test vectors (tests/vectors/*.json) through @authsec/wasm under Node: every case
// first sight (WebCrypto) and again from the verified-token cache; and once more with WebCrypto's
// Ed25519 switched off, so the Rust fallback is held to the same outcomes. The cases run through
// the runner every runtime shares (support/vector-runner.mjs), one node:test test each. With
// AUTHSEC_CONFORMANCE_OUT=<dir> the first pass's outcomes (WebCrypto wherever it can) also go to
// <dir>/wasm.json for the cross-language comparison (tests/conformance/README.md).
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import * as pkg from '../index.js';
import * as requests from '../requests.js';
import { _setUnsupported } from '../js/glue.js';
import { caseRunner } from './support/vector-runner.mjs';
import { packageVersion, writeOutcomes } from '../../tests/conformance/outcomes.mjs';

const dir = fileURLToPath(new URL('../../tests/vectors/', import.meta.url));
const files = readdirSync(dir).filter((f) => f.startsWith('verify_') && f.endsWith('.json')).sort();
const { runCase, isEdDSA } = caseRunner(pkg);

let passed = 0;
let total = 0;
const outcomes = {};

for (const fallback of [false, true]) {
  for (const file of files) {
    const doc = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    describe(`${file}${fallback ? ' (Rust Ed25519 fallback)' : ''}`, () => {
      for (const c of doc.cases) {
        if (fallback && !isEdDSA(c.token)) continue;
        test(c.name, async () => {
          total++;
          _setUnsupported(fallback ? ['EdDSA'] : []);
          try {
            const record = fallback ? undefined : (o) => (outcomes[`${file}#${c.name}`] = o);
            assert.equal(await runCase(doc, c, record), null);
          } finally {
            _setUnsupported([]);
          }
          passed++;
        });
      }
    });
  }
}

// dpop_requests.json through @authsec/wasm/requests (the module with RequestVerifier): each case's
// requests through one RequestVerifier (its replay cache lives for the case), the Verifier's
// testing clock moved to each request's `now`.
const dpop = JSON.parse(readFileSync(join(dir, 'dpop_requests.json'), 'utf8'));
describe('dpop_requests.json', () => {
  for (const c of dpop.cases) {
    test(c.name, async () => {
      total++;
      const got = await runRequestCase(dpop, c);
      outcomes[`dpop_requests.json#${c.name}`] = { requests: got };
      assert.deepEqual(got, c.requests.map((r) => r.expect));
      passed++;
    });
  }
});

async function runRequestCase(doc, c) {
  const clock = { nowMs: c.requests[0].now * 1000 };
  const verifier = new requests.Verifier({ ...toCamel(c.verifier), jwks: doc.jwks[c.jwks] }, clock);
  const rv = new requests.RequestVerifier(verifier, c.policy);
  const scopes = c.required_scopes ? { requiredScopes: c.required_scopes.all_of, anyScopes: c.required_scopes.any_of } : undefined;
  const out = [];
  for (const r of c.requests) {
    requests._setNowMs(verifier, r.now * 1000);
    const res = await rv.verify(
      {
        method: r.method,
        target: r.target,
        scheme: r.scheme,
        headers: r.headers,
        peer: r.peer,
        clientCertificate: r.client_certificate === undefined ? undefined : Uint8Array.from(Buffer.from(r.client_certificate, 'base64')),
      },
      scopes,
    );
    const has = (name) => res.headers.some(([k]) => k.toLowerCase() === name);
    if (res.accepted) {
      out.push({ accepted: true, scheme: res.scheme, jkt: res.jkt, certificate: res.certificate, dpop_nonce: has('dpop-nonce') });
    } else {
      const challenges = res.headers.filter(([k]) => k.toLowerCase() === 'www-authenticate').map(([, v]) => v);
      const scheme = (v) => v.split(' ')[0];
      const carrier = challenges.find((v) => v.includes('error="'));
      out.push({
        accepted: false,
        status: res.status,
        error: res.error === null ? null : res.error.code,
        challenges: challenges.map(scheme),
        error_scheme: carrier === undefined ? null : scheme(carrier),
        dpop_nonce: has('dpop-nonce'),
      });
    }
  }
  rv.free();
  verifier.free();
  return out;
}

// jwt_svid.json through JwtSvidVerifier: the case's options (camelCase) plus its bundle set as
// trustDomains, the clock at `now`.
const svids = JSON.parse(readFileSync(join(dir, 'jwt_svid.json'), 'utf8'));
describe('jwt_svid.json', () => {
  for (const c of svids.cases) {
    test(c.name, async () => {
      total++;
      const got = await runSvidCase(svids, c);
      outcomes[`jwt_svid.json#${c.name}`] = got;
      assert.deepEqual(got, c.expect);
      passed++;
    });
  }
});

async function runSvidCase(doc, c) {
  const { now, ...options } = c.options;
  const trustDomains = Object.fromEntries(Object.entries(doc.bundles[c.bundles]).map(([td, bundle]) => [td, { bundle }]));
  let verifier;
  try {
    verifier = new pkg.JwtSvidVerifier({ ...toCamel(options), trustDomains }, { nowMs: now * 1000 });
    const s = await verifier.verify(c.token);
    return { svid: { spiffe_id: s.spiffeId, audience: s.audience, expires_at: s.expiresAt } };
  } catch (e) {
    if (!(e instanceof pkg.AuthsecError)) throw e;
    return { error: e.code };
  } finally {
    verifier?.free();
  }
}

function toCamel(o) {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k.replace(/_([a-z])/g, (_, x) => x.toUpperCase()), v]));
}

after(() => {
  console.log(`wasm vectors: ${passed}/${total} cases passed under Node ${process.version}`);
  writeOutcomes('wasm', packageVersion(new URL('../package.json', import.meta.url)), outcomes);
});
