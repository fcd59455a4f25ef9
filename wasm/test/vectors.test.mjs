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

after(() => {
  console.log(`wasm vectors: ${passed}/${total} cases passed under Node ${process.version}`);
  writeOutcomes('wasm', packageVersion(new URL('../package.json', import.meta.url)), outcomes);
});
