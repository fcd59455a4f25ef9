// node --import tests/install/node-installed.mjs (or NODE_OPTIONS=--import=...): the checkout's
// test files (bindings-node/test/) run against the installed @authsec/sdk (AUTHSEC_INSTALLED_SDK, a
// node_modules/@authsec/sdk): every module of the checkout's package they load, by a relative path
// (../index.mjs) or by name (@authsec/sdk, @authsec/sdk/testing), is the same file of the installed
// package instead. ESM through a resolve hook (node-installed-hooks.mjs), CommonJS through
// Module._resolveFilename. A package the installed files import that the test project lacks
// (the MCP SDKs, peers a user installs) resolves as from the checkout's node_modules.
import Module, { register } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const installed = process.env.AUTHSEC_INSTALLED_SDK;
if (!installed) throw new Error('node-installed.mjs: set AUTHSEC_INSTALLED_SDK to the installed package');
const checkout = fileURLToPath(new URL('../../bindings-node/', import.meta.url));
const installedDir = `${installed}${sep}`;

register('./node-installed-hooks.mjs', import.meta.url, {
  data: { checkout: pathToFileURL(checkout).href, installed: pathToFileURL(installedDir).href },
});

/** The installed file for a file of the checkout's package (its tests aside), else the file itself. */
function redirect(file) {
  if (!file.startsWith(checkout) || file.startsWith(join(checkout, 'test') + sep) || file.startsWith(join(checkout, 'node_modules') + sep)) {
    return file;
  }
  const target = join(installedDir, file.slice(checkout.length));
  if (!existsSync(target)) throw new Error(`node-installed: ${target} is not in the installed package`);
  return target;
}

const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  let file;
  try {
    file = resolveFilename.call(this, request, parent, ...rest);
  } catch (e) {
    // A package an installed file requires, found where the checkout's copy of it would look.
    if (e.code !== 'MODULE_NOT_FOUND' || !parent?.filename?.startsWith(installedDir)) throw e;
    const twin = join(checkout, parent.filename.slice(installedDir.length));
    const stand = { ...parent, filename: twin, paths: Module._nodeModulePaths(dirname(twin)) };
    file = resolveFilename.call(this, request, stand, ...rest);
  }
  return redirect(file);
};

// The redirect must be in force: the checkout's entry points resolve into the installed package.
const entry = import.meta.resolve('../../bindings-node/index.mjs');
if (!entry.startsWith(pathToFileURL(installedDir).href)) {
  throw new Error(`node-installed.mjs: bindings-node/index.mjs resolved to ${entry}, not into ${installed}`);
}
const required = Module.createRequire(join(checkout, 'test', 'x.cjs')).resolve('@authsec/sdk');
if (!required.startsWith(installedDir)) {
  throw new Error(`node-installed.mjs: require('@authsec/sdk') resolved to ${required}, not into ${installed}`);
}
