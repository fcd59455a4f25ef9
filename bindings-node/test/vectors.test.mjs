// The shared test vectors (tests/vectors/*.json, format in tests/vectors/README.md): every case
// through the public Verifier, first sight (off the main thread) and again from the cache; the
// whole-request cases of dpop_requests.json through the public RequestVerifier; the JWT-SVID cases
// of jwt_svid.json through the public JwtSvidVerifier (async and sync). With
// AUTHSEC_CONFORMANCE_OUT=<dir> the first-sight outcomes also go to <dir>/node.json for the
// cross-language comparison (tests/conformance/README.md).
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Verifier, RequestVerifier, JwtSvidVerifier, AuthsecError, ERROR_CODES } from '../index.mjs';
import { ManualClock } from '../testing.mjs';
import { packageVersion, writeOutcomes } from '../../tests/conformance/outcomes.mjs';

const dir = fileURLToPath(new URL('../../tests/vectors/', import.meta.url));
const files = readdirSync(dir)
  .filter((f) => f.startsWith('verify_') && f.endsWith('.json'))
  .sort();

function options(o, jwks) {
  const out = { jwks, clock: new ManualClock(o.now * 1000) };
  if (o.issuer !== undefined) out.issuer = o.issuer;
  if (o.audience !== undefined) out.audience = o.audience;
  if (o.audience_match !== undefined) out.audienceMatch = o.audience_match;
  if (o.skip_issuer_check !== undefined) out.skipIssuerCheck = o.skip_issuer_check;
  if (o.skip_audience_check !== undefined) out.skipAudienceCheck = o.skip_audience_check;
  if (o.algorithms !== undefined) out.algorithms = o.algorithms;
  if (o.leeway !== undefined) out.leeway = o.leeway;
  if (o.typ !== undefined) out.typ = o.typ;
  if (o.max_token_bytes !== undefined) out.maxTokenBytes = o.max_token_bytes;
  if (o.required_claims !== undefined) out.requiredClaims = o.required_claims;
  if (o.forbid_delegation !== undefined) out.forbidDelegation = o.forbid_delegation;
  if (o.max_delegation_depth !== undefined) out.maxDelegationDepth = o.max_delegation_depth;
  if (o.allowed_actors !== undefined) out.allowedActors = o.allowed_actors;
  return out;
}

