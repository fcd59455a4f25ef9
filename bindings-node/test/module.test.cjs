// CommonJS and ESM load the same package (one addon, the same classes), and every value the type
// declarations promise exists at run time.
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { readFileSync } = require('node:fs');
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');

const cjs = require('@authsec/sdk');
const testing = require('@authsec/sdk/testing');
const mcp = require('@authsec/sdk/mcp');

function declared(file) {
  const text = readFileSync(join(__dirname, '..', file), 'utf8');
  const names = [...text.matchAll(/^export declare (?:class|function|const) (\w+)/gm)].map((m) => m[1]);
  // `export * from './x'` re-exports another declaration file's names.
  for (const m of text.matchAll(/^export \* from '\.\/(\w+)';/gm)) names.push(...declared(`${m[1]}.d.ts`));
  return names;
}

test('require() and import give the same module', async () => {
  const esm = await import('@authsec/sdk');
  assert.equal(esm.ClientCredentials, cjs.ClientCredentials);
  assert.equal(esm.Verifier, cjs.Verifier);
  assert.equal(esm.AuthsecError, cjs.AuthsecError);
  assert.equal(esm.default, cjs);
  assert.equal(cjs.default, cjs);
  const esmTesting = await import('@authsec/sdk/testing');
  assert.equal(esmTesting.ManualClock, testing.ManualClock);
  const esmMcp = await import('@authsec/sdk/mcp');
  assert.equal(esmMcp.McpServerAuth, mcp.McpServerAuth);
  assert.equal(esmMcp.default, mcp);
});

test('every declared export exists (index.d.ts, testing.d.ts, mcp.d.ts)', async () => {
  const esm = await import('@authsec/sdk');
  for (const name of declared('index.d.ts')) {
    assert.ok(name in cjs, `index.js lacks ${name}`);
    assert.ok(name in esm, `index.mjs lacks ${name}`);
  }
  for (const name of declared('testing.d.ts')) assert.ok(name in testing, `testing.js lacks ${name}`);
  const esmMcp = await import('@authsec/sdk/mcp');
  assert.deepEqual(declared('mcp.d.ts'), ['McpServerAuth', 'McpClientAuth', 'mcpFetch']);
  for (const name of declared('mcp.d.ts')) assert.ok(name in mcp && name in esmMcp, `mcp.js lacks ${name}`);
  assert.deepEqual(Object.keys(mcp).filter((k) => k !== 'default'), declared('mcp.d.ts'));
  const names = Object.keys(cjs).filter((k) => k !== 'default');
  assert.deepEqual(names.filter((n) => !(n in esm)), []);
  assert.deepEqual(names.filter((n) => !declared('index.d.ts').includes(n)), []);
});

test('the main entry neither exports nor loads the local server, nor the MCP SDK', () => {
  for (const name of ['startLocalServer', 'LocalServer']) {
    assert.ok(!(name in cjs), `index.js exports ${name}`);
    assert.ok(name in testing, `testing.js lacks ${name}`);
  }
  // In a fresh process: loading the package (CommonJS and ESM) loads the production addon only.
  const probe = `require('@authsec/sdk'); import('@authsec/sdk').then(() => console.log(JSON.stringify(Object.keys(require.cache))))`;
  const out = execFileSync(process.execPath, ['-e', probe], { cwd: join(__dirname, '..'), encoding: 'utf8', timeout: 30_000 });
  const loaded = JSON.parse(out);
  assert.ok(loaded.some((f) => /[\\/]authsec\.[^/\\]+\.node$/.test(f)), out);
  assert.deepEqual(loaded.filter((f) => /authsec-testing|[\\/]lib[\\/]server\.js$/.test(f)), []);
  // @authsec/sdk/mcp loads without the MCP SDK (its error classes are imported on first use).
  const probeMcp = `require('@authsec/sdk/mcp'); console.log(JSON.stringify(Object.keys(require.cache)))`;
  const mcpLoaded = JSON.parse(execFileSync(process.execPath, ['-e', probeMcp], { cwd: join(__dirname, '..'), encoding: 'utf8', timeout: 30_000 }));
  assert.deepEqual(mcpLoaded.filter((f) => /modelcontextprotocol/.test(f)), []);
});

test('the native module is private', () => {
  assert.throws(() => require('@authsec/sdk/lib/native.js'), { code: 'ERR_PACKAGE_PATH_NOT_EXPORTED' });
});
