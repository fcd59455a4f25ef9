// The Node.js runner of the conformance check: every vector case through @authsec/sdk's public
// Verifier (bindings-node, addon built by `npm install` there), clock fixed at the case's `now`
// with the package's test hook (ManualClock, as bindings-node/test/vectors.test.mjs does).
//   node conformance/node.mjs <out.json>
import { readFileSync } from 'node:fs';
import { Verifier, AuthsecError } from '../bindings-node/index.mjs';
import { ManualClock } from '../bindings-node/testing.mjs';
import { jsOptions, scopeOptions, runAll } from './cases.mjs';

const path = process.argv[2];
if (!path) throw new Error('usage: node conformance/node.mjs <out.json>');
const { version } = JSON.parse(readFileSync(new URL('../bindings-node/package.json', import.meta.url), 'utf8'));

await runAll({
  runtime: 'node',
  version: `${version} (node ${process.version})`,
  path,
  AuthsecError,
  verify: (c, jwks) => {
    const v = new Verifier({ ...jsOptions(c.options, jwks), clock: new ManualClock(c.options.now * 1000) });
    return v.verify(c.token, scopeOptions(c));
  },
});
