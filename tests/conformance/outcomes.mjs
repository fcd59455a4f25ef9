// The JavaScript vector tests' (bindings-node/test/vectors.test.mjs, wasm/test/vectors.test.mjs)
// way of handing their outcomes to the cross-language comparison (README.md here): with
// AUTHSEC_CONFORMANCE_OUT=<dir> set (a relative dir is taken from the repository root),
// `{runtime, version, outcomes}` goes to <dir>/<runtime>.json. Node.js only.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** `<package.json version> (node <version>)` of the package whose package.json is at `url`. */
export function packageVersion(url) {
  return `${JSON.parse(readFileSync(url, 'utf8')).version} (node ${process.version})`;
}

/** Writes `outcomes` ({"<file>#<case>": {claims} | {error, missing_scopes}}) when asked to. */
export function writeOutcomes(runtime, version, outcomes) {
  const out = process.env.AUTHSEC_CONFORMANCE_OUT;
  if (!out) return;
  const dir = resolve(root, out);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${runtime}.json`);
  writeFileSync(path, JSON.stringify({ runtime, version, outcomes }, null, 2) + '\n');
  console.log(`${runtime}: ${Object.keys(outcomes).length} outcomes -> ${path}`);
}
