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
 * variable `envVar`, then `native/<binary>.<platform>.node`, then the package `<pkg>-<platform>`.
 */
function loadNative(binary, envVar, pkg, what) {
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
  try {
    return require(`${pkg}-${name}`);
  } catch (e) {
    if (e.code !== 'MODULE_NOT_FOUND') errors.push(`${pkg}-${name}: ${e.message}`);
  }
  const detail = errors.length ? `\n${errors.join('\n')}` : '';
  throw new Error(
    `${what}: no native module ${binary} for ${name}. In a checkout, run \`npm ci\` (or \`npm run build\`) ` +
      `in bindings-node with a Rust toolchain installed; otherwise install the prebuilt package ${pkg}-${name}.${detail}`,
  );
}

let testingNative = null;
/** The testing addon (local server, fake Workload API), loaded on first use: never by the main entry. */
function loadTesting() {
  testingNative ??= loadNative('authsec-testing', 'AUTHSEC_NODE_TESTING_NATIVE', '@authsec/sdk-testing', '@authsec/sdk/testing');
  return testingNative;
}

module.exports = { loadNative, loadTesting, platformName };
