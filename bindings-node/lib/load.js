'use strict';
// Loads a private native module (napi-rs) of the package: a binary built in this checkout
// (native/), or a prebuilt per-platform package. Not part of the public API.

const { existsSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

function isMusl() {
  if (process.platform !== 'linux') return false;
  try {
    return readFileSync('/usr/bin/ldd', 'latin1').includes('musl');
  } catch {
    const report = typeof process.report?.getReport === 'function' ? process.report.getReport() : null;
    return !report?.header?.glibcVersionRuntime;
  }
}

/** The napi-rs platform name, e.g. `linux-x64-gnu`, `darwin-arm64`, `win32-x64-msvc`. */
function platformName() {
  const { platform, arch } = process;
  if (platform === 'linux') return `linux-${arch}-${isMusl() ? 'musl' : 'gnu'}`;
  if (platform === 'win32') return `win32-${arch}-msvc`;
  return `${platform}-${arch}`;
}

/**
 * The native module `binary` (`authsec`, `authsec-testing`): the file named by the environment
 * variable `envVar`, then `native/<binary>.<platform>.node` (a checkout), then the prebuilt
 * package `<pkg>-<platform>` (an optional dependency npm installed for this platform), then
 * `<pkg>` itself when it is a loader of its platform packages (`@authsec/sdk-testing`, which a
 * project adds as a dev dependency: its platform packages are its own dependencies, out of reach
 * of a strict node_modules layout such as pnpm's).
 */
function loadNative(binary, envVar, pkg, what, { loaderPackage = false } = {}) {
  const name = platformName();
  const candidates = [];
  if (process.env[envVar]) candidates.push(process.env[envVar]);
  candidates.push(join(__dirname, '..', 'native', `${binary}.${name}.node`));
  const errors = [];
  for (const file of candidates) {
    if (!existsSync(file)) continue;
    try {
      return require(file);
    } catch (e) {
      errors.push(`${file}: ${e.message}`);
    }
  }
  const packages = [[`${pkg}-${name}`, () => require(`${pkg}-${name}`)]];
  if (loaderPackage) packages.push([pkg, () => require(pkg)(name)]);
  for (const [label, load] of packages) {
    try {
      return load();
    } catch (e) {
      if (e.code !== 'MODULE_NOT_FOUND') errors.push(`${label}: ${e.message}`);
    }
  }
  const detail = errors.length ? `\n${errors.join('\n')}` : '';
  const install = loaderPackage ? `npm install --save-dev ${pkg}` : `npm install ${pkg}`;
  throw new Error(
    `${what}: no native module ${binary} for ${name}. ${install} installs the prebuilt one for ` +
      `linux-x64-gnu, linux-x64-musl and linux-arm64-gnu (its optional dependency ${pkg}-${name}: ` +
      `check that npm did not skip optional dependencies, e.g. --omit=optional or a lock file from ` +
      `another platform). Elsewhere, build it from source: in a checkout, run \`npm ci\` in ` +
      `bindings-node with a Rust toolchain installed (README: Build from source).${detail}`,
  );
}

let testingNative = null;
/** The testing addon (local server, fake Workload API), loaded on first use: never by the main entry. */
function loadTesting() {
  testingNative ??= loadNative('authsec-testing', 'AUTHSEC_NODE_TESTING_NATIVE', '@authsec/sdk-testing', '@authsec/sdk/testing', {
    loaderPackage: true,
  });
  return testingNative;
}

module.exports = { loadNative, loadTesting, platformName };
