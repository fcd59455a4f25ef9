// node --import tests/install/node-installed.mjs: the checkout's test files (bindings-node/test/)
// run against the installed @authsec/sdk (AUTHSEC_INSTALLED_SDK, a node_modules/@authsec/sdk): their
// imports of the package's files (../index.mjs, ../testing.mjs) resolve to the same files there.
import { register } from 'node:module';
import { pathToFileURL } from 'node:url';

const installed = process.env.AUTHSEC_INSTALLED_SDK;
if (!installed) throw new Error('node-installed.mjs: set AUTHSEC_INSTALLED_SDK to the installed package');
register('./node-installed-hooks.mjs', import.meta.url, {
  data: {
    checkout: new URL('../../bindings-node/', import.meta.url).href,
    installed: `${pathToFileURL(installed).href}/`,
  },
});

// The redirect must be in force: the checkout's entry point resolves into the installed package.
const entry = import.meta.resolve('../../bindings-node/index.mjs');
if (!entry.startsWith(`${pathToFileURL(installed).href}/`)) {
  throw new Error(`node-installed.mjs: bindings-node/index.mjs resolved to ${entry}, not into ${installed}`);
}
