#!/usr/bin/env node
// The npm packages' folders, for scripts/package.sh to `npm pack` (the napi-rs v3 layout: a main
// package whose optionalDependencies are one package per platform, each holding one .node file
// and naming its os, cpu and libc so that npm installs only the one that fits).
//
//   package-npm.mjs platform <dir> <name> <version> <os> <cpu> <libc|-> <file.node>
//       writes <dir>/package.json for a platform package holding <dir>/<file.node>
//   package-npm.mjs main <package dir> <dest> <version> <platform>...
//       copies @authsec/sdk's published files (package.json "files") to <dest>, with
//       optionalDependencies on @authsec/sdk-<platform> at <version> (what `napi pre-publish` adds),
//       without the scripts (the build-from-source install hook) and the devDependencies
//   package-npm.mjs testing <dest> <version> <platform>...
//       writes @authsec/sdk-testing: the loader of the local server's platform packages
//       (@authsec/sdk-testing-<platform>), a dev dependency for projects that test with it

import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const sdk = JSON.parse(readFileSync(join(root, 'bindings-node', 'package.json'), 'utf8'));
const common = { license: sdk.license, repository: sdk.repository, engines: sdk.engines };

function write(dir, pkg) {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
}

function exactVersion(version) {
  if (version !== sdk.version) {
    throw new Error(`package-npm: version ${version} is not bindings-node/package.json's ${sdk.version} (scripts/versions.py --check)`);
  }
  return version;
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'platform') {
  const [dir, name, version, os, cpu, libc, file] = args;
  if (!existsSync(join(dir, file))) throw new Error(`package-npm: ${join(dir, file)} is missing`);
  write(dir, {
    name,
    version: exactVersion(version),
    description: `The ${os}-${cpu}${libc === '-' ? '' : ` (${libc})`} native module of ${name.replace(/-[^-]+-[^-]+(-[^-]+)?$/, '')}, installed by it as an optional dependency.`,
    ...common,
    os: [os],
    cpu: [cpu],
    ...(libc === '-' ? {} : { libc: [libc] }),
    main: file,
    files: [file],
  });
} else if (mode === 'main') {
  const [pkgDir, dest, version, ...platforms] = args;
  const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  mkdirSync(dest, { recursive: true });
  // The published files, minus the checkout's build outputs (native/*.node) and build script.
  for (const entry of [...pkg.files, 'README.md']) {
    if (entry.startsWith('native/') || entry === 'scripts/install.js') continue;
    cpSync(join(pkgDir, entry), join(dest, entry), { recursive: true });
  }
  // The checkout's scripts (the build-from-source install hook above all) and dev dependencies are
  // for the repository, not for users.
  delete pkg.scripts;
  delete pkg.devDependencies;
  pkg.files = pkg.files.filter((f) => !f.startsWith('native/') && f !== 'scripts/install.js');
  pkg.version = exactVersion(version);
  pkg.optionalDependencies = Object.fromEntries(platforms.map((p) => [`${pkg.name}-${p}`, version]));
  write(dest, pkg);
} else if (mode === 'testing') {
  const [dest, version, ...platforms] = args;
  write(dest, {
    name: '@authsec/sdk-testing',
    version: exactVersion(version),
    description:
      'The local OAuth 2.0 authorization server behind @authsec/sdk/testing (a native module per platform). Add it as a dev dependency next to @authsec/sdk.',
    ...common,
    main: 'index.js',
    files: ['index.js'],
    peerDependencies: { '@authsec/sdk': version },
    optionalDependencies: Object.fromEntries(platforms.map((p) => [`@authsec/sdk-testing-${p}`, version])),
  });
  writeFileSync(
    join(dest, 'index.js'),
    `'use strict';
// The local authorization server's native module for this platform, from the platform package npm
// installed with this one. @authsec/sdk/testing calls it with its platform name; not an API.
module.exports = (platform) => require(\`@authsec/sdk-testing-\${platform}\`);
`,
  );
} else {
  console.error('usage: package-npm.mjs platform|main|testing ... (see the top of the file)');
  process.exit(2);
}
