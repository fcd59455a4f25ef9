// The shared vectors (tests/vectors/verify_*.json) through a loaded @authsec/wasm, in any runtime:
// browsers (page and Web Worker), Deno, Cloudflare's workerd. No DOM, no Node.js API. Every case
// first sight and again from the verified-token cache (as wasm/test/vectors.test.mjs does under
// Node's test runner), then the EdDSA cases once more with WebCrypto's Ed25519 switched off (the
// Rust fallback). Callers report the tally their own way.

export const VECTOR_FILES = [
  'verify_algorithms.json',
  'verify_attacks.json',
  'verify_claims.json',
  'verify_config.json',
  'verify_delegation.json',
  'verify_scopes.json',
  'verify_structure.json',
];

/** Count the WebCrypto verifications per algorithm from now on, so a result shows which checks
 * really ran on the runtime's crypto.subtle (Ed25519 included) rather than on the Rust fallback.
 * Returns the live counts object. */
export function countWebCrypto() {
  const counts = {};
  const proto = globalThis.SubtleCrypto?.prototype ?? Object.getPrototypeOf(globalThis.crypto.subtle);
  const verify = proto.verify;
  proto.verify = function (alg, ...rest) {
    const name = typeof alg === 'string' ? alg : alg && alg.name;
    counts[name] = (counts[name] || 0) + 1;
    return verify.call(this, alg, ...rest);
  };
  return counts;
}

// Key order does not matter in claims; arrays keep theirs.
export function canonical(v) {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** Run `docs` ([[fileName, parsedVectorFile], ...]) through `pkg` (the package's entry module,
 * initialised) and `glue` (its js/glue.js, for the fallback switch). Resolves to
 * { passed, failed, total, failures, fallback: { passed, failed, total, failures } }. */
export async function runVectors({ pkg, glue, docs }) {
  if (pkg.AuthsecError !== glue.AuthsecError) throw new Error('two AuthsecError classes are loaded');
  const { runCase, isEdDSA } = caseRunner(pkg);

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
  return { ...main, fallback };
}

/** The chain a verified claims object reports (`claims.delegation`), as the vectors spell it:
 * `[{sub, client_id, iss}]`, current actor first, members the token lacks left out. */
function chainOf(claims) {
  if (!Array.isArray(claims.delegation)) throw new Error('the claims carry no delegation array');
  return claims.delegation.map(({ sub, clientId, iss }) =>
    Object.fromEntries(Object.entries({ sub, client_id: clientId, iss }).filter(([, v]) => v !== undefined)),
  );
}

/** One case at a time, for runners with their own reporting (wasm/test/vectors.test.mjs):
 * `runCase(doc, case, record?)` resolves to null when the outcome is the vector's (first sight and
 * again from the cache), else to what differed, after passing the first outcome (`{claims,
 * delegation}` or `{error, missing_scopes}`) to `record` when given; `isEdDSA(token)`. */
export function caseRunner(pkg) {
  const { Verifier, AuthsecError, errorCodes, decode } = pkg;
  const codes = new Set(errorCodes().map((c) => c.code));

  async function outcome(run) {
    try {
      const claims = await run();
      return { claims: { ...claims }, delegation: chainOf(claims) };
    } catch (e) {
      if (!(e instanceof AuthsecError)) throw e;
      if (!(e instanceof Error)) throw new Error('an AuthsecError that is not an Error');
      if (!codes.has(e.code)) throw new Error(`${e.code} is not a stable code`);
      return { error: e.code, missing_scopes: e.missingScopes ? [...e.missingScopes] : [] };
    }
  }

  function mismatch(expect, got) {
    if (expect.claims !== undefined) {
      if (got.claims === undefined || canonical(got.claims) !== canonical(expect.claims)) {
        return `want claims ${canonical(expect.claims)}, got ${canonical(got)}`;
      }
      if (expect.delegation !== undefined && canonical(got.delegation) !== canonical(expect.delegation)) {
        return `want delegation ${canonical(expect.delegation)}, got ${canonical(got.delegation)}`;
      }
      return null;
    }
    if (got.error !== expect.error) return `want ${expect.error}, got ${canonical(got)}`;
    if (expect.missing_scopes !== undefined && canonical(got.missing_scopes) !== canonical(expect.missing_scopes)) {
      return `want missing_scopes ${canonical(expect.missing_scopes)}, got ${canonical(got.missing_scopes)}`;
    }
    return null;
  }

  async function runCase(doc, c, record) {
    const jwks = typeof c.jwks === 'string' ? doc.jwks[c.jwks] : c.jwks;
    const { now, ...opts } = c.options;
    const scopes = c.required_scopes
      ? { requiredScopes: c.required_scopes.all_of, anyScopes: c.required_scopes.any_of }
      : undefined;
    let verifier;
    try {
      verifier = new Verifier({ ...opts, jwks }, { nowMs: now * 1000 });
    } catch (e) {
      const built = await outcome(() => {
        throw e;
      });
      record?.(built);
      return mismatch(c.expect, built);
    }
    try {
      const first = await outcome(() => verifier.verify(c.token, scopes));
      record?.(first);
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

  return { runCase, isEdDSA };
}
