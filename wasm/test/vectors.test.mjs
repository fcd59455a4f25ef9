// The shared test vectors (tests/vectors/*.json) through @authsec/wasm under Node: every case
// first sight (WebCrypto) and again from the verified-token cache; and once more with WebCrypto's
// Ed25519 switched off, so the Rust fallback is held to the same outcomes.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Verifier, AuthsecError, errorCodes, decode } from '../index.js';
import { _setUnsupported } from '../js/glue.js';

const dir = fileURLToPath(new URL('../../tests/vectors/', import.meta.url));
const files = readdirSync(dir).filter((f) => f.startsWith('verify_') && f.endsWith('.json')).sort();
const CODES = errorCodes().map((c) => c.code);

export async function outcome(run) {
  try {
    return { claims: { ...(await run()) } };
  } catch (e) {
    if (!(e instanceof AuthsecError)) throw e;
    assert.ok(e instanceof Error, 'errors are real Error objects');
    assert.ok(CODES.includes(e.code), `${e.code} is not a stable code`);
    return { error: e.code, missing_scopes: e.missingScopes ? [...e.missingScopes] : [] };
  }
}

function matches(expect, got) {
  if (expect.claims !== undefined) {
    assert.deepEqual(got, { claims: expect.claims });
  } else {
    assert.equal(got.error, expect.error, `want ${expect.error}, got ${JSON.stringify(got)}`);
    if (expect.missing_scopes !== undefined) assert.deepEqual(got.missing_scopes, expect.missing_scopes);
  }
}

function isEdDSA(token) {
  try {
    return decode(token).header.alg === 'EdDSA';
  } catch {
    return false;
  }
}

let passed = 0;
let total = 0;

async function runCase(doc, c) {
  const jwks = typeof c.jwks === 'string' ? doc.jwks[c.jwks] : c.jwks;
  const { now, ...opts } = c.options;
  const scopes = c.required_scopes
    ? { requiredScopes: c.required_scopes.all_of, anyScopes: c.required_scopes.any_of }
    : undefined;
  let verifier;
  const built = await outcome(() => {
    verifier = new Verifier({ ...opts, jwks }, { nowMs: now * 1000 });
    return {};
  });
  if (built.error !== undefined) return matches(c.expect, built);
  try {
    const first = await outcome(() => verifier.verify(c.token, scopes));
    matches(c.expect, first);
    const again = await outcome(() => verifier.verify(c.token, scopes));
    assert.deepEqual(again, first);
  } finally {
    verifier.free();
  }
}

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
            await runCase(doc, c);
          } finally {
            _setUnsupported([]);
          }
          passed++;
        });
      }
    });
  }
}

after(() => {
  console.log(`wasm vectors: ${passed}/${total} cases passed under Node ${process.version}`);
});
