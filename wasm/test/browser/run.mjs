// The shared vectors in a browser: every case first sight and again from the verified-token
// cache (as wasm/test/vectors.test.mjs does under Node), then the EdDSA cases once more with
// WebCrypto's Ed25519 switched off (the Rust fallback). The outcome goes into <pre id="result">
// as JSON: { state: "done", passed, failed, total, failures, fallback, webcrypto, userAgent, ... }.
//
// Query parameters: files=verify_a.json,verify_b.json (default: the six files of tests/vectors),
// entry=index|manual (which entry point of the package to load; default index).

// Outside a browser (e.g. a bare `node --test`, which picks up every file under test/), do nothing.
const out = globalThis.document?.getElementById('result');
const report = (obj) => {
  out.textContent = JSON.stringify(obj);
};

// Count the WebCrypto verifications per algorithm, so the result shows which checks really ran
// on the browser's crypto.subtle (Ed25519 included) rather than on the Rust fallback.
const webcrypto = {};
if (out && globalThis.SubtleCrypto) {
  const verify = SubtleCrypto.prototype.verify;
  SubtleCrypto.prototype.verify = function (alg, ...rest) {
    const name = typeof alg === 'string' ? alg : alg && alg.name;
    webcrypto[name] = (webcrypto[name] || 0) + 1;
    return verify.call(this, alg, ...rest);
  };
}

const DEFAULT_FILES = [
  'verify_algorithms.json',
  'verify_attacks.json',
  'verify_claims.json',
  'verify_config.json',
  'verify_scopes.json',
  'verify_structure.json',
];

// Key order does not matter in claims; arrays keep theirs.
function canonical(v) {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

async function main() {
  const t0 = performance.now();
  const params = new URLSearchParams(location.search);
  const files = (params.get('files') || DEFAULT_FILES.join(',')).split(',').filter(Boolean);
  const entry = params.get('entry') === 'manual' ? 'manual' : 'index';

  const pkg = await import(entry === 'manual' ? '../../manual.js' : '../../index.js');
  if (entry === 'manual') await pkg.init();
  // The same module instance the package's wasm imports (dist/snippets re-exports js/glue.js).
  const glue = await import('../../js/glue.js');
  const { Verifier, AuthsecError, errorCodes, decode } = pkg;
  if (pkg.AuthsecError !== glue.AuthsecError) throw new Error('two AuthsecError classes are loaded');
  const codes = new Set(errorCodes().map((c) => c.code));

  async function outcome(run) {
    try {
      return { claims: { ...(await run()) } };
    } catch (e) {
      if (!(e instanceof AuthsecError)) throw e;
      if (!(e instanceof Error)) throw new Error('an AuthsecError that is not an Error');
      if (!codes.has(e.code)) throw new Error(`${e.code} is not a stable code`);
      return { error: e.code, missing_scopes: e.missingScopes ? [...e.missingScopes] : [] };
    }
  }

  function mismatch(expect, got) {
    if (expect.claims !== undefined) {
      return got.claims !== undefined && canonical(got.claims) === canonical(expect.claims)
        ? null
        : `want claims ${canonical(expect.claims)}, got ${canonical(got)}`;
    }
    if (got.error !== expect.error) return `want ${expect.error}, got ${canonical(got)}`;
    if (expect.missing_scopes !== undefined && canonical(got.missing_scopes) !== canonical(expect.missing_scopes)) {
      return `want missing_scopes ${canonical(expect.missing_scopes)}, got ${canonical(got.missing_scopes)}`;
    }
    return null;
  }

  async function runCase(doc, c) {
    const jwks = typeof c.jwks === 'string' ? doc.jwks[c.jwks] : c.jwks;
    const { now, ...opts } = c.options;
    const scopes = c.required_scopes
      ? { requiredScopes: c.required_scopes.all_of, anyScopes: c.required_scopes.any_of }
      : undefined;
    let verifier;
    const built = await outcome(() => {
      verifier = new Verifier({ ...opts, jwks }, { nowMs: now * 1000 });
      return {};
    });
    if (built.error !== undefined) return mismatch(c.expect, built);
    try {
      const first = await outcome(() => verifier.verify(c.token, scopes));
      const bad = mismatch(c.expect, first);
      if (bad) return bad;
      const again = await outcome(() => verifier.verify(c.token, scopes));
      if (canonical(again) !== canonical(first)) return `second verify differs: ${canonical(again)}`;
      return null;
    } finally {
      verifier.free();
    }
  }

  const isEdDSA = (token) => {
    try {
      return decode(token).header.alg === 'EdDSA';
    } catch {
      return false;
    }
  };

  const docs = [];
  for (const f of files) {
    const res = await fetch(`../../../tests/vectors/${f}`);
    if (!res.ok) throw new Error(`GET ${f}: HTTP ${res.status}`);
    docs.push([f, await res.json()]);
  }

  const main = { passed: 0, failed: 0, total: 0, failures: [] };
  const fallback = { passed: 0, failed: 0, total: 0, failures: [] };
  for (const [useFallback, tally] of [[false, main], [true, fallback]]) {
    for (const [file, doc] of docs) {
      for (const c of doc.cases) {
        if (useFallback && !isEdDSA(c.token)) continue;
        tally.total++;
        glue._setUnsupported(useFallback ? ['EdDSA'] : []);
        let why;
        try {
          why = await runCase(doc, c);
        } catch (e) {
          why = `threw ${e && e.stack ? e.stack : e}`;
        } finally {
          glue._setUnsupported([]);
        }
        if (why) {
          tally.failed++;
          tally.failures.push({ file, name: c.name, why });
        } else {
          tally.passed++;
        }
      }
    }
  }

  report({
    state: 'done',
    entry,
    files,
    ...main,
    fallback,
    webcrypto,
    userAgent: navigator.userAgent,
    secureContext: globalThis.isSecureContext,
    ms: Math.round(performance.now() - t0),
  });
}

if (out) {
  main().catch((e) => report({ state: 'error', error: String(e && e.stack ? e.stack : e), userAgent: navigator.userAgent }));
}
