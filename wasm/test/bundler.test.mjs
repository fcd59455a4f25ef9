// @authsec/wasm in a bundled browser app: Vite (a devDependency) builds test/bundler/ (the package
// imported by name from the app's node_modules, where the test links it; the shared vectors as
// JSON imports), the build is served on 127.0.0.1, and headless Chromium runs it. Proves that a
// bundler finds both .wasm files (they are emitted as assets, and the page loads them from there,
// not from the package), that the top-level-await entry survives bundling, and that every vector
// passes, the EdDSA ones on the Rust fallback too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { startStaticServer } from './support/static-server.mjs';
import { findChromium, loadUntil } from './support/chromium.mjs';
import { VECTORS_DIR, vectorFiles } from './support/vector-files.mjs';

const WASM = fileURLToPath(new URL('../', import.meta.url));
const { files, cases, eddsaCases } = vectorFiles();
const chromium = findChromium();
let dir;
let server;
let assets;

before(async () => {
  assert.ok(chromium, 'no Chromium found: run wasm/test.sh (installs Debian\'s chromium) or set AUTHSEC_CHROMIUM');
  // The app, as a user's project: its sources, and the package under node_modules/@authsec/wasm.
  dir = mkdtempSync(join(tmpdir(), 'authsec-wasm-vite-'));
  const app = join(dir, 'app');
  cpSync(join(WASM, 'test', 'bundler'), app, { recursive: true });
  cpSync(join(WASM, 'test', 'support', 'vector-runner.mjs'), join(app, 'vector-runner.mjs'));
  mkdirSync(join(app, 'vectors'));
  for (const f of files) cpSync(join(VECTORS_DIR, f), join(app, 'vectors', f));
  mkdirSync(join(app, 'node_modules', '@authsec'), { recursive: true });
  symlinkSync(WASM, join(app, 'node_modules', '@authsec', 'wasm'), 'dir');
  const out = join(dir, 'out');
  await build({
    root: app,
    configFile: false,
    logLevel: 'error',
    resolve: { alias: { 'authsec-glue': realpathSync(join(WASM, 'js', 'glue.js')) } },
    build: { outDir: out, emptyOutDir: true },
  });
  assets = readdirSync(join(out, 'assets'));
  server = await startStaticServer({ root: out, allowed: ['index.html', 'assets/'] });
});

after(async () => {
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('a Vite build of an app on @authsec/wasm emits both .wasm files and passes every vector in Chromium', { timeout: 180_000 }, async () => {
  const wasmAssets = assets.filter((a) => a.endsWith('.wasm')).sort();
  assert.equal(wasmAssets.length, 2, `want the module and the Ed25519 fallback as assets: ${assets}`);
  assert.match(wasmAssets.join(' '), /authsec_wasm_bg-[\w-]+\.wasm/);
  assert.match(wasmAssets.join(' '), /ed25519_fallback-[\w-]+\.wasm/);

  const result = await loadUntil(chromium, `${server.origin}/index.html`, server.nextResult());
  assert.equal(result.state, 'done', `the app did not finish: ${JSON.stringify(result).slice(0, 4000)}`);
  assert.deepEqual(result.failures, [], 'failing vectors');
  assert.equal(result.total, cases);
  assert.equal(result.passed, cases);
  assert.deepEqual(result.fallback.failures, [], 'failing EdDSA vectors on the Rust fallback');
  assert.equal(result.fallback.total, eddsaCases);
  assert.equal(result.fallback.passed, eddsaCases);
  assert.ok(result.webcrypto.Ed25519 > 0, `WebCrypto Ed25519 was not used: ${JSON.stringify(result.webcrypto)}`);
  // Both modules came from the build's assets (the fallback loaded on first need).
  for (const a of wasmAssets) {
    const r = server.requests.find((q) => q.path === `/assets/${a}`);
    assert.ok(r, `the app did not fetch ${a}`);
    assert.equal(r.status, 200);
  }
  assert.ok(
    server.requests.every(
      (q) => q.status === 200 || q.path === '/favicon.ico' || (q.method === 'POST' && q.path === '/result' && q.status === 204),
    ),
    JSON.stringify(server.requests),
  );
  console.log(
    `vite build: ${assets.length} assets (${wasmAssets.join(', ')}); ${result.passed}/${result.total} vectors passed, ` +
      `${result.fallback.passed}/${result.fallback.total} EdDSA on the Rust fallback`,
  );
});
