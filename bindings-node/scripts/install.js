#!/usr/bin/env node
'use strict';
// `npm install` hook: in a checkout (a Cargo.toml next to package.json) build both addons: the
// production one (native/authsec.<platform>.node, the package's main entry) and the testing one
// (native/authsec-testing.<platform>.node: the local server, for @authsec/sdk/testing). Cargo is
// incremental, so a rebuild with nothing changed takes seconds. In an installed package, only
// check that a prebuilt production binary loads.
//   AUTHSEC_NODE_SKIP_BUILD=1       skip the build (use the binaries already in native/)
//   AUTHSEC_CARGO_PROFILE=<name>    build in this cargo profile (default release; scripts/test.sh: ci)
//   AUTHSEC_NODE_PROFILE=debug      the dev profile (faster to compile; or --debug)

const { spawnSync } = require('node:child_process');
const { copyFileSync, existsSync, mkdirSync } = require('node:fs');
const { join } = require('node:path');
const { platformName } = require('../lib/load');

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
// Each addon in a cargo invocation of its own (so the testing addon's features, such as the
// fake Workload API, never reach the production addon through feature unification), in the
// workspace's target directory: with the profile the rest of a test run uses
// (AUTHSEC_CARGO_PROFILE), the build reuses every dependency it compiled. Plain cargo rather than
// `napi build`, which always passes --target (a target directory of its own) and forces a rebuild
// of the napi crates for its type definitions (unused here).
const debug = process.env.AUTHSEC_NODE_PROFILE === 'debug' || process.argv.includes('--debug');
const profile = process.env.AUTHSEC_CARGO_PROFILE || (debug ? 'dev' : 'release');
console.error(`@authsec/sdk: building the native modules (cargo build --profile ${profile})`);
mkdirSync(join(root, 'native'), { recursive: true });
for (const [pkg, crate, binary] of [
  ['authsec-node', 'authsec_node', 'authsec'],
  ['authsec-node-testing', 'authsec_node_testing', 'authsec-testing'],
]) {
  const build = spawnSync('cargo', ['build', '--locked', '--profile', profile, '-p', pkg, '--message-format', 'json-render-diagnostics'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (build.status !== 0) process.exit(build.status ?? 1);
  // The cdylib cargo reports, copied to where lib/load.js looks for it.
  let built = null;
  for (const line of build.stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const m = JSON.parse(line);
    if (m.reason === 'compiler-artifact' && m.target.kind.includes('cdylib') && m.target.name === crate) built = m.filenames[0];
  }
  if (built === null) {
    console.error(`@authsec/sdk: cargo built no ${crate} library`);
    process.exit(1);
  }
  copyFileSync(built, join(root, 'native', `${binary}.${platformName()}.node`));
}
const err = tryLoad();
if (err) {
  console.error(err.message);
  process.exit(1);
}
