// An ES module Worker for Cloudflare's runtime (workerd), loading @authsec/wasm the way a Workers
// user does: the .wasm files arrive as WebAssembly.Module imports (Workers compile no wasm from
// bytes) and go to initSync() of the manual entry. wasm/test/workerd.test.mjs writes the workerd
// config (every module of this file's import graph, named by its path in the package) and drives
// its one route:
//   POST /vectors  body [[fileName, parsedVectorFile], ...]: the shared vector runner's tally, the
//                  WebCrypto verify calls per algorithm, and the Ed25519 names crypto.subtle takes
// (The README's Worker, examples/cloudflare-worker/worker.js, runs next to it in the same workerd.)
import wasm from '../../dist/authsec_wasm_bg.wasm';
import ed25519Fallback from '../../dist/ed25519_fallback.wasm';
import * as pkg from '../../manual.js';
import * as glue from '../../js/glue.js';
import { countWebCrypto, runVectors } from '../support/vector-runner.mjs';

const { initSync } = pkg;

// At startup, as a Worker would: no I/O, the modules are already compiled.
const moduleKinds = [wasm instanceof WebAssembly.Module, ed25519Fallback instanceof WebAssembly.Module];
initSync(wasm, { ed25519Fallback });
const webcrypto = countWebCrypto();

/** The Ed25519 algorithm names this runtime's WebCrypto imports a raw public key under. */
async function ed25519Names() {
  const raw = new Uint8Array(32);
  raw[0] = 1; // a valid point (the identity's encoding is 0x01 followed by zeros)
  const names = {};
  for (const alg of [{ name: 'Ed25519' }, { name: 'NODE-ED25519', namedCurve: 'NODE-ED25519' }]) {
    try {
      await crypto.subtle.importKey('raw', raw, alg, false, ['verify']);
      names[alg.name] = true;
    } catch (e) {
      names[alg.name] = `${e && e.name}: ${e && e.message}`;
    }
  }
  return names;
}

async function vectors(request) {
  const docs = await request.json();
  for (const k of Object.keys(webcrypto)) delete webcrypto[k];
  const t0 = Date.now();
  const tally = await runVectors({ pkg, glue, docs });
  return Response.json({
    files: docs.map(([file]) => file),
    ...tally,
    webcrypto: { ...webcrypto },
    ed25519: await ed25519Names(),
    modules: moduleKinds,
    sameGlue: pkg.AuthsecError === glue.AuthsecError,
    navigator: globalThis.navigator?.userAgent,
    ms: Date.now() - t0,
  });
}

export default {
  async fetch(request) {
    const { pathname } = new URL(request.url);
    try {
      if (pathname === '/vectors' && request.method === 'POST') return await vectors(request);
      return new Response('not found', { status: 404 });
    } catch (e) {
      return Response.json({ thrown: String(e && e.stack ? e.stack : e) }, { status: 500 });
    }
  },
};
