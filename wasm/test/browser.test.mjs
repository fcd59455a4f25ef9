// The shared vectors (tests/vectors) in headless Chromium: a static server on 127.0.0.1 serves the
// package, the test page (test/browser/) and the vector files; Chromium loads the page, which
// POSTs its outcome to the server's /result, asserted here.
// Chromium is Debian's `chromium` package (wasm/test.sh installs it when missing).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStaticServer } from './support/static-server.mjs';
import { findChromium, chromiumVersion, loadUntil } from './support/chromium.mjs';
import { vectorFiles } from './support/vector-files.mjs';

const { files, cases, eddsaCases } = vectorFiles();

const chromium = findChromium();
let server;

before(async () => {
  assert.ok(chromium, 'no Chromium found: run wasm/test.sh (installs Debian\'s chromium) or set AUTHSEC_CHROMIUM');
  console.log(`browser: ${chromiumVersion(chromium)} (${chromium})`);
  server = await startStaticServer();
});

after(async () => {
  await server?.close();
});

async function runPage(entry, worker) {
  const url = `${server.origin}/wasm/test/browser/?entry=${entry}&files=${files.join(',')}${worker ? '&worker=1' : ''}`;
  const before = server.requests.length;
  const result = await loadUntil(chromium, url, server.nextResult());
  return { result, requests: server.requests.slice(before) };
}

for (const [entry, worker] of [['index', false], ['manual', false], ['index', true]]) {
  const where = worker ? ', in a Web Worker' : '';
  test(`every shared vector passes in headless Chromium (${entry}.js${where})`, { timeout: 180_000 }, async () => {
    const { result, requests } = await runPage(entry, worker);
    assert.equal(result.state, 'done', `the page did not finish: ${JSON.stringify(result).slice(0, 4000)}`);
    // In a dedicated worker: no DOM, the package loaded and ran there.
    assert.equal(result.context, worker ? 'worker' : 'page');
    assert.equal(result.hasDocument, !worker);
    if (worker) assert.ok(requests.some((r) => r.path.startsWith('/wasm/test/browser/worker.mjs?') && r.status === 200), 'the worker script was served');
    // It ran in a real browser, on the bytes this server handed out.
    assert.match(result.userAgent, /HeadlessChrome\/\d+/);
    const wasm = requests.find((r) => r.path === '/wasm/dist/authsec_wasm_bg.wasm');
    assert.ok(wasm, 'the browser fetched the .wasm from the test server');
    assert.equal(wasm.status, 200);
    assert.equal(wasm.type, 'application/wasm');
    for (const f of files) {
      assert.ok(requests.some((r) => r.path === `/tests/vectors/${f}` && r.status === 200), `the page fetched ${f}`);
    }
    assert.deepEqual(result.files, files);
    assert.equal(result.entry, entry);
    // Every case, each first sight and again from the cache.
    assert.deepEqual(result.failures, [], 'failing vectors');
    // The redirecting JWKS URL: asked once, its target never.
    assert.equal(result.redirect.rejected, true, JSON.stringify(result.redirect));
    assert.equal(result.redirect.authsecError, true);
    assert.equal(result.redirect.code, 'jwks_unavailable', JSON.stringify(result.redirect));
    assert.match(result.redirect.message, /redirect/);
    assert.equal(requests.filter((r) => r.path === '/redirect-jwks').length, 1);
    assert.ok(!requests.some((r) => r.path === '/tests/vectors/keys.json'), 'the redirect was followed');
    assert.equal(result.total, cases);
    assert.equal(result.passed, cases);
    assert.equal(result.failed, 0);
    // The Ed25519 checks ran on Chromium's WebCrypto, and the Rust fallback agrees on every EdDSA case.
    assert.ok(result.webcrypto.Ed25519 > 0, `WebCrypto Ed25519 was not used: ${JSON.stringify(result.webcrypto)}`);
    for (const name of ['RSASSA-PKCS1-v1_5', 'RSA-PSS', 'ECDSA']) {
      assert.ok(result.webcrypto[name] > 0, `WebCrypto ${name} was not used`);
    }
    assert.deepEqual(result.fallback.failures, [], 'failing EdDSA vectors on the Rust fallback');
    assert.equal(result.fallback.total, eddsaCases);
    assert.equal(result.fallback.passed, eddsaCases);
    console.log(
      `browser (${entry}.js${where}): ${result.passed}/${result.total} vectors passed, ` +
        `${result.fallback.passed}/${result.fallback.total} EdDSA on the Rust fallback; ` +
        `WebCrypto verify calls ${JSON.stringify(result.webcrypto)}; ${result.userAgent}`,
    );
  });
}