/** An actor as the vectors write it: snake_case keys, absent members left out. */
function link(actor) {
  const out = {};
  for (const [k, v] of [['sub', actor.sub], ['client_id', actor.clientId], ['iss', actor.iss]]) {
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** `{claims, delegation}` or `{error, missing_scopes}`, as the vectors write outcomes. */
async function outcome(run) {
  try {
    const claims = await run();
    // The chain is the claims' `delegation` (current actor first); `actor` is its first link.
    assert.equal(claims.actor, claims.delegation[0] ?? null);
    return { claims: { ...claims }, delegation: claims.delegation.map(link) };
  } catch (e) {
    if (!(e instanceof AuthsecError)) throw e;
    assert.ok(ERROR_CODES.includes(e.code), `${e.code} is not a stable code`);
    return { error: e.code, missing_scopes: e.missingScopes ? [...e.missingScopes] : [] };
  }
}

function matches(expect, got) {
  if (expect.claims !== undefined) {
    assert.deepEqual(got.claims, expect.claims);
    assert.ok(Array.isArray(got.delegation), `no delegation chain in ${JSON.stringify(got)}`);
    if (expect.delegation !== undefined) assert.deepEqual(got.delegation, expect.delegation);
  } else {
    assert.equal(got.error, expect.error, `want ${expect.error}, got ${JSON.stringify(got)}`);
    if (expect.missing_scopes !== undefined) assert.deepEqual(got.missing_scopes, expect.missing_scopes);
  }
}

let passed = 0;
let failed = 0;
const outcomes = {};

/** A refused or accepted request, shaped as dpop_requests.json writes `expect`. */
function requestOutcome(r) {
  const hasNonce = r.headers.some(([k]) => k.toLowerCase() === 'dpop-nonce');
  if (r.ok) return { accepted: true, scheme: r.scheme, jkt: r.dpopThumbprint, certificate: r.certificateThumbprint, dpop_nonce: hasNonce };
  const challenges = r.headers.filter(([k]) => k.toLowerCase() === 'www-authenticate').map(([, v]) => v);
  const scheme = (c) => c.split(' ')[0];
  const withError = challenges.find((c) => c.includes('error="'));
  assert.ok(r.error === null || ERROR_CODES.includes(r.error.code), `${r.error?.code} is not a stable code`);
  return {
    accepted: false,
    status: r.status,
    error: r.error?.code ?? null,
    challenges: challenges.map(scheme),
    error_scheme: withError === undefined ? null : scheme(withError),
    dpop_nonce: hasNonce,
  };
}

/** A dpop_requests.json case: its requests in order through one RequestVerifier, the clock at each `now`. */
async function requestCase(doc, c) {
  const clock = new ManualClock(0);
  const verifier = new Verifier({ ...c.verifier, jwks: doc.jwks[c.jwks], clock });
  const rv = new RequestVerifier(verifier, c.policy);
  const scopes = { requiredScopes: c.required_scopes?.all_of ?? null, anyScopes: c.required_scopes?.any_of ?? null };
  const got = [];
  for (const r of c.requests) {
    clock.set(r.now * 1000);
    const parts = {
      method: r.method,
      target: r.target,
      scheme: r.scheme,
      headers: r.headers,
      peer: r.peer,
      clientCertificate: r.client_certificate === undefined ? undefined : Buffer.from(r.client_certificate, 'base64'),
    };
    got.push(requestOutcome(await rv.verify(parts, scopes)));
  }
  return { requests: got };
}

const requestFile = 'dpop_requests.json';
if (readdirSync(dir).includes(requestFile)) {
  const doc = JSON.parse(readFileSync(join(dir, requestFile), 'utf8'));
  describe(requestFile, () => {
    assert.equal(doc.version, 1);
    for (const c of doc.cases) {
      test(c.name, async () => {
        try {
          const got = await requestCase(doc, c);
          outcomes[`${requestFile}#${c.name}`] = got;
          assert.deepEqual(got.requests, c.requests.map((r) => r.expect));
          passed++;
        } catch (e) {
          failed++;
          throw e;
        }
      });
    }
  });
}

/** `{svid: {spiffe_id, audience, expires_at}}` or `{error}`, as jwt_svid.json writes outcomes. */
async function svidOutcome(run) {
  try {
    const s = await run();
    return { svid: { spiffe_id: s.spiffeId, audience: [...s.audience], expires_at: s.expiresAt } };
  } catch (e) {
    if (!(e instanceof AuthsecError)) throw e;
    assert.ok(ERROR_CODES.includes(e.code), `${e.code} is not a stable code`);
    return { error: e.code };
  }
}

const svidFile = 'jwt_svid.json';
if (readdirSync(dir).includes(svidFile)) {
  const doc = JSON.parse(readFileSync(join(dir, svidFile), 'utf8'));
  describe(svidFile, () => {
    assert.equal(doc.version, 1);
    for (const c of doc.cases) {
      test(c.name, async () => {
        try {
          // The case's options (snake_case, as the core reads them) without `now`, the named
          // bundle set as `trust_domains`, and the test clock at `now`.
          const { now, ...opts } = c.options;
          const trustDomains = Object.fromEntries(Object.entries(doc.bundles[c.bundles]).map(([td, b]) => [td, { bundle: b }]));
          let verifier;
          const built = await svidOutcome(async () => {
            verifier = await JwtSvidVerifier.create({ ...opts, trust_domains: trustDomains, clock: new ManualClock(now * 1000) });
            return { spiffeId: null, audience: [], expiresAt: null };
          });
          const got = built.error !== undefined ? built : await svidOutcome(() => verifier.verify(c.token));
          outcomes[`${svidFile}#${c.name}`] = got;
          assert.deepEqual(got, c.expect);
          // The bundles are at hand: verifySync agrees.
          if (built.error === undefined) assert.deepEqual(await svidOutcome(async () => verifier.verifySync(c.token)), got);
          passed++;
        } catch (e) {
          failed++;
          throw e;
        }
      });
    }
  });
}

for (const file of files) {
  const doc = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  describe(file, () => {
    assert.equal(doc.version, 1);
    for (const c of doc.cases) {
      test(c.name, async () => {
        try {
          const jwks = typeof c.jwks === 'string' ? doc.jwks[c.jwks] : c.jwks;
          const scopes = c.required_scopes
            ? { requiredScopes: c.required_scopes.all_of ?? null, anyScopes: c.required_scopes.any_of ?? null }
            : undefined;
          let verifier;
          const built = await outcome(() => {
            verifier = new Verifier(options(c.options, jwks));
            return { delegation: [], actor: null };
          });
          if (built.error !== undefined) {
            outcomes[`${file}#${c.name}`] = built;
            matches(c.expect, built);
          } else {
            const first = await outcome(() => verifier.verify(c.token, scopes));
            outcomes[`${file}#${c.name}`] = first;
            matches(c.expect, first);
            // Again: a verified token now answers from the cache (on the JS thread); same outcome.
            const again = await outcome(() => verifier.verify(c.token, scopes));
            assert.deepEqual(again, first);
          }
          passed++;
        } catch (e) {
          failed++;
          throw e;
        }
      });
    }
  });
}

after(() => {
  console.log(`vectors: ${passed} passed, ${failed} failed`);
  writeOutcomes('node', packageVersion(new URL('../package.json', import.meta.url)), outcomes);
});
