// The wasm runner of the conformance check: every vector case through @authsec/wasm's public
// Verifier (wasm/dist, built by wasm/build.sh) under Node.js; the constructor's second argument
// `{ nowMs }` fixes the clock at the case's `now`. Signatures are checked by WebCrypto (Ed25519
// too, where Node's WebCrypto has it), as in a browser.
//   node conformance/wasm.mjs <out.json>
import { readFileSync } from 'node:fs';
import { Verifier, AuthsecError } from '../wasm/index.js';
import { jsOptions, scopeOptions, runAll } from './cases.mjs';

const path = process.argv[2];
if (!path) throw new Error('usage: node conformance/wasm.mjs <out.json>');
const { version } = JSON.parse(readFileSync(new URL('../wasm/package.json', import.meta.url), 'utf8'));

await runAll({
  runtime: 'wasm',
  version: `${version} (node ${process.version})`,
  path,
  AuthsecError,
  verify: async (c, jwks) => {
    const v = new Verifier(jsOptions(c.options, jwks), { nowMs: c.options.now * 1000 });
    try {
      return await v.verify(c.token, scopeOptions(c));
    } finally {
      v.free();
    }
  },
});
