// The browser suite, the same in a page and in a Web Worker: load the package through the chosen
// entry point, fetch the vector files from the test server, run them all (support/vector-runner.mjs)
// and resolve to the outcome the test reads back: { state: "done", passed, failed, total,
// failures, fallback, webcrypto, userAgent, context, ... }.
import { VECTOR_FILES, countWebCrypto, runVectors } from '../support/vector-runner.mjs';

export async function runSuite(search, context) {
  const t0 = performance.now();
  const params = new URLSearchParams(search);
  const files = (params.get('files') || VECTOR_FILES.join(',')).split(',').filter(Boolean);
  const entry = params.get('entry') === 'manual' ? 'manual' : 'index';
  const webcrypto = countWebCrypto();

  const pkg = await import(entry === 'manual' ? '../../manual.js' : '../../index.js');
  if (entry === 'manual') await pkg.init();
  // The same module instance the package's wasm imports (dist/snippets re-exports js/glue.js).
  const glue = await import('../../js/glue.js');

  const docs = [];
  for (const f of files) {
    const res = await fetch(new URL(`../../../tests/vectors/${f}`, import.meta.url));
    if (!res.ok) throw new Error(`GET ${f}: HTTP ${res.status}`);
    docs.push([f, await res.json()]);
  }
  const tally = await runVectors({ pkg, glue, docs });

  // A JWKS URL answering 302: browsers hand fetch(redirect: 'manual') an opaque redirect, which
  // must fail the fetch (jwks_unavailable), never be followed.
  const redirect = await (async () => {
    const v = new pkg.Verifier({ issuer: 'https://issuer.test', audience: 'api', jwksUri: new URL('/redirect-jwks', location.href).href });
    try {
      await v.verify(docs[0][1].cases[0].token);
      return { rejected: false };
    } catch (e) {
      return { rejected: true, authsecError: e instanceof pkg.AuthsecError, code: e.code, message: e.message };
    } finally {
      v.free();
    }
  })();
  return {
    state: 'done',
    context,
    entry,
    files,
    ...tally,
    redirect,
    webcrypto,
    userAgent: navigator.userAgent,
    secureContext: globalThis.isSecureContext,
    hasDocument: typeof globalThis.document !== 'undefined',
    ms: Math.round(performance.now() - t0),
  };
}
