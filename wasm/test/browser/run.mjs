// The shared vectors in a browser: the page runs the suite (suite.mjs) itself, or with worker=1
// in a dedicated module Web Worker (as edge runtimes and off-main-thread verification do), and
// writes the outcome into <pre id="result"> as JSON and POSTs it to the test server's /result,
// where wasm/test/browser.test.mjs reads it.
//
// Query parameters: files=verify_a.json,verify_b.json (default: the six files of tests/vectors),
// entry=index|manual (which entry point of the package to load; default index), worker=1.
import { runSuite } from './suite.mjs';

// Outside a browser (e.g. a bare `node --test`, which picks up every file under test/), do nothing.
const out = globalThis.document?.getElementById('result');
const report = (obj) => {
  out.textContent = JSON.stringify(obj);
  // Over HTTP rather than --dump-dom: virtual time does not wait for WebCrypto or a worker, so a
  // dump could come before the suite ends.
  fetch('/result', { method: 'POST', body: JSON.stringify(obj), headers: { 'content-type': 'application/json' } });
};

function inWorker() {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(`./worker.mjs${location.search}`, import.meta.url), { type: 'module' });
    worker.onmessage = (m) => resolve(m.data);
    worker.onerror = (e) => reject(new Error(`the worker failed: ${e.message || e.type}`));
  });
}

if (out) {
  const params = new URLSearchParams(location.search);
  (params.get('worker') === '1' ? inWorker() : runSuite(location.search, 'page'))
    .then(report)
    .catch((e) => report({ state: 'error', error: String(e && e.stack ? e.stack : e), userAgent: navigator.userAgent }));
}
