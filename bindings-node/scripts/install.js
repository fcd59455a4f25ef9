#!/usr/bin/env node
'use strict';
// `npm install` hook: in a checkout (a Cargo.toml next to package.json) build both addons with
// napi-rs: the production one (native/authsec.<platform>.node, the package's main entry) and the
// testing one (native/authsec-testing.<platform>.node: the local server, for
// @authsec/sdk/testing). Cargo is incremental, so a rebuild with nothing changed takes seconds.
// In an installed package, only check that a prebuilt production binary loads.
//   AUTHSEC_NODE_SKIP_BUILD=1   skip the build (use the binary already in native/)
//   AUTHSEC_NODE_PROFILE=debug  build without optimizations (faster to compile; or --debug)

const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const inCheckout = existsSync(join(root, 'Cargo.toml')) && existsSync(join(root, 'src', 'lib.rs'));

function tryLoad() {
  try {
    require(join(root, 'lib', 'native.js'));
    return null;
  } catch (e) {
    return e;
  }
}

if (!inCheckout || process.env.AUTHSEC_NODE_SKIP_BUILD) {
  const err = tryLoad();
  if (err) {
    console.error(err.message);
    process.exit(1);
  }
  process.exit(0);
}

const cli = join(root, 'node_modules', '@napi-rs', 'cli', 'dist', 'cli.js');
if (!existsSync(cli)) {
  console.error('@authsec/sdk: @napi-rs/cli is missing; run `npm ci` (devDependencies included) in bindings-node');
  process.exit(1);
}
const cargo = spawnSync('cargo', ['--version'], { stdio: 'ignore' });
if (cargo.status !== 0) {
  const err = tryLoad();
  if (!err) {
    console.error('@authsec/sdk: cargo not found; using the native module already built');
    process.exit(0);
  }
  console.error('@authsec/sdk: building the native module needs a Rust toolchain (https://rustup.rs): cargo was not found');
  process.exit(1);
}
const debug = process.env.AUTHSEC_NODE_PROFILE === 'debug' || process.argv.includes('--debug');
const release = debug ? [] : ['--release'];
const builds = [
  ['the native module', ['--dts', 'native.d.ts']],
  [
    'the testing module (the local server)',
    ['--manifest-path', 'testing/Cargo.toml', '--package-json-path', 'testing/package.json', '--dts', 'testing-native.d.ts'],
  ],
];
for (const [what, extra] of builds) {
  const args = [cli, 'build', '--platform', '--output-dir', 'native', '--no-js', '--no-dts-header', ...extra, ...release];
  console.error(`@authsec/sdk: building ${what} (napi build${release.length ? ' --release' : ''})`);
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
const err = tryLoad();
if (err) {
  console.error(err.message);
  process.exit(1);
}
