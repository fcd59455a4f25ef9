// @authsec/wasm under Deno, run by wasm/test/deno.test.mjs (`deno run --no-config --no-lock
// --allow-read=<repo>/wasm,<repo>/tests/vectors [--allow-net=127.0.0.1:<port>] run.mjs [options]`).
// Imports the package's auto-initialising entry (index.js) as a Deno user would, runs the shared
// vectors (tests/vectors/verify_*.json) through the shared runner (support/vector-runner.mjs), then,
// when given a JWKS URL and a token, verifies that token against the remote JWKS over Deno's fetch
// and shows an insufficient-scope rejection. Prints ONE line of JSON on stdout; exits 0 whenever
// the line was printed (the caller asserts on its content), 1 on a crash (stack on stderr).
//
// Options (all or none of the first four): --jwks-uri=URL --issuer=ISS --audience=AUD --token=JWT
// --required-scope=S (repeatable: the scopes the token is verified with; default none)
// --missing-scope=S (a scope the token lacks, for the insufficient_scope check; default admin)
// --files=verify_a.json,verify_b.json (default: the runner's VECTOR_FILES)
import { VECTOR_FILES, countWebCrypto, runVectors } from '../support/vector-runner.mjs';

const t0 = performance.now();

function parseArgs(args) {
  const opts = { requiredScopes: [], missingScope: 'admin' };
  for (const arg of args) {
    const m = /^--([a-z-]+)=(.*)$/s.exec(arg);
    if (!m) throw new Error(`unknown argument ${JSON.stringify(arg)}`);
    const [, key, value] = m;
    if (key === 'jwks-uri') opts.jwksUri = value;
    else if (key === 'issuer') opts.issuer = value;
    else if (key === 'audience') opts.audience = value;
    else if (key === 'token') opts.token = value;
    else if (key === 'required-scope') opts.requiredScopes.push(value);
    else if (key === 'missing-scope') opts.missingScope = value;
    else if (key === 'files') opts.files = value.split(',').filter(Boolean);
    else throw new Error(`unknown option --${key}`);
  }
  const remote = ['jwksUri', 'issuer', 'audience', 'token'].filter((k) => opts[k] !== undefined);
  if (remote.length && remote.length !== 4) throw new Error('--jwks-uri, --issuer, --audience and --token go together');
  return opts;
}

/** What a rejection looked like, with the checks an AuthsecError must pass. */
function describeError(e, AuthsecError) {
  return {
    isAuthsecError: e instanceof AuthsecError,
    isError: e instanceof Error,
    name: e?.name,
    code: e?.code,
    httpStatus: e?.httpStatus,
    missingScopes: e?.missingScopes ? [...e.missingScopes] : undefined,
    message: typeof e?.message === 'string' ? e.message : String(e),
  };
}

const opts = parseArgs(Deno.args);

// Every fetch the package makes from here on (the JWKS over Deno's fetch), by URL.
const fetches = [];
const realFetch = globalThis.fetch;
globalThis.fetch = function (input, init) {
  fetches.push(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
  return realFetch.call(this, input, init);
};

const webcrypto = countWebCrypto();
const tLoad = performance.now();
const pkg = await import('../../index.js');
const loadMs = Math.round(performance.now() - tLoad);
// The same module instance the package's wasm imports (dist/snippets re-exports js/glue.js).
const glue = await import('../../js/glue.js');

const files = opts.files ?? VECTOR_FILES;
const docs = [];
for (const f of files) {
  const text = await Deno.readTextFile(new URL(`../../../tests/vectors/${f}`, import.meta.url));
  docs.push([f, JSON.parse(text)]);
}
const tVectors = performance.now();
const tally = await runVectors({ pkg, glue, docs });
const vectorsMs = Math.round(performance.now() - tVectors);
const vectorFetches = fetches.slice();
const vectorWebcrypto = { ...webcrypto };

let remote;
if (opts.token !== undefined) {
  const { Verifier, AuthsecError } = pkg;
  const tRemote = performance.now();
  remote = {};
  const verifier = new Verifier({ issuer: opts.issuer, audience: opts.audience, jwksUri: opts.jwksUri });
  // A scope the token does not grant: insufficient_scope (403), first sight (the JWKS fetch and the
  // signature check happen first) and again once the token is in the verified-token cache.
  const insufficient = async () => {
    try {
      await verifier.verify(opts.token, { requiredScopes: [...opts.requiredScopes, opts.missingScope] });
      return { rejected: false };
    } catch (e) {
      return { rejected: true, ...describeError(e, AuthsecError) };
    }
  };
  try {
    remote.insufficientScope = [await insufficient()];
    try {
      const claims = await verifier.verify(opts.token, { requiredScopes: opts.requiredScopes });
      remote.verified = { ...claims };
    } catch (e) {
      remote.verifyError = describeError(e, AuthsecError);
    }
    try {
      remote.again = (await verifier.verify(opts.token)).jti;
    } catch (e) {
      remote.againError = describeError(e, AuthsecError);
    }
    remote.insufficientScope.push(await insufficient());
    remote.cachedTokens = verifier.cachedTokens;
  } finally {
    verifier.free();
  }
  remote.fetches = fetches.slice(vectorFetches.length);
  remote.webcrypto = Object.fromEntries(
    Object.entries(webcrypto).map(([k, n]) => [k, n - (vectorWebcrypto[k] ?? 0)]).filter(([, n]) => n > 0),
  );
  remote.ms = Math.round(performance.now() - tRemote);
}

console.log(
  JSON.stringify({
    state: 'done',
    entry: 'index',
    files,
    ...tally,
    webcrypto: vectorWebcrypto,
    vectorFetches,
    remote,
    deno: Deno.version,
    build: { os: Deno.build.os, arch: Deno.build.arch },
    // How index.js got its .wasm: Deno has Node's process global (bytes through fs) or not (fetch of
    // a file: URL).
    processGetBuiltinModule: typeof globalThis.process?.getBuiltinModule === 'function',
    exports: Object.keys(pkg).sort(),
    loadMs,
    vectorsMs,
    ms: Math.round(performance.now() - t0),
  }),
);
