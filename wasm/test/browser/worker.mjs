// A dedicated module Web Worker (no DOM, no window): runs the browser suite and posts the outcome.
import { runSuite } from './suite.mjs';

if (typeof globalThis.WorkerGlobalScope !== 'undefined') {
  runSuite(location.search, 'worker').then(
    (result) => postMessage(result),
    (e) => postMessage({ state: 'error', context: 'worker', error: String(e && e.stack ? e.stack : e) }),
  );
}
