// An application bundled by Vite that uses @authsec/wasm the way a browser app would: imported by
// package name (the test links the package into the app's node_modules), no init call (index.js
// loads its module with top-level await). The shared vectors come in as JSON imports; the outcome
// goes into <pre id="result"> and is POSTed to /result for wasm/test/bundler.test.mjs, which built
// this app.
import * as pkg from '@authsec/wasm';
// The package's glue, for the Ed25519 fallback switch of the runner: resolved by the test to the
// very file the package imports, so it is the same module instance.
import * as glue from 'authsec-glue';
import { countWebCrypto, runVectors } from './vector-runner.mjs';

const out = document.getElementById('result');
const webcrypto = countWebCrypto();
// Every vector file the test copied next to this one, bundled as JSON.
const docs = Object.entries(import.meta.glob('./vectors/verify_*.json', { eager: true, import: 'default' }))
  .map(([path, doc]) => [path.split('/').pop(), doc])
  .sort(([a], [b]) => (a < b ? -1 : 1));
const report = (obj) => {
  out.textContent = JSON.stringify(obj);
  fetch('/result', { method: 'POST', body: JSON.stringify(obj), headers: { 'content-type': 'application/json' } });
};
runVectors({ pkg, glue, docs }).then(
  (tally) => report({ state: 'done', ...tally, webcrypto, userAgent: navigator.userAgent }),
  (e) => report({ state: 'error', error: String(e && e.stack ? e.stack : e) }),
);
